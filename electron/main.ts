// Electron's entry (built to dist/electron/main.cjs by scripts/build-electron.mjs). Passes the real
// Electron to app.ts and decides what the engine runs: the config file given on the command line
// (watched, so edits saved elsewhere reload), otherwise the bundled demo.
//   electron dist/electron/main.cjs [envoy.yaml] [--dev]

import * as electron from 'electron';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runApp } from './app';
import { forkLauncher, utilityLauncher } from './launchers';

// dist/electron/main.cjs → the app's root (the repository, or resources/app when packaged).
const root = resolve(__dirname, '..', '..');
const entry = join(root, 'bin', 'meshdeck.mjs');
const argv = process.argv.slice(electron.app.isPackaged ? 1 : 2);
const isDev = !electron.app.isPackaged || argv.includes('--dev');
const configPath = argv.find((a) => !a.startsWith('-') && /\.(ya?ml|json)$/i.test(a));

// MESHDECK_ENGINE_LAUNCHER=utility picks Electron's utilityProcess instead of child_process.fork.
const launch =
  process.env.MESHDECK_ENGINE_LAUNCHER === 'utility' && electron.utilityProcess
    ? utilityLauncher(electron.utilityProcess, entry, { cwd: root })
    : forkLauncher(entry, { cwd: root });

const iconFile = join(root, 'assets', 'icons', '512x512.png');

runApp({
  electron,
  preload: join(__dirname, 'preload.cjs'),
  icon: existsSync(iconFile) ? iconFile : undefined,
  isDev,
  supervisor: {
    launch,
    args: configPath ? ['-c', resolve(configPath), '--watch'] : ['demo', '--summary-every', '0'],
  },
});
