// Weight edits touch only the weight: comments, flow/block style, key spelling all stay.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editWeights, EditError } from '../../../engine/config/edit';

const YAML = `static_resources:
  clusters:
  - name: pay   # payments
    loadAssignment:          # camelCase, as protobuf JSON allows
      clusterName: pay
      endpoints:
      - lbEndpoints:
        - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } }
          loadBalancingWeight: 3   # primary
        - endpoint:
            address:
              socket_address: { address: 10.0.0.2, port_value: 80 }

        - { endpoint: { address: { socket_address: { address: 10.0.0.3, port_value: 80 } } } }
`;

test('an existing weight changes in place, keeping its spelling and comment', () => {
  const out = editWeights(YAML, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.0.0.1:80', weight: 7 }]);
  assert.equal(out, YAML.replace('loadBalancingWeight: 3   # primary', 'loadBalancingWeight: 7   # primary'));
});

test('a missing weight is added under a block-style endpoint at its indentation', () => {
  const out = editWeights(YAML, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.0.0.2:80', weight: 2 }]);
  assert.equal(
    out,
    YAML.replace('socket_address: { address: 10.0.0.2, port_value: 80 }\n', 'socket_address: { address: 10.0.0.2, port_value: 80 }\n          load_balancing_weight: 2\n'),
  );
});

test('a missing weight is added inside a flow-style endpoint', () => {
  const out = editWeights(YAML, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.0.0.3:80', weight: 4 }]);
  assert.match(out, /- \{ endpoint: \{ address: \{ socket_address: \{ address: 10\.0\.0\.3, port_value: 80 \} \} \}, load_balancing_weight: 4 \}/);
});

test('JSON stays JSON', () => {
  const json = JSON.stringify({ static_resources: { clusters: [{ name: 'pay', load_assignment: { cluster_name: 'pay', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } } }] }] } }] } }, null, 2);
  const out = editWeights(json, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.0.0.1:80', weight: 5 }]);
  assert.equal(JSON.parse(out).static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight, 5);
});

test('edits that name nothing, or bad weights, are refused with a reason', () => {
  assert.throws(() => editWeights(YAML, [{ kind: 'endpoint', cluster: 'nope', endpoint: '10.0.0.1:80', weight: 1 }]), (e: unknown) => e instanceof EditError && /no cluster named 'nope'/.test((e as Error).message));
  assert.throws(() => editWeights(YAML, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.9.9.9:80', weight: 1 }]), /has no endpoint 10\.9\.9\.9:80/);
  assert.throws(() => editWeights(YAML, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.0.0.1:80', weight: 0 }]), /at least 1/);
  assert.throws(() => editWeights(YAML, [{ kind: 'endpoint', cluster: 'pay', endpoint: '10.0.0.1:80', weight: 1.5 }]), /non-negative integer/);
});
