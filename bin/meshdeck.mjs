#!/usr/bin/env node
// The `meshdeck` command. It runs the engine's bundle (dist/engine/meshdeck.mjs, from
// `npm run build:engine`) when that is newer than every engine source and package-lock.json;
// otherwise engine/ itself through tsx's loader, so a clone or a fresh edit runs without a
// build step. MESHDECK_FROM_SOURCE=1 always runs the sources. (Why a bundle: scripts/build-engine.mjs.)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'dist', 'engine', 'meshdeck.mjs');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function bundleIsFresh() {
  if (process.env.MESHDECK_FROM_SOURCE === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const lock = join(root, 'package-lock.json');
  return built >= newest(join(root, 'engine')) && (!existsSync(lock) || built >= statSync(lock).mtimeMs);
}

let main;
if (bundleIsFresh()) {
  // Stack traces name engine/*.ts lines, as from source.
  process.setSourceMapsEnabled(true);
  ({ main } = await import(pathToFileURL(bundle).href));
}
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../engine/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
