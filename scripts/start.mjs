#!/usr/bin/env node
// `npm start`: the bundled demo. Runs `meshdeck demo` — the engine on examples/payment-gateway.yaml
// with the simulated payment stack of examples/scenarios/payment-gateway.yaml behind it and
// checkout traffic through it — then prints where everything is. The engine's log (incidents as
// they start and end, and a one-line live summary every 5 s) follows on stderr.
// Extra arguments go to `meshdeck demo`: npm start -- --rate 200 --ephemeral-ports
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// The console is a static build the engine serves; build it when missing or older than its sources.
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const built = join(root, 'dist', 'renderer', 'index.html');
if (!existsSync(built) || statSync(built).mtimeMs < newest(join(root, 'renderer'))) {
  console.log('Building the console (first run, or its sources changed)…');
  const b = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('meshdeck: building the console failed; the engine and the demo still run (see the admin URL below).');
  }
}

/**
 * Where the console opens. The desktop shell (Electron) is not built yet, so the console opens in
 * the default browser; with no display (a server, CI, a container) its URL is printed instead.
 */
function openConsole(url) {
  if (process.env.CI || process.env.MESHDECK_NO_BROWSER) return 'URL printed, no browser opened because CI or MESHDECK_NO_BROWSER is set';
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'URL printed, no display to open a browser on';
  const r = spawnSync(cmd, [url], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0 ? 'opened in your browser' : `URL printed, ${cmd} could not open a browser`;
}
const child = spawn(process.execPath, ['bin/meshdeck.mjs', 'demo', '--summary-every', '5', ...process.argv.slice(2)], {
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
            (${mode}: the desktop shell is not built yet, so the console runs in a browser)
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
