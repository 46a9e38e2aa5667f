import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getLbPolicy, lbPolicyNames, LB_POLICY_ENUM_TO_NAME, registerLbPolicy, validateLbConfig } from '../../../engine/lb/registry';

test('every policy is registered under its extension name', () => {
  assert.deepEqual(lbPolicyNames().sort(), [
    'envoy.load_balancing_policies.least_request',
    'envoy.load_balancing_policies.maglev',
    'envoy.load_balancing_policies.random',
    'envoy.load_balancing_policies.ring_hash',
    'envoy.load_balancing_policies.round_robin',
    'meshdeck.load_balancing_policies.peak_ewma',
  ]);
  for (const name of lbPolicyNames()) assert.equal(getLbPolicy(name)?.name, name);
  assert.equal(getLbPolicy('envoy.load_balancing_policies.nope'), undefined);
  assert.equal(getLbPolicy('envoy.load_balancing_policies.ring_hash')?.hashing, true);
  assert.equal(getLbPolicy('envoy.load_balancing_policies.round_robin')?.hashing, undefined);
});

test("lb_policy enum values map to Envoy's extension names", () => {
  assert.deepEqual({ ...LB_POLICY_ENUM_TO_NAME }, {
    ROUND_ROBIN: 'envoy.load_balancing_policies.round_robin',
    LEAST_REQUEST: 'envoy.load_balancing_policies.least_request',
    RING_HASH: 'envoy.load_balancing_policies.ring_hash',
    RANDOM: 'envoy.load_balancing_policies.random',
    MAGLEV: 'envoy.load_balancing_policies.maglev',
  });
  for (const name of Object.values(LB_POLICY_ENUM_TO_NAME)) assert.ok(getLbPolicy(name), name);
});

test('adding a policy is one registration; names are unique', () => {
  const name = 'meshdeck.load_balancing_policies.test_first';
  registerLbPolicy({ name, createPicker: (hosts) => ({ pick: () => hosts[0] }) });
  assert.equal(getLbPolicy(name)?.name, name);
  assert.throws(() => registerLbPolicy({ name, createPicker: () => ({ pick: () => undefined }) }), /already registered/);
});

test('validateLbConfig reports config problems and unknown policies', () => {
  assert.deepEqual(validateLbConfig('envoy.load_balancing_policies.maglev', { tableSize: 65537 }), []);
  assert.match(validateLbConfig('envoy.load_balancing_policies.maglev', { tableSize: 4 }).join(), /prime/);
  assert.match(validateLbConfig('fancy', {}).join(), /unknown load-balancing policy "fancy"/);
});
