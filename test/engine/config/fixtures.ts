// A small valid Envoy config the config tests vary line by line. Line numbers matter: tests
// assert exact positions, so keep this text as it is (add new fixtures instead).
//
//  1 static_resources:
//  …
// 23   - name: backend
// 24     connect_timeout: 1s
// 25     type: STATIC
// 26     lb_policy: ROUND_ROBIN
// 33               socket_address: { address: 127.0.0.1, port_value: 8080 }

import assert from 'node:assert/strict';
import type { Diagnostic } from '../../../engine/config/model';

export const BASE = `static_resources:
  listeners:
  - name: ingress
    address:
      socket_address: { address: 127.0.0.1, port_value: 10000 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.router
  clusters:
  - name: backend
    connect_timeout: 1s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 8080 }
`;

/** BASE with each `from` replaced by `to`; fails when a `from` is not in the text (the fixture drifted). */
export function variant(...edits: [from: string, to: string][]): string {
  let text = BASE;
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `fixture does not contain ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

/** The one diagnostic with this code (fails when there are none or several). */
export function only(ds: readonly Diagnostic[], code: string): Diagnostic {
  const hits = ds.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `expected exactly one ${code}, got: ${JSON.stringify(ds, null, 1)}`);
  return hits[0];
}

export function codes(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => d.code);
}

export function errors(ds: readonly Diagnostic[]): Diagnostic[] {
  return ds.filter((d) => d.severity === 'error');
}
