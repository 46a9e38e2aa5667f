// The acceptance scenario, measured by the load generator against the simulator's mocks:
// one of three PSP instances answers 50% 503s. Checkout through a cluster with outlier detection
// and retries (retry_on 5xx, 2 retries) loses under 0.5% of requests; through an identical cluster
// without them, over 15%. Both clusters run side by side in one scenario under the same load.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { envoyConfig, startSim } from '../sim/helpers';
import { onCleanup } from './helpers';

const SCENARIO = `seed: 4
clusters: { on: psp-on, off: psp-off }
services:
  psp-on: { instances: 3, latency: { model: lognormal, p50_ms: 3, p99_ms: 12 } }
  psp-off: { instances: 3, latency: { model: lognormal, p50_ms: 3, p99_ms: 12 } }
incidents:
  - { name: psp-on 503s, at: 0s, duration: 60s, service: psp-on, instance: 1, type: errors, rate: 0.5, status: 503 }
  - { name: psp-off 503s, at: 0s, duration: 60s, service: psp-off, instance: 1, type: errors, rate: 0.5, status: 503 }
load:
  target: { listener: ingress }
  arrivals: poisson
  rate: 500
  mix:
    - { name: on, weight: 1, method: POST, path: /on/v1/payments, body: { amount: "{{amount 100 5000}}" } }
    - { name: off, weight: 1, method: POST, path: /off/v1/payments, body: { amount: "{{amount 100 5000}}" } }
`;

function envoy(): string {
  const doc = parse(envoyConfig([
    {
      name: 'on',
      endpoints: 3,
      extra: {
        outlier_detection: { consecutive_5xx: 5, interval: '1s', base_ejection_time: '30s' },
        // Envoy's default max_retries (3 concurrent retries) overflows at this rate; a real config raises it.
        circuit_breakers: { thresholds: [{ max_retries: 50 }] },
      },
    },
    { name: 'off', endpoints: 3 },
  ]));
  const routes = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
  routes[0].route.retry_policy = { retry_on: '5xx', num_retries: 2 };
  return stringify(doc);
}

test('a PSP instance answering 50% 503s costs checkout < 0.5% errors with outlier detection and retries, > 15% without', async () => {
  const sim = await startSim(SCENARIO, envoy(), { inProcess: true });
  onCleanup(() => sim.stop());
  await sim.at(6);
  // Stop sending and let every request in flight finish, so each one sent is counted once answered.
  await sim.manager.pause(sim.run.id);
  let view = await sim.run.view();
  for (let i = 0; i < 100 && view.load!.inFlight > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    view = await sim.run.view();
  }
  const load = view.load!;
  const mix = new Map(load.byMix.map((m) => [m.name, m]));
  const on = mix.get('on')!;
  const off = mix.get('off')!;
  const rate = (m: { sent: number; non2xx: number }) => m.non2xx / m.sent;
  const figures = `with outlier detection + retries: ${on.non2xx}/${on.sent} = ${(rate(on) * 100).toFixed(2)}% errors; without: ${off.non2xx}/${off.sent} = ${(rate(off) * 100).toFixed(2)}%`;
  console.log(figures);
  assert.ok(on.sent > 800 && off.sent > 800, figures);
  assert.ok(rate(on) < 0.005, figures);
  assert.ok(rate(off) > 0.15, figures);
  // The bad instance was ejected (and the retries charged to the cluster's stats).
  const cluster = sim.engine.snapshot!.clusters.get('on')!;
  assert.equal(cluster.hosts.filter((h) => h.failedOutlierCheck).length, 1);
  assert.ok(sim.engine.stats.counter('cluster.on.outlier_detection.ejections_enforced_consecutive_5xx').value >= 1);
  assert.ok(sim.engine.stats.counter('cluster.on.upstream_rq_retry').value > 0);
});

test('the sample scenario examples/scenarios/psp-incident.yaml validates with its Envoy config', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const r = spawnSync(process.execPath, [join(root, 'bin/meshdeck.mjs'), 'sim', 'examples/scenarios/psp-incident.yaml', '--mode', 'validate'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /scenario 'examples\/scenarios\/psp-incident\.yaml' OK \(Envoy config '.*psp-incident\.envoy\.yaml' OK\)/);
});
