import { test } from 'node:test';
import assert from 'node:assert/strict';
import { random } from '../../../engine/lb/random';
import { countPicks, makeHost, near, noHash, testEnv } from './helpers';

test('random spreads uniformly and, like Envoy, ignores host weights', () => {
  const hosts = [makeHost('a:1', { weight: 1 }), makeHost('b:1', { weight: 10 }), makeHost('c:1', { weight: 100 })];
  const picker = random.createPicker(hosts, {}, testEnv(21));
  const counts = countPicks(() => picker.pick(noHash), 30000);
  for (const h of hosts) near((counts.get(h.key) ?? 0) / 30000, 1 / 3, 0.015, `${h.key} share`);
});

test('random over no hosts picks nothing and takes no config', () => {
  assert.equal(random.createPicker([], {}, testEnv()).pick(noHash), undefined);
  assert.equal(random.validateConfig!({ tableSize: 7 }).length, 1);
});
