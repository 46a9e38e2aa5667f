import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initHashing, xxhash64 } from '../../../engine/lb/xxhash64';
import { ringHash, RingHashPicker } from '../../../engine/lb/ring-hash';
import { countPicks, hostsOnPorts, near, noHash, testEnv, withHash } from './helpers';

before(() => initHashing());

const U64_MAX = 0xffffffffffffffffn;

test("ring hash builds Envoy's ring (ring_hash_lb_test.cc Basic, xxHash)", () => {
  const hosts = hostsOnPorts([90, 91, 92, 93, 94, 95]);
  const ring = ringHash.createPicker(hosts, { minimumRingSize: 12 }, testEnv()) as RingHashPicker;
  assert.deepEqual([ring.size, ring.minHashesPerHost, ring.maxHashesPerHost], [12, 2, 2]);
  // Envoy's ring: :94 833437586790550860 is first, :90 16117243373044804889 last, :95 at 3551244743356806947.
  assert.equal(ring.pick(withHash(0n)), hosts[4]);
  assert.equal(ring.pick(withHash(U64_MAX)), hosts[4]); // past the last point: wraps to the first
  assert.equal(ring.pick(withHash(3551244743356806947n)), hosts[5]); // exactly on a point
  assert.equal(ring.pick(withHash(3551244743356806948n)), hosts[3]); // just past it: the next point
  assert.equal(ring.pick(withHash(16117243373044804880n)), hosts[0]);
});

test("ring hash MURMUR_HASH_2 builds Envoy's murmur ring (BasicWithMurmur2)", () => {
  const hosts = hostsOnPorts([80, 81, 82, 83, 84, 85]);
  const ring = ringHash.createPicker(hosts, { minimumRingSize: 12, hashFunction: 'MURMUR_HASH_2' }, testEnv());
  assert.equal(ring.pick(withHash(0n)), hosts[5]);
  assert.equal(ring.pick(withHash(U64_MAX)), hosts[5]);
  assert.equal(ring.pick(withHash(1358027074129602068n)), hosts[5]);
  assert.equal(ring.pick(withHash(1358027074129602069n)), hosts[3]);
  assert.equal(ring.pick(withHash(10150910876324007730n)), hosts[2]);
});

test('ring hash: the same hash always reaches the same host', () => {
  const ring = ringHash.createPicker(hostsOnPorts([80, 81, 82, 83]), {}, testEnv());
  for (let i = 0; i < 200; i++) {
    const h = xxhash64(`session-${i}`);
    const first = ring.pick(withHash(h));
    for (let j = 0; j < 3; j++) assert.equal(ring.pick(withHash(h)), first);
  }
});

test('ring hash adding a 4th host to 3: about 1/4 of keys move to it, and only removed points move elsewhere', () => {
  const three = hostsOnPorts([80, 81, 82]);
  const four = [...three, ...hostsOnPorts([83])];
  const before3 = ringHash.createPicker(three, {}, testEnv());
  const after4 = ringHash.createPicker(four, {}, testEnv());
  // Envoy gives each of n equal hosts ceil(1024 / n) points "<key>_0".."<key>_{k-1}": 342 for 3 hosts,
  // 256 for 4, so the old hosts also give up points _256.._341. Rebuild the old ring's points here,
  // independently of the picker, to know which point each key sat on.
  const points = three
    .flatMap((h) => Array.from({ length: 342 }, (_, i) => ({ host: h, i, hash: xxhash64(`${h.key}_${i}`) })))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const pointOf = (h: bigint) => points.find((p) => p.hash >= h) ?? points[0];

  let toNew = 0;
  let betweenOld = 0;
  for (let k = 0; k < 10000; k++) {
    const h = xxhash64(`user-${k}`);
    const was = before3.pick(withHash(h))!;
    const now = after4.pick(withHash(h))!;
    const p = pointOf(h);
    assert.equal(p.host, was, 'the test rebuilds the same ring as the picker');
    if (now === four[3]) toNew++;
    else if (now !== was) {
      betweenOld++;
      assert.ok(p.i >= 256, `key ${k} moved ${was.key} → ${now.key} though its point ${p.host.key}_${p.i} survived`);
    }
  }
  assert.ok(toNew / 10000 >= 0.15 && toNew / 10000 <= 0.35, `moved to the new host: ${toNew / 10000}`);
  assert.ok(betweenOld / 10000 < 0.15, `moved between old hosts: ${betweenOld / 10000}`);
});

test('ring hash weights: a host of weight 2 gets twice the points and about twice the keys', () => {
  const hosts = [...hostsOnPorts([80]), ...hostsOnPorts([81], { weight: 2 })];
  const ring = ringHash.createPicker(hosts, {}, testEnv()) as RingHashPicker;
  // min normalized weight 1/3: scale = ceil(1024/3) * 3 = 1026 points, 342 and 684.
  assert.deepEqual([ring.size, ring.minHashesPerHost, ring.maxHashesPerHost], [1026, 342, 684]);
  let k = 0;
  const counts = countPicks(() => ring.pick(withHash(xxhash64(`key-${k++}`))), 20000);
  near((counts.get('127.0.0.1:81') ?? 0) / 20000, 2 / 3, 0.05, 'weight-2 share');
});

test('ring hash without a hash picks a random point; a retry attempt steps to the next point', () => {
  const hosts = hostsOnPorts([90, 91, 92, 93, 94, 95]);
  // A random 64-bit point: shares follow the hosts' arcs, close to equal on a default-size ring.
  const big = ringHash.createPicker(hosts, {}, testEnv(3));
  const counts = countPicks(() => big.pick(noHash), 12000);
  for (const h of hosts) near((counts.get(h.key) ?? 0) / 12000, 1 / 6, 0.03, `${h.key} share`);
  // Ring order starts :94, :92, :90 (Envoy's Basic test): attempt 1 and 2 from hash 0.
  const ring = ringHash.createPicker(hosts, { minimumRingSize: 12 }, testEnv(3));
  assert.equal(ring.pick(withHash(0n, 1)), hosts[2]);
  assert.equal(ring.pick(withHash(0n, 2)), hosts[0]);
});

test('ring hash validates its config as Envoy does', () => {
  assert.deepEqual(ringHash.validateConfig!({ minimumRingSize: 64, maximumRingSize: 4096, hashFunction: 'XX_HASH' }), []);
  assert.match(ringHash.validateConfig!({ minimumRingSize: 20, maximumRingSize: 10 }).join(), /minimum_ring_size \(20\) > maximum_ring_size \(10\)/);
  assert.match(ringHash.validateConfig!({ hashFunction: 'CITY' }).join(), /XX_HASH or MURMUR_HASH_2/);
  assert.match(ringHash.validateConfig!({ maximumRingSize: 8388609 }).join(), /<= 8388608/);
  assert.throws(() => ringHash.createPicker(hostsOnPorts([80]), { minimumRingSize: 20, maximumRingSize: 10 }, testEnv()), /invalid config/);
  assert.equal(ringHash.createPicker([], {}, testEnv()).pick(withHash(1n)), undefined);
});

test('maximumRingSize caps the ring; fractional shares are spread by running sums', () => {
  // Normalized weights .01 x3 and .97: uncapped the light hosts would get ceil(.01 * 150) = 2 points
  // at scale 200; the cap makes the scale 180 (1.8 points each: 2, 2, 2 by running sums; 174 left).
  const hosts = [...hostsOnPorts([80, 81, 82]), ...hostsOnPorts([83], { weight: 97 })];
  const ring = ringHash.createPicker(hosts, { minimumRingSize: 150, maximumRingSize: 180 }, testEnv()) as RingHashPicker;
  assert.deepEqual([ring.size, ring.minHashesPerHost, ring.maxHashesPerHost], [180, 2, 174]);
});
