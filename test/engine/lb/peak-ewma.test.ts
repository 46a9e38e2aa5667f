import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeakEwmaLatencyTracker, createLatencyTracker } from '../../../engine/lb/latency';
import { peakEwma } from '../../../engine/lb/peak-ewma';
import { createLbEnv } from '../../../engine/lb/env';
import { countPicks, makeHost, near, noHash, testEnv } from './helpers';

test('latency tracker: peaks replace the estimate, lower samples blend in with exp(-dt/tau)', () => {
  const t = new PeakEwmaLatencyTracker(1000);
  const h = makeHost('a:1');
  assert.equal(t.estimate(h, 0), undefined);
  t.record(h, 10, 0);
  assert.equal(t.estimate(h, 0), 10);
  t.record(h, 50, 1); // a peak: taken at once
  assert.equal(t.estimate(h, 1), 50);
  t.record(h, 20, 1001); // dt = tau: w = e^-1
  const w = Math.exp(-1);
  near(t.estimate(h, 1001)!, 50 * w + 20 * (1 - w), 1e-9, 'blended');
  t.record(h, -5, 1002); // broken samples are ignored
  t.record(h, Number.NaN, 1002);
  near(t.estimate(h, 1001)!, 50 * w + 20 * (1 - w), 1e-9, 'unchanged');
});

test('latency tracker: an idle estimate decays toward 0 so the host gets probed again', () => {
  const t = createLatencyTracker(1000);
  const h = makeHost('a:1');
  t.record(h, 100, 0);
  near(t.estimate(h, 2000)!, 100 * Math.exp(-2), 1e-9, 'after 2 tau');
  assert.throws(() => new PeakEwmaLatencyTracker(0), /decayTimeMs/);
});

test('peak EWMA steers away from a host whose latency is 10x higher', () => {
  const env = testEnv(13);
  const hosts = [makeHost('slow:1'), makeHost('a:1'), makeHost('b:1')];
  for (let i = 0; i < 20; i++) {
    env.latency.record(hosts[0], 100, env.clock.now);
    env.latency.record(hosts[1], 10, env.clock.now);
    env.latency.record(hosts[2], 10, env.clock.now);
    env.clock.now += 5;
  }
  const picker = peakEwma.createPicker(hosts, {}, env);
  const counts = countPicks(() => picker.pick(noHash), 9000);
  assert.ok((counts.get('slow:1') ?? 0) / 9000 < 0.02, `slow share ${(counts.get('slow:1') ?? 0) / 9000}`);
  near((counts.get('a:1') ?? 0) / 9000, 0.5, 0.03, 'a share');
});

test('peak EWMA weighs load: a fast host with many requests in flight loses to a slower idle one', () => {
  const env = testEnv(2);
  const fast = makeHost('fast:1', { activeRequests: 9 }); // cost 10 * 10 = 100
  const slow = makeHost('slow:1'); // cost 30 * 1 = 30
  env.latency.record(fast, 10, 0);
  env.latency.record(slow, 30, 0);
  const picker = peakEwma.createPicker([fast, slow], {}, env);
  assert.deepEqual([...countPicks(() => picker.pick(noHash), 50)], [['slow:1', 50]]);
});

test('peak EWMA probes a host it has never observed (neutral default), or uses defaultRttMs', () => {
  const env = testEnv(4);
  const known = [makeHost('a:1'), makeHost('b:1')];
  const fresh = makeHost('new:1');
  for (const h of known) env.latency.record(h, 20, 0);
  const picker = peakEwma.createPicker([...known, fresh], {}, env);
  const counts = countPicks(() => picker.pick(noHash), 9000);
  // Neutral: compared on load alone, so with no load it is as likely as any other host.
  near((counts.get('new:1') ?? 0) / 9000, 1 / 3, 0.03, 'new host share');

  const pessimistic = peakEwma.createPicker([...known, fresh], { defaultRttMs: 1000 }, env);
  assert.ok((countPicks(() => pessimistic.pick(noHash), 3000).get('new:1') ?? 0) === 0);
});

test('peak EWMA validates config; createLbEnv wires decayTimeMs into the tracker', () => {
  assert.deepEqual(peakEwma.validateConfig!({ decayTimeMs: 5000, defaultRttMs: 3 }), []);
  assert.match(peakEwma.validateConfig!({ decayTimeMs: 0 }).join(), /decayTimeMs: must be > 0/);
  assert.equal(peakEwma.createPicker([], {}, testEnv()).pick(noHash), undefined);

  let now = 0;
  const env = createLbEnv(peakEwma.name, { decayTimeMs: 100 }, { now: () => now });
  const h = makeHost('a:1');
  env.latency.record(h, 50, 0);
  now = 100;
  near(env.latency.estimate(h, env.now())!, 50 * Math.exp(-1), 1e-9, 'tau = 100 ms');
  assert.equal(typeof createLbEnv('envoy.load_balancing_policies.round_robin', {}).random(), 'number');
});
