import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initHashing, xxhash64 } from '../../../engine/lb/xxhash64';
import { maglev, MaglevPicker, isPrime } from '../../../engine/lb/maglev';
import { countPicks, hostsOnPorts, near, noHash, testEnv, withHash } from './helpers';

before(() => initHashing());

function assignments(p: MaglevPicker, n: number, hosts: readonly { key: string }[]): number[] {
  return Array.from({ length: n }, (_, i) => hosts.indexOf(p.pick(withHash(BigInt(i)))!));
}

test("maglev builds Envoy's table (maglev_lb_test.cc Basic, table size 7)", () => {
  const hosts = hostsOnPorts([90, 91, 92, 93, 94, 95]);
  const p = maglev.createPicker(hosts, { tableSize: 7 }, testEnv()) as MaglevPicker;
  assert.deepEqual(assignments(p, 21, hosts), [2, 4, 0, 1, 5, 0, 3, 2, 4, 0, 1, 5, 0, 3, 2, 4, 0, 1, 5, 0, 3]);
  // Independent of the order hosts come in (entries are sorted by key).
  const shuffled = [hosts[3], hosts[0], hosts[5], hosts[1], hosts[4], hosts[2]];
  const q = maglev.createPicker(shuffled, { tableSize: 7 }, testEnv()) as MaglevPicker;
  assert.deepEqual(assignments(q, 7, hosts), [2, 4, 0, 1, 5, 0, 3]);
});

test("maglev weights (Envoy's Weighted test, table size 17)", () => {
  const hosts = [...hostsOnPorts([90]), ...hostsOnPorts([91], { weight: 2 })];
  const p = maglev.createPicker(hosts, { tableSize: 17 }, testEnv()) as MaglevPicker;
  assert.deepEqual(assignments(p, 17, hosts), [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1]);
  assert.deepEqual([p.entriesFor(hosts[0]), p.entriesFor(hosts[1])], [6, 11]);
});

test('maglev weights 1:2 give exactly 21,846 and 43,691 of 65,537 entries', () => {
  const hosts = [...hostsOnPorts([80]), ...hostsOnPorts([81], { weight: 2 })];
  const p = maglev.createPicker(hosts, {}, testEnv()) as MaglevPicker;
  assert.equal(p.tableSize, 65537);
  assert.deepEqual([p.entriesFor(hosts[0]), p.entriesFor(hosts[1])], [21846, 43691]);
});

test('maglev: the same hash always reaches the same host; adding a 4th host to 3 moves about 1/4 of keys, nearly all to it', () => {
  const three = hostsOnPorts([80, 81, 82]);
  const four = [...three, ...hostsOnPorts([83])];
  const a = maglev.createPicker(three, {}, testEnv());
  const b = maglev.createPicker(four, {}, testEnv());
  let moved = 0;
  let betweenOld = 0;
  for (let k = 0; k < 10000; k++) {
    const h = xxhash64(`user-${k}`);
    const was = a.pick(withHash(h));
    assert.equal(a.pick(withHash(h)), was);
    const now = b.pick(withHash(h));
    if (now !== was) {
      moved++;
      if (now !== four[3]) betweenOld++;
    }
  }
  assert.ok(moved / 10000 >= 0.15 && moved / 10000 <= 0.35, `moved ${moved / 10000}`);
  // Maglev trades perfect stability for even spread: a handful of slots change hands between old hosts.
  assert.ok(betweenOld / 10000 < 0.01, `moved between old hosts ${betweenOld / 10000}`);
});

test("maglev retry attempts flip the hash bits (Envoy's BasicWithRetryHostPredicate)", () => {
  const hosts = hostsOnPorts([90, 91, 92, 93, 94, 95]);
  const p = maglev.createPicker(hosts, { tableSize: 7 }, testEnv());
  assert.equal(p.pick(withHash(10n)), hosts[1]);
  assert.equal(p.pick(withHash(10n, 1)), hosts[0]);
  assert.equal(p.pick(withHash(10n, 2)), hosts[5]);
});

test('maglev without a hash picks a random slot', () => {
  const hosts = hostsOnPorts([80, 81, 82]);
  const p = maglev.createPicker(hosts, {}, testEnv(8));
  const counts = countPicks(() => p.pick(noHash), 30000);
  for (const h of hosts) near((counts.get(h.key) ?? 0) / 30000, 1 / 3, 0.02, `${h.key} share`);
});

test('maglev requires a prime table size', () => {
  assert.ok(isPrime(65537) && isPrime(7) && isPrime(5000011) && !isPrime(8) && !isPrime(1) && !isPrime(65535));
  assert.deepEqual(maglev.validateConfig!({ tableSize: 17 }), []);
  assert.match(maglev.validateConfig!({ tableSize: 8 }).join(), /must be prime number/);
  assert.match(maglev.validateConfig!({ tableSize: 5000077 }).join(), /<= 5000011/);
  assert.throws(() => maglev.createPicker(hostsOnPorts([80]), { tableSize: 8 }, testEnv()), /must be prime/);
  assert.equal(maglev.createPicker([], {}, testEnv()).pick(withHash(3n)), undefined);
});
