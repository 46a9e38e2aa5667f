// Through Meshdeck, the open-loop generator holds 2,000 req/s within 2% for 30 s while one
// upstream is slow, and reports its achieved rate and latency percentiles. The engine runs in
// this process; the mocks and the generator in the simulator's child process (the default), so
// neither starves the other on a 2-core machine.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { envoyConfig, hostCounts, startSim } from './helpers';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const RATE = 2000;
const WARMUP_S = 4;
const MEASURE_S = 30;

// Three instances behind ROUND_ROBIN; the third answers in 150 ms (p99 400 ms), so a third of
// the requests wait on it. A closed-loop client would slow down with it; this one must not.
const SCENARIO = `seed: 2000
clusters: { api: payments-api }
services:
  payments-api:
    latency: { model: lognormal, p50_ms: 2, p99_ms: 8 }
    responses:
      - status: 201
        body: { id: "{{id pay_}}", amount: "{{request.amount}}", currency: "{{request.currency}}", idempotency_key: "{{header idempotency-key}}" }
    instances:
      - {}
      - {}
      - latency: { model: lognormal, p50_ms: 150, p99_ms: 400 }
load:
  target: { listener: ingress }
  arrivals: poisson
  rate: ${RATE}
  ramp: [ { at: 0s, rate: 200 }, { at: 3s, rate: ${RATE} } ]
  warmup: ${WARMUP_S}s
  # Room for ~10 s of backlog: a stalled machine delays answers; it must not thin out arrivals.
  max_in_flight: 20000
  connections: 1024
  timeout: 30s
  mix:
    - name: authorize
      weight: 1
      method: POST
      path: /api/v1/payments/authorize
      headers: { idempotency-key: "{{uuid}}" }
      body: { amount: "{{amount 100 50000}}", currency: "{{currency}}", card: { bin: "{{card_bin}}", last4: "{{last4}}" } }
`;

test(`the generator holds ${RATE} req/s within 2% for ${MEASURE_S} s through Meshdeck while one upstream is slow`, async (t) => {
  const sim = await startSim(SCENARIO, envoyConfig([{ name: 'api', endpoints: 3 }]));
  cleanups.push(() => sim.stop());
  assert.equal(sim.run.backend.mode, 'child');

  await sim.at(WARMUP_S);
  const s0 = await sim.run.backend.snapshot();
  const engineCpu0 = process.cpuUsage();
  const hosts0 = hostCounts(sim.engine, 'api');
  await sim.at(WARMUP_S + MEASURE_S);
  const s1 = await sim.run.backend.snapshot();
  const engineCpu = process.cpuUsage(engineCpu0);
  const hosts1 = hostCounts(sim.engine, 'api');
  const wall = s1.scenarioTimeS - s0.scenarioTimeS;
  const l = s1.load!;

  const simCpu = (100 * (s1.cpuTotalMs - s0.cpuTotalMs)) / 1000 / wall;
  const engCpu = (100 * (engineCpu.user + engineCpu.system)) / 1e6 / wall;
  const perHost = [...hosts1].map(([h, n]) => `${h}: ${n - (hosts0.get(h) ?? 0)}`).join(', ');
  t.diagnostic(
    `target ${l.targetRate} req/s, achieved ${l.achievedRate} (sent ${l.sent} in ${l.activeSeconds} s, schedule asked ${l.expectedSent}), completed ${l.completedRate}/s, dropped ${l.dropped}, ` +
      `latency from the scheduled send: p50 ${l.latencyMs.p50} ms, p90 ${l.latencyMs.p90} ms, p99 ${l.latencyMs.p99} ms, max ${l.latencyMs.max} ms; generator send lag p99 ${l.sendLagMs.p99} ms; ` +
      `in flight at most ${l.maxInFlightSeen}; CPU: mocks + generator ${simCpu.toFixed(1)}% of a core, engine ${engCpu.toFixed(1)}%; per host: ${perHost}`,
  );

  assert.ok(l.activeSeconds >= MEASURE_S, `measured ${l.activeSeconds} s`);
  const off = (x: number) => Math.abs(x - RATE) / RATE;
  assert.ok(off(l.targetRate) === 0, 'the ramp has ended: the target is the full rate');
  assert.ok(off(l.achievedRate) <= 0.02, `achieved ${l.achievedRate} req/s: more than 2% from ${RATE}`);
  assert.ok(Math.abs(l.sent - l.expectedSent) / l.expectedSent <= 0.02, `sent ${l.sent}, the schedule asked for ${l.expectedSent}`);
  assert.equal(l.dropped, 0, 'no arrival was dropped for want of room in flight');

  // Stop arrivals and let everything in flight come back: Meshdeck answered every request, 2xx.
  await sim.run.backend.setRate(0);
  let s2 = await sim.run.backend.snapshot();
  for (let i = 0; i < 300 && s2.load!.inFlight > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    s2 = await sim.run.backend.snapshot();
  }
  const end = s2.load!;
  t.diagnostic(`after the window: ${end.sent} sent, ${end.completed} answered, ${JSON.stringify(end.byClass)}, transport errors ${end.transportErrors}`);
  assert.equal(end.inFlight, 0);
  assert.equal(end.transportErrors, 0, JSON.stringify(end.errorKinds));
  assert.equal(end.completed, end.sent);
  assert.equal(end.byClass['2xx'], end.sent, `statuses ${JSON.stringify(end.byClass)}`);

  // Percentiles are reported and tell the slow upstream apart: the median is the fast instances',
  // the tail the slow one's (a third of all requests wait ≥ its ~150 ms median).
  const { p50, p99 } = l.latencyMs;
  assert.ok(p50 !== null && p99 !== null && p50 < p99);
  assert.ok(p99! >= 150, `p99 ${p99} ms shows the slow instance`);
  // Round robin gave the slow instance its third all along: open loop, nothing waited for it.
  const slow = sim.run.wired.endpoints.api[2];
  const total = [...hosts1].reduce((n, [h, v]) => n + v - (hosts0.get(h) ?? 0), 0);
  const slowShare = (hosts1.get(slow)! - hosts0.get(slow)!) / total;
  assert.ok(Math.abs(slowShare - 1 / 3) < 0.02, `slow host got ${(slowShare * 100).toFixed(1)}%`);
});

test('when the target stalls, arrivals keep their schedule: in flight stays at the bound and the rest are dropped and counted', async () => {
  const sim = await startSim(
    `seed: 3
clusters: { api: stalled }
services:
  stalled: { hangs: { rate: 1 } }
load:
  target: { listener: ingress }
  arrivals: constant
  rate: 400
  max_in_flight: 40
  timeout: 30s
  mix: [ { name: status, weight: 1, path: /api/v1/payments/pay_1 } ]
`,
    envoyConfig([{ name: 'api', endpoints: 1 }]),
    { inProcess: true },
  );
  cleanups.push(() => sim.stop());
  await sim.at(1.5);
  const l = (await sim.run.backend.snapshot()).load!;
  assert.equal(l.inFlight, 40);
  assert.equal(l.sent, 40);
  assert.equal(l.completed, 0);
  assert.ok(Math.abs(l.sent + l.dropped - 600) <= 12, `${l.sent} sent + ${l.dropped} dropped in 1.5 s at 400 req/s`);
  assert.ok(Math.abs(l.arrivalRate - 400) / 400 < 0.03, `arrivals ${l.arrivalRate}/s`);
  assert.equal(l.latencyMs.p50, null);
  await sim.stop();
});
