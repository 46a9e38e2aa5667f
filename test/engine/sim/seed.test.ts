// The same seed reproduces a run: the same requests in the same order, and each mock instance
// the same latencies and the same errors at the same positions of its own request sequence.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ArrivalSchedule, RequestSource } from '../../../engine/sim/load';
import { MockInstance } from '../../../engine/sim/mock';
import { loadScenario } from '../../../engine/sim/scenario';
import { envoyConfig, startSim, type RunningSim } from './helpers';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const MIX = `
  mix:
    - name: authorize
      weight: 5
      path: /api/v1/payments/authorize
      headers: { idempotency-key: "{{uuid}}" }
      body: { payment_id: "{{new_payment_id}}", amount: "{{amount 100 90000}}", currency: "{{currency}}", card: { bin: "{{card_bin}}", last4: "{{last4}}" } }
    - name: capture
      weight: 2
      path: /api/v1/payments/{{payment_id}}/capture
      headers: { idempotency-key: "{{uuid}}" }
      body: { amount: "{{amount 100 90000}}" }
    - name: status
      weight: 3
      method: GET
      path: /api/v1/payments/{{payment_id}}
`;

function scenario(seed: number, rate = 300): string {
  return `seed: ${seed}
clusters: { api: api }
services:
  api:
    latency: { model: lognormal, p50_ms: 3, p99_ms: 20 }
    errors: { rate: 0.2, status: 503 }
    resets: { rate: 0.02 }
    responses:
      - body: { id: "{{id pay_}}", echo: "{{header idempotency-key}}", amount: "{{request.amount}}" }
load:
  target: { listener: ingress }
  arrivals: poisson
  rate: ${rate}
${MIX}`;
}

test('the request sequence is a function of the seed (contents and arrival gaps)', () => {
  const mix = loadScenario(scenario(1)).scenario!.load!.mix;
  const take = (seed: number) => {
    const src = new RequestSource(mix, seed);
    return Array.from({ length: 2000 }, () => src.next());
  };
  const a = take(42);
  assert.deepEqual(take(42), a);
  const b = take(43);
  assert.notDeepEqual(b, a);
  // Realistic bodies: captures and status calls name payments authorised earlier.
  const authorized = new Set(a.filter((r) => r.name === 'authorize').map((r) => JSON.parse(r.body!).payment_id as string));
  const later = a.filter((r) => r.name !== 'authorize' && r.seq > 100);
  assert.ok(later.length > 100);
  assert.ok(later.every((r) => authorized.has(r.path.split('/')[4])), 'captures and status calls reuse generated payment ids');
  const body = JSON.parse(a.find((r) => r.name === 'authorize')!.body!);
  assert.equal(typeof body.amount, 'number');
  assert.match(body.currency, /^[A-Z]{3}$/);
  assert.match(body.card.bin, /^\d{6}$/);
  assert.match(a[0].headers['idempotency-key'] ?? a[1].headers['idempotency-key'], /^[0-9a-f-]{36}$/);

  const gaps = (seed: number) => {
    const s = new ArrivalSchedule('poisson', seed);
    return Array.from({ length: 1000 }, () => s.gapMs(500));
  };
  assert.deepEqual(gaps(42), gaps(42));
  assert.notDeepEqual(gaps(43), gaps(42));
  const mean = gaps(42).reduce((x, y) => x + y, 0) / 1000;
  assert.ok(Math.abs(mean - 2) < 0.2, `mean gap ${mean} ms at 500 req/s`);
});

test("an instance's decisions are a function of the seed, and incidents change outcomes without shifting the sequence", () => {
  const spec = loadScenario(scenario(1)).scenario!.services[0].instances[0];
  const run = (seed: number, slowFrom?: number) => {
    const m = new MockInstance('api', 0, spec, seed);
    return Array.from({ length: 3000 }, (_, i) => {
      if (i === slowFrom) void m.setEffect('x', { type: 'slowdown', factor: 4 });
      return m.decide();
    });
  };
  const a = run(7);
  assert.deepEqual(run(7), a);
  assert.notDeepEqual(run(8), a);
  const errors = a.filter((d) => d.outcome === 'error').length / a.length;
  assert.ok(Math.abs(errors - 0.2 * 0.98) < 0.03, `error share ${errors}`);
  // A slowdown from request 1000 on: the same outcomes, latencies ×4 from there.
  const slowed = run(7, 1000);
  assert.deepEqual(slowed.map((d) => d.outcome), a.map((d) => d.outcome));
  assert.ok(Math.abs(slowed[1500].latencyMs - 4 * a[1500].latencyMs) < 1e-9);
  assert.equal(slowed[999].latencyMs, a[999].latencyMs);
});

async function liveRun(seed: number): Promise<{ requests: unknown[]; decisions: unknown[]; statuses: number[] }> {
  const sim: RunningSim = await startSim(scenario(seed, 400), envoyConfig([{ name: 'api', endpoints: 1 }]), { inProcess: true, record: 300 });
  cleanups.push(() => sim.stop());
  // 300 requests at 400 req/s: wait until the instance has answered (or failed) all of them.
  for (let i = 0; i < 100; i++) {
    const d = await sim.run.backend.debug();
    if ((d.decisions['api#0']?.length ?? 0) >= 300) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const d = await sim.run.backend.debug();
  await sim.stop();
  const decisions = d.decisions['api#0'];
  return { requests: d.requests.slice(0, 300), decisions, statuses: decisions.map((x) => x.status) };
}

test('through Meshdeck: the same seed sends the same requests and gets errors at the same positions', async () => {
  const a = await liveRun(11);
  const b = await liveRun(11);
  const c = await liveRun(12);
  assert.equal(a.requests.length, 300);
  assert.equal(a.decisions.length, 300);
  assert.deepEqual(b.requests, a.requests, 'same requests, same order');
  assert.deepEqual(b.decisions, a.decisions, 'same latencies and outcomes at the instance, request by request');
  const errorsAt = (x: { statuses: number[] }) => x.statuses.flatMap((s, i) => (s === 503 ? [i] : []));
  assert.ok(errorsAt(a).length > 30, 'the instance answered 503s');
  assert.deepEqual(errorsAt(b), errorsAt(a));
  assert.notDeepEqual(c.requests, a.requests, 'another seed, other requests');
  assert.notDeepEqual(errorsAt(c), errorsAt(a), 'another seed, other error positions');
});
