import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initHashing } from '../../../engine/lb/xxhash64';
import { ClusterLoadBalancer, type CommonLbConfig } from '../../../engine/lb/cluster-lb';
import { roundRobin } from '../../../engine/lb/round-robin';
import { ringHash } from '../../../engine/lb/ring-hash';
import { maglev } from '../../../engine/lb/maglev';
import type { Host } from '../../../engine/upstream/host';
import type { LbPolicy } from '../../../engine/lb/types';
import { countPicks, makeHost, near, noHash, testEnv, withHash, type HostOptions } from './helpers';

before(() => initHashing());

const common = (o: Partial<CommonLbConfig> = {}): CommonLbConfig => ({ healthyPanicThreshold: 50, localityWeightedLb: false, ...o });

function hosts(prefix: string, n: number, o: HostOptions = {}): Host[] {
  return Array.from({ length: n }, (_, i) => makeHost(`${prefix}${i}:80`, o));
}

function lb(all: Host[], c: Partial<CommonLbConfig> = {}, policy: LbPolicy = roundRobin, config: Record<string, unknown> = {}, seed = 1): ClusterLoadBalancer {
  return new ClusterLoadBalancer(all, policy, config, common(c), testEnv(seed));
}

/** Share of picks that landed on hosts whose key starts with `prefix`. */
function share(counts: Map<string, number>, prefix: string, total: number): number {
  let n = 0;
  for (const [k, v] of counts) if (k.startsWith(prefix)) n += v;
  return n / total;
}

test('all traffic goes to P0 while it is healthy, and spills to P1 by the 1.4 overprovisioning math', () => {
  const p0 = hosts('p0-', 5);
  const p1 = hosts('p1-', 5, { priority: 1 });
  const c = lb([...p0, ...p1]);
  const N = 20000;
  // healthy P0 hosts → P0 load: 5 → 100, 4 → min(100, 140*4/5) = 100, 3 → 84, 2 → 56, 1 → 28, 0 → 0.
  const expected = [100, 100, 84, 56, 28, 0];
  for (let down = 0; down <= 5; down++) {
    for (let i = 0; i < 5; i++) p0[i].healthy = i >= down;
    c.refresh();
    assert.deepEqual(c.priorityLoad, [expected[down], 100 - expected[down]], `${down} P0 hosts down`);
    const counts = countPicks(() => c.chooseHost(noHash), N);
    near(share(counts, 'p0-', N) * 100, expected[down], 1.5, `P0 traffic with ${down} down`);
    for (let i = 0; i < down; i++) assert.equal(counts.get(p0[i].key), undefined, 'no traffic to an unhealthy host');
  }
  assert.equal(c.panicCount, 0, 'P1 made up for P0: total health stayed 100, so no panic');
});

test("priority loads match Envoy's BasicFailover: 70% / 30%, and a hash keeps its priority", () => {
  const p0 = [makeHost('127.0.0.1:80'), makeHost('127.0.0.1:81', { healthy: false })];
  const p1 = [makeHost('127.0.0.1:82', { priority: 1 })];
  const c = lb([...p0, ...p1], {}, ringHash, { minimumRingSize: 12 });
  assert.deepEqual(c.priorityLoad, [70, 30]);
  assert.equal(c.chooseHost(withHash(69n)), p0[0]); // 69 % 100 + 1 = 70 → P0
  assert.equal(c.chooseHost(withHash(71n)), p1[0]); // 72 → P1
  for (let i = 0; i < 5; i++) assert.equal(c.chooseHost(withHash(71n)), p1[0]);
});

test('panic below the threshold spreads traffic over all P0 hosts, healthy or not, and counts', () => {
  const p0 = hosts('p0-', 10);
  for (let i = 0; i < 6; i++) p0[i].healthy = false; // 40% healthy < 50%
  const c = lb(p0);
  assert.equal(c.inPanic(0), true);
  const counts = countPicks(() => c.chooseHost(noHash), 10000);
  for (const h of p0) near(counts.get(h.key) ?? 0, 1000, 1, `${h.key} picks`); // RR over all 10
  assert.equal(c.panicCount, 10000);

  p0[0].healthy = true; // 50% healthy: not below the threshold
  c.refresh();
  assert.equal(c.inPanic(0), false);
  const after = countPicks(() => c.chooseHost(noHash), 1000);
  for (let i = 1; i < 6; i++) assert.equal(after.get(p0[i].key), undefined);
  assert.equal(c.panicCount, 10000);
});

test('panic applies per priority only when total health is below 100', () => {
  const p0 = hosts('p0-', 10);
  for (let i = 1; i < 10; i++) p0[i].healthy = false; // 10%: health 14, in panic
  const p1 = hosts('p1-', 10, { priority: 1 });
  for (let i = 5; i < 10; i++) p1[i].healthy = false; // 50%: health 70, not in panic
  const c = lb([...p0, ...p1]);
  // Total health 84 < 100: loads scale up, 14/84 → 16 (+1 rounding to the first healthy), 70/84 → 83.
  assert.deepEqual(c.priorityLoad, [17, 83]);
  assert.deepEqual([c.inPanic(0), c.inPanic(1)], [true, false]);
  const N = 20000;
  const counts = countPicks(() => c.chooseHost(noHash), N);
  near(share(counts, 'p0-', N) * 100, 17, 1.5, 'P0 share');
  assert.ok(counts.has(p0[9].key), 'P0 in panic uses its unhealthy hosts');
  for (let i = 5; i < 10; i++) assert.equal(counts.get(p1[i].key), undefined, 'P1 is not in panic');
  near(c.panicCount / N, 0.17, 0.015, 'panic count = picks in P0');
});

test('when every priority is in panic, load follows host counts', () => {
  const all = [...hosts('p0-', 3, { healthy: false }), ...hosts('p1-', 1, { priority: 1, healthy: false })];
  const c = lb(all);
  assert.deepEqual(c.priorityLoad, [75, 25]);
  const counts = countPicks(() => c.chooseHost(noHash), 20000);
  near(share(counts, 'p1-', 20000), 0.25, 0.015, 'P1 share');
});

test('panic threshold 0 disables panic: no healthy host at all → undefined (503 UH)', () => {
  const p0 = hosts('p0-', 3, { healthy: false });
  const c = lb([...p0, ...hosts('p1-', 2, { priority: 1, healthy: false })], { healthyPanicThreshold: 0 });
  for (let i = 0; i < 50; i++) assert.equal(c.chooseHost(noHash), undefined);
  assert.equal(c.panicCount, 0);
  // One healthy host and no panic: it takes everything, the unhealthy ones nothing.
  p0[2].healthy = true;
  c.refresh();
  const counts = countPicks(() => c.chooseHost(noHash), 100);
  assert.deepEqual([...counts], [[p0[2].key, 100]]);
  // The default threshold instead panics and uses the unhealthy hosts.
  const d = lb(hosts('x-', 3, { healthy: false }));
  assert.notEqual(d.chooseHost(noHash), undefined);
});

test('health changes apply at refresh(), not per request', () => {
  const all = hosts('h-', 4);
  const c = lb(all);
  all[0].healthy = false;
  assert.ok(countPicks(() => c.chooseHost(noHash), 40).has(all[0].key), 'stale until refresh');
  c.refresh();
  assert.ok(!countPicks(() => c.chooseHost(noHash), 40).has(all[0].key));
  c.setHosts(all.slice(1, 2));
  assert.deepEqual([...countPicks(() => c.chooseHost(noHash), 10).keys()], [all[1].key]);
  c.setHosts([]);
  assert.equal(c.chooseHost(noHash), undefined);
});

test('locality weighted: localities get traffic by weight × availability, then RR inside', () => {
  const a = hosts('a-', 2, { locality: 'r/a/', localityWeight: 1 });
  const b = hosts('b-', 4, { locality: 'r/b/', localityWeight: 3 });
  const c = lb([...a, ...b], { localityWeightedLb: true });
  let counts = countPicks(() => c.chooseHost(noHash), 8000);
  assert.ok(Math.abs(share(counts, 'a-', 8000) - 0.25) <= 0.001, `A share ${share(counts, 'a-', 8000)}`);
  near(counts.get(b[0].key) ?? 0, 1500, 1, 'RR inside B');

  // Half of B down: availability min(1, 1.4 * 2/4) = 0.7, effective weight 2.1 against A's 1.
  b[2].healthy = b[3].healthy = false;
  c.refresh();
  counts = countPicks(() => c.chooseHost(noHash), 31000);
  near(share(counts, 'a-', 31000), 1 / 3.1, 0.001, 'A share');
  assert.equal(counts.get(b[3].key), undefined);
});

test('locality weighted: a zero-weight locality gets nothing; all zero falls back to every healthy host', () => {
  const a = hosts('a-', 2, { locality: 'r/a/', localityWeight: 0 });
  const b = hosts('b-', 2, { locality: 'r/b/', localityWeight: 5 });
  const c = lb([...a, ...b], { localityWeightedLb: true });
  assert.equal(share(countPicks(() => c.chooseHost(noHash), 100), 'a-', 100), 0);
  const zero = lb(hosts('z-', 3, { locality: 'r/z/', localityWeight: 0 }), { localityWeightedLb: true });
  assert.equal(countPicks(() => zero.chooseHost(noHash), 30).size, 3);
});

test("maglev folds locality weights into the table (Envoy's LocalityWeighted tests)", () => {
  const h90 = makeHost('127.0.0.1:90', { locality: 'A', localityWeight: 1, weight: 1 });
  const h91 = makeHost('127.0.0.1:91', { locality: 'B', localityWeight: 1, weight: 2 });
  const table = (c: ClusterLoadBalancer, hs: Host[]) => Array.from({ length: 17 }, (_, i) => hs.indexOf(c.chooseHost(withHash(BigInt(i)))!));
  const same = lb([h90, h91], { localityWeightedLb: true }, maglev, { tableSize: 17 });
  assert.deepEqual(table(same, [h90, h91]), [1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]);

  const a = makeHost('127.0.0.1:90', { locality: 'A', localityWeight: 8, weight: 1 });
  const cc = makeHost('127.0.0.1:91', { locality: 'C', localityWeight: 2, weight: 2 });
  const b = makeHost('127.0.0.1:92', { locality: 'B', localityWeight: 0, weight: 3 });
  const diff = lb([a, cc, b], { localityWeightedLb: true }, maglev, { tableSize: 17 });
  assert.deepEqual(table(diff, [a, cc, b]), [1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);

  const allZero = lb([makeHost('127.0.0.1:90', { localityWeight: 0 })], { localityWeightedLb: true }, maglev, { tableSize: 17 });
  assert.equal(allZero.chooseHost(withHash(0n)), undefined);

  // Global panic: the table is built over all hosts, and each pick counts as a panic pick.
  h90.healthy = h91.healthy = false;
  const panic = lb([h90, h91], { localityWeightedLb: true }, maglev, { tableSize: 17 });
  assert.deepEqual(table(panic, [h90, h91]), [1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
  assert.equal(panic.panicCount, 17);
});

test('invalid policy config or panic threshold fails at construction', () => {
  assert.throws(() => lb(hosts('h-', 2), {}, maglev, { tableSize: 10 }), /must be prime/);
  assert.throws(() => lb(hosts('h-', 2), { healthyPanicThreshold: 150 }), /healthy_panic_threshold/);
});
