#!/usr/bin/env node
// `npm start`: the engine on examples/payment-gateway.yaml, with small mock upstreams on the
// ports that config names and a trickle of checkout traffic, so there is something to look at.
// The full simulator (latency models, incidents, open-loop load) replaces the mocks in issue 4.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = 'examples/payment-gateway.yaml';

// name, port, median latency ms, share of 503s
const mocks = [
  ['payments-v1-a', 19101, 12, 0.0], ['payments-v1-b', 19102, 15, 0.0], ['payments-v2', 19103, 9, 0.02],
  ['fraud-1', 19111, 6, 0.0], ['fraud-2', 19112, 25, 0.0],
  ['psp-1', 19121, 60, 0.0], ['psp-2', 19122, 80, 0.05], ['psp-3', 19123, 70, 0.0],
];
const servers = [];
for (const [name, port, p50, errRate] of mocks) {
  const s = createServer((req, res) => {
    req.resume();
    const delay = p50 * Math.exp(0.5 * gaussian());
    setTimeout(() => {
      const fail = Math.random() < errRate;
      const body = JSON.stringify({ service: name, ok: !fail });
      res.writeHead(fail ? 503 : 200, { 'content-type': 'application/json' });
      res.end(body);
    }, delay);
  });
  await new Promise((resolve, reject) => {
    s.once('error', (e) => reject(new Error(`mock ${name} cannot listen on 127.0.0.1:${port}: ${e.message}`)));
    s.listen(port, '127.0.0.1', resolve);
  });
  servers.push(s);
}

const engine = spawn(process.execPath, ['bin/meshdeck.mjs', '-c', config, '--watch'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const rl = createInterface({ input: engine.stdout });
const ready = await new Promise((resolve, reject) => {
  rl.once('line', (l) => resolve(JSON.parse(l)));
  engine.once('exit', (code) => reject(new Error(`engine exited (${code}) before it was ready`)));
}).catch((e) => {
  console.error(`meshdeck: ${e.message}`);
  process.exit(1);
});
const gateway = `http://${ready.listeners[0].address}`;
console.log(`
Meshdeck engine is serving ${config} (edit it: it reloads on save)
  gateway  ${gateway}         try: curl ${gateway}/v1/payments
  admin    ${ready.admin}    token: ${ready.token ?? '(from MESHDECK_ADMIN_TOKEN)'}
           curl -H "Authorization: Bearer ${ready.token ?? '$MESHDECK_ADMIN_TOKEN'}" ${ready.admin}/stats
Mode: headless engine (the console and Electron shell are not built yet). Ctrl-C stops.
`);

const counts = new Map();
const paths = ['/v1/payments/authorize', '/v1/payments/capture', '/v1/fraud/score', '/v1/psp/charge'];
const tick = setInterval(() => {
  const path = paths[Math.floor(Math.random() * paths.length)];
  request(gateway + path, { method: 'POST', headers: { 'idempotency-key': `k-${Math.floor(Math.random() * 1000)}` }, body: '{"amount":1299,"currency":"EUR"}' })
    .then(async (r) => {
      await r.body.dump();
      const k = `${path.split('/')[2]} ${r.statusCode}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    })
    .catch(() => {});
}, 50);
const report = setInterval(() => {
  console.log([...counts.entries()].sort().map(([k, v]) => `${k}: ${v}`).join('  '));
}, 5000);

function gaussian() {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

function stop() {
  clearInterval(tick);
  clearInterval(report);
  engine.kill('SIGTERM');
  for (const s of servers) s.close();
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
