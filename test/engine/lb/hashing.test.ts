import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashingReady, initHashing, xxhash64 } from '../../../engine/lb/xxhash64';
import { murmurHash2 } from '../../../engine/lb/murmur';

// Runs first in this file's process, before anything initialised the hashing module.
test('xxhash64 before initHashing() throws a clear error', () => {
  assert.equal(hashingReady(), false);
  assert.throws(() => xxhash64('foo'), /await initHashing\(\)/);
});

test('xxhash64 matches the xxHash64 reference and Envoy test vectors', async () => {
  await initHashing();
  await initHashing(); // idempotent
  assert.equal(hashingReady(), true);
  assert.equal(xxhash64(''), 0xef46db3751d8e999n);
  assert.equal(xxhash64('', 0n), 17241709254077376921n);
  // Envoy test/common/common/hash_test.cc
  assert.equal(xxhash64('foo'), 3728699739546630719n);
  assert.equal(xxhash64('bar'), 5234164152756840025n);
  assert.equal(xxhash64('foo\nbar'), 8917841378505826757n);
  assert.equal(xxhash64('lyft'), 4400747396090729504n);
  // A seed changes the hash (maglev's skip uses seed 1).
  assert.notEqual(xxhash64('foo', 1n), xxhash64('foo'));
});

test("murmurHash2 matches Envoy's MurmurHash::murmurHash2 vectors", () => {
  assert.equal(murmurHash2('foo'), 9631199822919835226n);
  assert.equal(murmurHash2('bar'), 11474628671133349555n);
  assert.equal(murmurHash2('foo\nbar'), 16306510975912980159n);
  assert.equal(murmurHash2('lyft'), 12847078931730529320n);
  assert.equal(murmurHash2(''), 6142509188972423790n);
  // Longer than 8 bytes exercises the aligned loop.
  assert.equal(typeof murmurHash2('127.0.0.1:80_10'), 'bigint');
});
