import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastRequest } from '../../../engine/lb/least-request';
import { countPicks, makeHost, near, noHash, testEnv } from './helpers';

test('least request (equal weights) sends far less traffic to a host with 10 active requests', () => {
  const busy = makeHost('busy:1', { activeRequests: 10 });
  const hosts = [busy, makeHost('a:1'), makeHost('b:1')];
  const picker = leastRequest.createPicker(hosts, {}, testEnv(5));
  const counts = countPicks(() => picker.pick(noHash), 30000);
  // Two choices: the busy host wins only when both samples are it, (1/3)^2 = 1/9.
  near((counts.get('busy:1') ?? 0) / 30000, 1 / 9, 0.01, 'busy share');
  near((counts.get('a:1') ?? 0) / 30000, 4 / 9, 0.015, 'a share');
});

test('least request choiceCount widens the sample: with 5 choices the busy host almost never wins', () => {
  const hosts = [makeHost('busy:1', { activeRequests: 10 }), makeHost('a:1'), makeHost('b:1')];
  const picker = leastRequest.createPicker(hosts, { choiceCount: 5 }, testEnv(5));
  const counts = countPicks(() => picker.pick(noHash), 30000);
  near((counts.get('busy:1') ?? 0) / 30000, 1 / 243, 0.003, 'busy share');
});

test('least request keeps the first sample on ties (strictly fewer wins)', () => {
  const hosts = [makeHost('a:1', { activeRequests: 2 }), makeHost('b:1', { activeRequests: 2 })];
  // Scripted samples: first a (0.1 → index 0), then b (0.9 → index 1).
  const script = [0.1, 0.9, 0.9, 0.1];
  let i = 0;
  const env = { ...testEnv(), random: () => script[i++ % script.length] };
  const picker = leastRequest.createPicker(hosts, {}, env);
  assert.equal(picker.pick(noHash), hosts[0]);
  assert.equal(picker.pick(noHash), hosts[1]);
  hosts[0].activeRequests = 1; // now strictly fewer: wins even as the second sample
  assert.equal(picker.pick(noHash), hosts[0]);
});

test('least request with unequal weights uses EDF on weight / (active + 1)', () => {
  // Effective weights: a = 2/(3+1) = 0.5, b = 1/(0+1) = 1 → a gets 1/3.
  const hosts = [makeHost('a:1', { weight: 2, activeRequests: 3 }), makeHost('b:1', { weight: 1 })];
  const picker = leastRequest.createPicker(hosts, {}, testEnv(2));
  const counts = countPicks(() => picker.pick(noHash), 3000);
  near((counts.get('a:1') ?? 0) / 3000, 1 / 3, 0.01, 'a share');
});

test('least request re-reads active requests at each pick', () => {
  const a = makeHost('a:1', { weight: 2 });
  const b = makeHost('b:1', { weight: 1 });
  const picker = leastRequest.createPicker([a, b], {}, testEnv(2));
  let aPicks = 0;
  for (let i = 0; i < 3000; i++) {
    const h = picker.pick(noHash)!;
    if (h === a) aPicks++;
    if (i === 300) a.activeRequests = 19; // a turns busy: 2/20 vs 1
  }
  assert.ok(aPicks / 3000 < 0.2, `a share ${aPicks / 3000} should collapse once a is busy`);
});

test('active request bias: 0 is plain weighted round robin; an explicit bias applies even to equal weights', () => {
  const hosts = [makeHost('a:1', { weight: 2, activeRequests: 9 }), makeHost('b:1', { weight: 1 })];
  const rr = leastRequest.createPicker(hosts, { activeRequestBias: 0 }, testEnv(4));
  const counts = countPicks(() => rr.pick(noHash), 3000);
  assert.deepEqual([counts.get('a:1'), counts.get('b:1')], [2000, 1000]);

  const eq = [makeHost('a:1', { activeRequests: 1 }), makeHost('b:1')];
  const biased = leastRequest.createPicker(eq, { activeRequestBias: 1 }, testEnv(4));
  const c2 = countPicks(() => biased.pick(noHash), 3000);
  near((c2.get('a:1') ?? 0) / 3000, 1 / 3, 0.002, 'a share with bias 1'); // 1/2 vs 1: EDF, exact

  const squared = leastRequest.createPicker(eq, { activeRequestBias: 2 }, testEnv(4));
  const c3 = countPicks(() => squared.pick(noHash), 5000);
  near((c3.get('a:1') ?? 0) / 5000, 1 / 5, 0.002, 'a share with bias 2'); // 1/4 vs 1
});

test('least request validates choiceCount and activeRequestBias', () => {
  assert.deepEqual(leastRequest.validateConfig!({ choiceCount: 3, activeRequestBias: 0.5 }), []);
  assert.match(leastRequest.validateConfig!({ choiceCount: 1 }).join(), /choiceCount: must be >= 2/);
  assert.match(leastRequest.validateConfig!({ activeRequestBias: -1 }).join(), /activeRequestBias: must be >= 0/);
  assert.throws(() => leastRequest.createPicker([makeHost('a:1')], { choiceCount: 1.5 }, testEnv()), /choiceCount: expected an integer/);
});
