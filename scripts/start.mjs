#!/usr/bin/env node
// `npm start`: Meshdeck on the bundled demo, in its desktop window (Electron) where Electron can
// run, otherwise in the browser. Either way the engine runs `meshdeck demo` — examples/payment-gateway.yaml
// with the simulated payment stack of examples/scenarios/payment-gateway.yaml behind it and
// checkout traffic through it. It says first which of the two it chose and why.
//
// Desktop: needs Electron's binary (fetched once with node_modules/electron/install.js if
// missing; that download is tried with a short timeout) and a display; the app starts and
// supervises the engine itself (electron/). Browser: the engine's log (incidents as they start and
// end, and a one-line live summary every 5 s) follows on stderr, and the console opens in the
// default browser, or its URL (with the token) is printed where no browser can be opened.
//   npm start -- --browser               the browser even where Electron could run
//   npm start -- --rate 200 --ephemeral-ports   (browser mode: extra arguments go to `meshdeck demo`)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { engineBundleIsFresh, newestMtime as newest } from '../bin/engine-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const forceBrowser = argv.includes('--browser') || process.env.MESHDECK_BROWSER === '1';
const demoArgs = argv.filter((a) => a !== '--browser');

// The console is a static build the engine serves; build it when missing or older than its sources.
const built = join(root, 'dist', 'renderer', 'index.html');
if (!existsSync(built) || statSync(built).mtimeMs < newest(join(root, 'renderer'))) {
  console.log('Building the console (first run, or its sources changed)…');
  const b = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('meshdeck: building the console failed; the engine and the demo still run (see the admin URL below).');
  }
}

// The engine runs from its bundle when that is fresh (bin/meshdeck.mjs); build it when it is not.
if (!engineBundleIsFresh()) {
  const { buildEngine } = await import('./build-engine.mjs');
  await buildEngine().catch((e) => console.error(`meshdeck: bundling the engine failed (${e.message}); it runs from its sources instead.`));
}

// ---- which mode ------------------------------------------------------------------------------
const ELECTRON_DIR = join(root, 'node_modules', 'electron');
const INSTALL_TIMEOUT_MS = 60_000;

/** The Electron binary's path when it is installed (what require('electron') would return). */
function electronBinary() {
  try {
    const rel = readFileSync(join(ELECTRON_DIR, 'path.txt'), 'utf8').trim();
    const bin = join(ELECTRON_DIR, 'dist', rel);
    return rel && existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** {binary} when Electron can run here, else {why} it cannot, in plain words. */
function desktopPossible() {
  if (forceBrowser) return { why: 'you asked for the browser (--browser)' };
  if (process.env.CI) return { why: 'CI is set' };
  if (!existsSync(join(ELECTRON_DIR, 'install.js'))) return { why: "the electron package is not installed (npm install)" };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { why: 'there is no display for a desktop window' };
  // Chromium will not run as root with its sandbox on, and the shell does not turn the sandbox off.
  if (process.platform === 'linux' && process.getuid?.() === 0) return { why: "Electron does not run as root with its sandbox on" };
  let binary = electronBinary();
  if (!binary) {
    console.log(`Fetching Electron's binary (once; up to ${INSTALL_TIMEOUT_MS / 1000} s)…`);
    const r = spawnSync(process.execPath, [join(ELECTRON_DIR, 'install.js')], { cwd: root, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    binary = electronBinary();
    if (!binary) {
      const detail = r.error?.code === 'ETIMEDOUT' ? 'the download timed out' : (/(getaddrinfo \S+ \S+|ECONNREFUSED|ETIMEDOUT|\d{3} [A-Z][a-z ]+)/.exec(`${r.stderr}`)?.[0] ?? `install.js exited with ${r.status}`);
      return { why: `Electron's binary is not installed and could not be downloaded (${detail})` };
    }
  }
  return { binary };
}

const choice = desktopPossible();
if (choice.binary) {
  console.log('Starting Meshdeck in its desktop window (Electron is installed here); the engine runs the bundled demo inside it.');
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron.mjs')], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('meshdeck: building the desktop shell failed (see above)');
    process.exit(1);
  }
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // it would make the binary a plain Node
  const app = spawn(choice.binary, [join(root, 'dist', 'electron', 'main.cjs'), ...demoArgs.filter((a) => !a.startsWith('--'))], { cwd: root, stdio: 'inherit', env });
  const forward = (sig) => () => app.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  app.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  console.log(`Starting Meshdeck in the browser: ${choice.why}.`);
  runInBrowser();
}

// ---- browser mode (also the headless fallback) ------------------------------------------------
/**
 * Where the console opens: the default browser, or with no display (a server, CI, a container)
 * its URL is printed instead.
 */
function openConsole(url) {
  if (process.env.CI || process.env.MESHDECK_NO_BROWSER) return 'URL printed, no browser opened because CI or MESHDECK_NO_BROWSER is set';
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'URL printed, no display to open a browser on';
  const r = spawnSync(cmd, [url], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0 ? 'opened in your browser' : `URL printed, ${cmd} could not open a browser`;
}
function runInBrowser() {
  const child = spawn(process.execPath, ['bin/meshdeck.mjs', 'demo', '--summary-every', '5', ...demoArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

  const lines = createInterface({ input: child.stdout });
  lines.once('line', (line) => {
    let ready;
    try {
      ready = JSON.parse(line);
    } catch {
      console.log(line);
      return;
    }
    const token = ready.token ?? '$MESHDECK_ADMIN_TOKEN';
    const gateway = `http://${ready.listeners[0].address}`;
    const admin = ready.admin;
    const h = `-H "Authorization: Bearer ${token}"`;
    const post = `${h} -H 'content-type: application/json'`;
    const consoleUrl = `${admin}/#token=${encodeURIComponent(token)}`;
    const mode = openConsole(consoleUrl);
    console.log(`
Meshdeck is running the bundled demo: a payment gateway (examples/payment-gateway.yaml) in front of
a simulated payment stack (examples/scenarios/payment-gateway.yaml), with checkout traffic and an
incident every minute or so.

  console   ${consoleUrl}
            (${mode})
  gateway   ${gateway}
            curl -s ${gateway}/v1/payments/pay_123
  admin     ${admin}
  token     ${token}
            curl -s ${h} ${admin}/api/v1/sim          # the simulation, live
            curl -s ${h} ${admin}/stats               # the engine's stats, as Envoy's
  control   curl -s ${post} -d '{"rate":100}' ${admin}/api/v1/sim/rate
            curl -s ${post} -d '{"service":"psp-stripe","instance":1,"type":"slowdown","factor":5,"duration":"30s"}' ${admin}/api/v1/sim/incident
            curl -s ${post} -d '{}' ${admin}/api/v1/sim/pause      (and /resume, /stop)
  access log /tmp/meshdeck-demo-access.log

Ctrl-C stops.
`);
    lines.on('line', (l) => console.log(l));
  });
}
