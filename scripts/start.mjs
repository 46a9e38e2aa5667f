#!/usr/bin/env node
// `npm start`: the bundled demo. Runs `meshdeck demo` — the engine on examples/payment-gateway.yaml
// with the simulated payment stack of examples/scenarios/payment-gateway.yaml behind it and
// checkout traffic through it — then prints where everything is. The engine's log (incidents as
// they start and end, and a one-line live summary every 5 s) follows on stderr.
// Extra arguments go to `meshdeck demo`: npm start -- --rate 200 --ephemeral-ports
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
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
  console.log(`
Meshdeck is running the bundled demo: a payment gateway (examples/payment-gateway.yaml) in front of
a simulated payment stack (examples/scenarios/payment-gateway.yaml), with checkout traffic and an
incident every minute or so.

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

Headless for now: the console and the desktop shell come next. Ctrl-C stops.
`);
  lines.on('line', (l) => console.log(l));
});
