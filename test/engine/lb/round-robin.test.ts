import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundRobin } from '../../../engine/lb/round-robin';
import { countPicks, makeHost, near, noHash, pickAll, testEnv } from './helpers';

test('weighted round robin 1:2:3 splits 6,000 picks within ±1 point of 1/6, 2/6, 3/6', () => {
  const hosts = [makeHost('a:1', { weight: 1 }), makeHost('b:1', { weight: 2 }), makeHost('c:1', { weight: 3 })];
  const picker = roundRobin.createPicker(hosts, {}, testEnv(7));
  const counts = countPicks(() => picker.pick(noHash), 6000);
  near((counts.get('a:1') ?? 0) / 60, 100 / 6, 1, 'a %');
  near((counts.get('b:1') ?? 0) / 60, 200 / 6, 1, 'b %');
  near((counts.get('c:1') ?? 0) / 60, 300 / 6, 1, 'c %');
  // EDF is exact, not just statistically right: 6,000 picks are 1,000 whole cycles, give or take the
  // one pick at each end of a window that starts at a random point of the schedule.
  assert.ok(Math.abs((counts.get('a:1') ?? 0) - 1000) <= 1, `a ${counts.get('a:1')}`);
  assert.ok(Math.abs((counts.get('b:1') ?? 0) - 2000) <= 1, `b ${counts.get('b:1')}`);
  assert.ok(Math.abs((counts.get('c:1') ?? 0) - 3000) <= 1, `c ${counts.get('c:1')}`);
});

test('weighted round robin interleaves (EDF) rather than sending runs to the heaviest host', () => {
  const hosts = [makeHost('a:1', { weight: 1 }), makeHost('b:1', { weight: 5 })];
  const seq = pickAll(roundRobin.createPicker(hosts, {}, testEnv(3)), 60);
  for (let i = 0; i + 6 <= seq.length; i++) {
    assert.equal(seq.slice(i, i + 6).filter((k) => k === 'a:1').length, 1, `window ${i}: ${seq.join(' ')}`);
  }
});

test('equal-weight round robin rotates through every host in a fixed order', () => {
  const hosts = [makeHost('a:1'), makeHost('b:1'), makeHost('c:1')];
  const seq = pickAll(roundRobin.createPicker(hosts, {}, testEnv(11)), 9);
  assert.deepEqual(seq.slice(3, 6), seq.slice(0, 3));
  assert.deepEqual([...seq.slice(0, 3)].sort(), ['a:1', 'b:1', 'c:1']);
  const i = hosts.findIndex((h) => h.key === seq[0]);
  assert.deepEqual(seq.slice(0, 3), [0, 1, 2].map((d) => hosts[(i + d) % 3].key));
});

test('round robin starts at a random host, so pickers do not all hit the first host', () => {
  const hosts = [makeHost('a:1'), makeHost('b:1'), makeHost('c:1'), makeHost('d:1')];
  const firsts = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) firsts.add(roundRobin.createPicker(hosts, {}, testEnv(seed)).pick(noHash)!.key);
  assert.equal(firsts.size, 4);
});

test('round robin over no hosts picks nothing; unknown config fields are reported', () => {
  assert.equal(roundRobin.createPicker([], {}, testEnv()).pick(noHash), undefined);
  assert.deepEqual(roundRobin.validateConfig!({ slowStart: {} }), []);
  assert.match(roundRobin.validateConfig!({ choiceCount: 2 }).join(), /unknown or unsupported field "choiceCount"/);
});
