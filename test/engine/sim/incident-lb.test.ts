// An incident on one instance (a 40× slowdown) shifts traffic away from it under LEAST_REQUEST
// and under Meshdeck's latency-aware policy (peak EWMA), and does not under ROUND_ROBIN, as the
// engine's own per-host stats (Envoy's rq_total per host) count it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { envoyConfig, hostCounts, startSim } from './helpers';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const PEAK_EWMA = {
  load_balancing_policy: {
    policies: [
      {
        typed_extension_config: {
          name: 'meshdeck.load_balancing_policies.peak_ewma',
          typed_config: { '@type': 'type.googleapis.com/meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma', decay_time: '5s' },
        },
      },
    ],
  },
};

const POLICIES = [
  { cluster: 'rr', extra: { lb_policy: 'ROUND_ROBIN' } },
  { cluster: 'lr', extra: { lb_policy: 'LEAST_REQUEST' } },
  { cluster: 'ewma', extra: PEAK_EWMA },
];

// Three identical services of three instances; at 2 s instance 2 of each gets 40× slower for 7 s.
const SCENARIO = `seed: 5
clusters: { rr: svc-rr, lr: svc-lr, ewma: svc-ewma }
services:
${POLICIES.map((p) => `  svc-${p.cluster}: { instances: 3, latency: { model: lognormal, p50_ms: 5, p99_ms: 15 } }`).join('\n')}
incidents:
${POLICIES.map((p) => `  - { at: 2s, duration: 7s, service: svc-${p.cluster}, instance: 2, type: slowdown, factor: 40 }`).join('\n')}
load:
  target: { listener: ingress }
  arrivals: poisson
  rate: 450
  mix:
${POLICIES.map((p) => `    - { name: ${p.cluster}, weight: 1, method: POST, path: /${p.cluster}/v1/fraud/score, body: { amount: "{{amount 100 5000}}" } }`).join('\n')}
`;

test('an incident on one instance shifts traffic away from it under LEAST_REQUEST and peak EWMA, not under ROUND_ROBIN', async () => {
  const sim = await startSim(SCENARIO, envoyConfig(POLICIES.map((p) => ({ name: p.cluster, endpoints: 3, extra: p.extra }))), { inProcess: true });
  cleanups.push(() => sim.stop());
  const slowHost = (cluster: string) => sim.run.wired.endpoints[cluster][2];
  const share = (before: Map<string, number>, now: Map<string, number>, host: string) => {
    let total = 0;
    for (const [h, n] of now) total += n - (before.get(h) ?? 0);
    return { share: (now.get(host)! - (before.get(host) ?? 0)) / total, total };
  };
  const counts = () => new Map(POLICIES.map((p) => [p.cluster, hostCounts(sim.engine, p.cluster)]));

  // Before the incident (from 0.4 s to 1.9 s): every policy spreads evenly.
  await sim.at(0.4);
  const c0 = counts();
  await sim.at(1.9);
  const c1 = counts();
  // During it, once the balancers have seen it (3 s to 8.5 s).
  await sim.at(3);
  const c2 = counts();
  await sim.at(8.5);
  const c3 = counts();
  const view = await sim.run.view();
  assert.deepEqual(view.activeIncidents.map((i) => [i.service, i.instance, i.detail]).sort(), POLICIES.map((p) => [`svc-${p.cluster}`, 2, '×40']).sort());

  const report: string[] = [];
  const result = new Map<string, { before: number; during: number }>();
  for (const p of POLICIES) {
    const host = slowHost(p.cluster);
    const before = share(c0.get(p.cluster)!, c1.get(p.cluster)!, host);
    const during = share(c2.get(p.cluster)!, c3.get(p.cluster)!, host);
    result.set(p.cluster, { before: before.share, during: during.share });
    report.push(`${p.cluster}: slowed host ${(before.share * 100).toFixed(1)}% of ${before.total} before, ${(during.share * 100).toFixed(1)}% of ${during.total} during`);
    assert.ok(before.total > 150 && during.total > 500, report.join('\n'));
  }
  const msg = report.join("\n");
  if (process.env.SIM_REPORT) console.log(msg);
  // Before the incident the host gets its share. Peak EWMA wanders between equal hosts: one
  // latency spike (a GC pause, a busy CI core) makes it avoid a host for a few seconds, and runs
  // here gave the host 19.9% and, with the whole suite running, 6.0%. So for it the check is
  // looser, and what proves the incident's effect is the relative drop below.
  for (const p of POLICIES) {
    const floor = p.cluster === 'ewma' ? 0.04 : 0.2;
    assert.ok(result.get(p.cluster)!.before > floor, `before the incident the host gets its share\n${msg}`);
  }
  assert.ok(result.get('ewma')!.during < result.get('ewma')!.before / 4, `peak EWMA's drop comes with the incident\n${msg}`);
  assert.ok(result.get('rr')!.during > 0.3, `ROUND_ROBIN keeps sending the slowed host its third\n${msg}`);
  assert.ok(result.get('lr')!.during < 0.2, `LEAST_REQUEST moves traffic away from the slowed host\n${msg}`);
  assert.ok(result.get('ewma')!.during < 0.2, `peak EWMA moves traffic away from the slowed host\n${msg}`);
});
