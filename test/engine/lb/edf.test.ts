import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdfScheduler } from '../../../engine/lb/edf';

const weights: Record<string, number> = { a: 1, b: 2, c: 3 };
const w = (x: string): number => weights[x];

function fresh(items: string[], weightOf: (x: string) => number): EdfScheduler<string> {
  const s = new EdfScheduler<string>();
  for (const x of items) s.add(weightOf(x), x);
  return s;
}

function picks(s: EdfScheduler<string>, n: number, weightOf: (x: string) => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(s.pickAndAdd(weightOf)!);
  return out;
}

const count = (seq: string[], x: string): number => seq.filter((y) => y === x).length;

test('EDF picks in proportion to weight, exactly per cycle', () => {
  const seq = picks(fresh(['a', 'b', 'c'], w), 600, w);
  assert.deepEqual([count(seq, 'a'), count(seq, 'b'), count(seq, 'c')], [100, 200, 300]);
  // Earliest deadline first: c (1/3) before b (1/2) before a (1).
  assert.deepEqual(seq.slice(0, 3), ['c', 'b', 'c']);
});

test('EDF breaks deadline ties first-in-first-out, so equal weights rotate in insertion order', () => {
  const one = (): number => 1;
  assert.deepEqual(picks(fresh(['x', 'y', 'z'], one), 7, one), ['x', 'y', 'z', 'x', 'y', 'z', 'x']);
  assert.deepEqual(picks(fresh(['z', 'x', 'y'], one), 3, one), ['z', 'x', 'y']);
});

test('EDF re-adds the picked entry at now + 1/weight with the weight read at pick time', () => {
  const dyn: Record<string, number> = { a: 1, b: 1 };
  const s = fresh(['a', 'b'], (x) => dyn[x]);
  assert.equal(s.pickAndAdd((x) => dyn[x]), 'a'); // a re-queued at 2
  dyn.b = 4; // b's new weight applies when b is next re-queued
  assert.equal(s.pickAndAdd((x) => dyn[x]), 'b'); // now = 1, b re-queued at 1.25
  // b at 1.25, 1.5, 1.75; then a and b both due at 2: a was queued first, so a goes first.
  assert.deepEqual(picks(s, 5, (x) => dyn[x]), ['b', 'b', 'b', 'a', 'b']);
});

test('createWithPicks equals a fresh scheduler after that many picks (no ties)', () => {
  const odd: Record<string, number> = { a: Math.SQRT2, b: Math.E, c: Math.PI }; // no exact deadline ties
  const ow = (x: string): number => odd[x];
  for (const n of [0, 1, 5, 23, 1000]) {
    const f = fresh(['a', 'b', 'c'], ow);
    picks(f, n, ow);
    const c = EdfScheduler.createWithPicks(['a', 'b', 'c'], ow, n);
    assert.deepEqual(picks(c, 50, ow), picks(f, 50, ow), `after ${n} picks`);
  }
  // Far into the schedule the two accumulate floating-point error differently (as in Envoy, whose
  // own test compares deadlines within 1e-5), so near-simultaneous deadlines may swap: counts agree.
  const f = fresh(['a', 'b', 'c'], ow);
  picks(f, 123457, ow);
  const far = picks(f, 710, ow);
  const c = picks(EdfScheduler.createWithPicks(['a', 'b', 'c'], ow, 123457), 710, ow);
  for (const x of ['a', 'b', 'c']) assert.ok(Math.abs(count(far, x) - count(c, x)) <= 1, x);
});

test('createWithPicks keeps the weighted rotation: every 6 consecutive picks of 1:2:3 hold 1, 2 and 3', () => {
  for (let seed = 0; seed < 40; seed++) {
    const seq = picks(EdfScheduler.createWithPicks(['a', 'b', 'c'], w, seed * 104729), 60, w);
    for (let i = 0; i + 6 <= seq.length; i++) {
      const win = seq.slice(i, i + 6);
      assert.deepEqual([count(win, 'a'), count(win, 'b'), count(win, 'c')], [1, 2, 3], `start ${seed}, window ${i}: ${seq.join('')}`);
    }
  }
  // Different starting picks start at different points of the rotation.
  const starts = new Set<string>();
  for (let p = 0; p < 6; p++) starts.add(picks(EdfScheduler.createWithPicks(['a', 'b', 'c'], w, p), 6, w).join(''));
  assert.ok(starts.size > 1);
});

test('EDF rejects non-positive weights and returns undefined when empty', () => {
  const s = new EdfScheduler<string>();
  assert.equal(s.pickAndAdd(() => 1), undefined);
  assert.throws(() => s.add(0, 'x'), /weight must be > 0/);
  assert.throws(() => EdfScheduler.createWithPicks(['x'], () => -1, 3), /weight must be > 0/);
  assert.equal(EdfScheduler.createWithPicks([], w, 5).size, 0);
});
