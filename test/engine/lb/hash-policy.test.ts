import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initHashing, xxhash64 } from '../../../engine/lb/xxhash64';
import { computeHash, cookieValue, type HashRequest } from '../../../engine/lb/hash-policy';
import type { HashPolicy } from '../../../engine/config/model';

before(() => initHashing());

function req(headers: Record<string, string | string[]> = {}, sourceIp = '', query: Record<string, string> = {}): HashRequest {
  return { header: (n) => headers[n], sourceIp, query: (n) => query[n] };
}

const header = (name: string, terminal = false): HashPolicy => ({ kind: 'header', name, terminal });
const cookie = (name: string, terminal = false): HashPolicy => ({ kind: 'cookie', name, terminal });
const sourceIp = (terminal = false): HashPolicy => ({ kind: 'source_ip', name: '', terminal });
const queryParam = (name: string, terminal = false): HashPolicy => ({ kind: 'query_parameter', name, terminal });
const rotl1 = (h: bigint): bigint => ((h << 1n) | (h >> 63n)) & 0xffffffffffffffffn;

test('header: xxHash64 of the value; header names match case-insensitively; absent → no hash', () => {
  assert.equal(computeHash([header('X-User')], req({ 'x-user': 'alice' })), xxhash64('alice'));
  assert.equal(computeHash([header('x-user')], req({ 'x-user': '' })), xxhash64(''), 'an empty value still hashes');
  assert.equal(computeHash([header('x-user')], req({})), undefined);
  assert.equal(computeHash([], req({ 'x-user': 'a' })), undefined);
});

test('header with several values: sorted and chained, so order does not matter (Envoy vector)', () => {
  // Envoy's HashUtil::xxHash64(span) chains seeds: hash_test.cc xxHashWithVector {"foo","bar"}.
  assert.equal(xxhash64('bar', xxhash64('foo')), 17745830980996999794n);
  // The header method sorts the values first: bar, foo.
  const h = computeHash([header('x-tag')], req({ 'x-tag': ['foo', 'bar'] }));
  assert.equal(h, xxhash64('foo', xxhash64('bar')));
  assert.equal(computeHash([header('x-tag')], req({ 'x-tag': ['bar', 'foo'] })), h);
  assert.equal(computeHash([header('x-tag')], req({ 'x-tag': ['one'] })), xxhash64('one'));
});

test("cookie: Envoy's parsing of the Cookie header; absent or empty → no hash", () => {
  const r = req({ cookie: 'theme=dark; session="abc123"; other=1' });
  assert.equal(computeHash([cookie('session')], r), xxhash64('abc123'));
  assert.equal(computeHash([cookie('theme')], r), xxhash64('dark'));
  assert.equal(computeHash([cookie('missing')], r), undefined);
  assert.equal(computeHash([cookie('empty')], req({ cookie: 'empty=; x=1' })), undefined);
  assert.equal(computeHash([cookie('id')], req({})), undefined);
  assert.equal(cookieValue(['a=1', 'id=2; id=3'], 'id'), '2', 'first occurrence across Cookie headers');
  assert.equal(cookieValue('xid=9;id=7', 'id'), '7', 'whole-name match only');
  assert.equal(cookieValue('broken; id=4', 'id'), '4', 'a pair without = is skipped');
});

test('source_ip and query_parameter', () => {
  assert.equal(computeHash([sourceIp()], req({}, '10.0.0.7')), xxhash64('10.0.0.7'));
  assert.equal(computeHash([sourceIp()], req({}, '')), undefined);
  assert.equal(computeHash([queryParam('user')], req({}, '', { user: 'u42' })), xxhash64('u42'));
  assert.equal(computeHash([queryParam('user')], req({}, '', { user: '' })), xxhash64(''));
  assert.equal(computeHash([queryParam('user')], req({}, '', {})), undefined);
});

test('several policies combine as rotl64(previous, 1) XOR next; duplicates do not cancel', () => {
  const r = req({ 'x-a': 'A', 'x-b': 'B' }, '1.2.3.4');
  assert.equal(computeHash([header('x-a'), header('x-b')], r), rotl1(xxhash64('A')) ^ xxhash64('B'));
  assert.equal(computeHash([header('x-a'), header('x-a')], r), rotl1(xxhash64('A')) ^ xxhash64('A'));
  assert.notEqual(computeHash([header('x-a'), header('x-a')], r), 0n);
  // Every bit pattern at the top of the previous hash rotates correctly (bit 63 wraps to bit 0).
  let topBitsSeen = 0;
  for (let i = 0; i < 64; i++) {
    const v = `value-${i}`;
    topBitsSeen |= 1 << Number(xxhash64(v) >> 62n);
    assert.equal(computeHash([header('x-v'), header('x-b')], req({ 'x-v': v, 'x-b': 'B' })), rotl1(xxhash64(v)) ^ xxhash64('B'), v);
  }
  assert.equal(topBitsSeen, 0b1111, 'the values cover all four combinations of bits 63 and 62');
  // A policy that produces nothing is skipped.
  assert.equal(computeHash([header('x-a'), header('x-none'), sourceIp()], r), rotl1(xxhash64('A')) ^ xxhash64('1.2.3.4'));
});

test('terminal stops the list once a hash exists, not before', () => {
  const r = req({ 'x-a': 'A' }, '1.2.3.4');
  assert.equal(computeHash([header('x-a', true), sourceIp()], r), xxhash64('A'));
  assert.equal(computeHash([header('x-none', true), sourceIp()], r), xxhash64('1.2.3.4'));
  assert.equal(computeHash([header('x-none'), cookie('c', true)], r), undefined);
});
