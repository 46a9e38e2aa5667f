// The runtime model built from a valid config: Envoy's defaults, the load-balancing policy and
// its settings, what is carried over and what is left out.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../engine/config/load';
import type { Bootstrap, RouteAction } from '../../../engine/config/model';
import { BASE, variant } from './fixtures';

async function boot(text: string): Promise<Bootstrap> {
  const r = await loadConfig(text, { sourceName: 'envoy.yaml' });
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics, null, 1));
  assert.ok(r.bootstrap);
  return r.bootstrap;
}

const firstRoute = (b: Bootstrap) => b.listeners[0].filterChains[0].hcm.routeConfig.virtualHosts[0].routes[0];
const firstAction = (b: Bootstrap) => firstRoute(b).action as RouteAction;

describe('Envoy defaults', () => {
  it('cluster, route, connection manager and circuit breaker defaults', async () => {
    const b = await boot(variant(['    connect_timeout: 1s\n', '']));
    const c = b.clusters[0];
    assert.equal(c.connectTimeoutMs, 5000);
    assert.equal(c.dnsRefreshRateMs, 5000);
    assert.equal(c.dnsLookupFamily, 'AUTO');
    assert.deepEqual(c.circuitBreakers, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
    assert.deepEqual(c.commonLbConfig, { healthyPanicThreshold: 50, localityWeightedLb: false });
    assert.equal(c.perConnectionBufferLimitBytes, 1048576);
    assert.equal(c.upstreamProtocol, 'HTTP1');
    assert.deepEqual(c.endpoints, [
      {
        locality: { region: '', zone: '', subZone: '' },
        priority: 0,
        loadBalancingWeight: 0,
        lbEndpoints: [{ address: { address: '127.0.0.1', port: 8080 }, weight: 1, healthStatus: 'UNKNOWN', hostname: '' }],
      },
    ]);
    const hcm = b.listeners[0].filterChains[0].hcm;
    assert.equal(hcm.serverName, 'envoy');
    assert.equal(hcm.codecType, 'AUTO');
    assert.equal(hcm.generateRequestId, true);
    assert.equal(hcm.useRemoteAddress, false);
    assert.equal(hcm.requestTimeoutMs, 0);
    assert.equal(hcm.streamIdleTimeoutMs, 300000);
    assert.equal(hcm.maxRequestHeadersKb, 60);
    assert.equal(hcm.idleTimeoutMs, 3600000);
    const route = firstRoute(b);
    assert.deepEqual(route.match, { path: { kind: 'prefix', value: '/' }, caseSensitive: true, headers: [], queryParameters: [] });
    assert.deepEqual(route.action, { kind: 'route', cluster: 'backend', timeoutMs: 15000, idleTimeoutMs: 0, hashPolicy: [] });
    assert.equal(b.listeners[0].perConnectionBufferLimitBytes, 1048576);
  });

  it('retry policy defaults: 1 retry, 25 ms base, 10x max; a route without one takes its virtual host’s', async () => {
    const b = await boot(variant(['              domains: ["*"]\n', '              domains: ["*"]\n              retry_policy: { retry_on: "5xx,reset" }\n']));
    assert.deepEqual(firstAction(b).retryPolicy, {
      retryOn: ['5xx', 'reset'],
      numRetries: 1,
      perTryTimeoutMs: 0,
      baseIntervalMs: 25,
      maxIntervalMs: 250,
      retriableStatusCodes: [],
      hostSelectionRetryMaxAttempts: 1,
    });
  });

  it('a route’s own retry policy replaces the virtual host’s', async () => {
    const b = await boot(
      variant(
        ['              domains: ["*"]\n', '              domains: ["*"]\n              retry_policy: { retry_on: "5xx", num_retries: 5 }\n'],
        ['route: { cluster: backend }', 'route: { cluster: backend, retry_policy: { retry_on: connect-failure, retry_back_off: { base_interval: 0.1s } } }'],
      ),
    );
    const p = firstAction(b).retryPolicy!;
    assert.deepEqual([p.retryOn, p.numRetries, p.baseIntervalMs, p.maxIntervalMs], [['connect-failure'], 1, 100, 1000]);
  });

  it('admin address, STRICT_DNS hostnames kept as strings, unnamed listeners named by address', async () => {
    const b = await boot(
      `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }\n${variant(
        ['  - name: ingress\n    address:\n', '  - address:\n'],
        ['type: STATIC', 'type: STRICT_DNS'],
        ['address: 127.0.0.1, port_value: 8080', 'address: payments.internal, port_value: 8080'],
      )}`,
    );
    assert.deepEqual(b.admin, { address: { address: '127.0.0.1', port: 9901 } });
    assert.equal(b.listeners[0].name, '127.0.0.1_10000');
    assert.equal(b.clusters[0].type, 'STRICT_DNS');
    assert.equal(b.clusters[0].endpoints[0].lbEndpoints[0].address.address, 'payments.internal');
  });
});

describe('load-balancing policy', () => {
  const withPolicy = (yaml: string) => variant(['    lb_policy: ROUND_ROBIN\n', yaml]);

  it('lb_policy enums map to registry names', async () => {
    for (const [e, name] of [
      ['ROUND_ROBIN', 'envoy.load_balancing_policies.round_robin'],
      ['LEAST_REQUEST', 'envoy.load_balancing_policies.least_request'],
      ['RANDOM', 'envoy.load_balancing_policies.random'],
      ['RING_HASH', 'envoy.load_balancing_policies.ring_hash'],
      ['MAGLEV', 'envoy.load_balancing_policies.maglev'],
    ]) {
      const b = await boot(withPolicy(`    lb_policy: ${e}\n`));
      assert.equal(b.clusters[0].lbPolicy, name);
      assert.deepEqual(b.clusters[0].lbConfig, {});
    }
  });

  it('cluster-level *_lb_config → camelCase lbConfig', async () => {
    let b = await boot(withPolicy('    lb_policy: LEAST_REQUEST\n    least_request_lb_config: { choice_count: 3, active_request_bias: { default_value: 0.5, runtime_key: lr.bias } }\n'));
    assert.deepEqual(b.clusters[0].lbConfig, { choiceCount: 3, activeRequestBias: 0.5 });
    b = await boot(withPolicy('    lb_policy: RING_HASH\n    ring_hash_lb_config: { minimum_ring_size: 512, maximum_ring_size: 4096, hash_function: MURMUR_HASH_2 }\n'));
    assert.deepEqual(b.clusters[0].lbConfig, { minimumRingSize: 512, maximumRingSize: 4096, hashFunction: 'MURMUR_HASH_2' });
    b = await boot(withPolicy('    lb_policy: MAGLEV\n    maglev_lb_config: { table_size: 5003 }\n'));
    assert.deepEqual(b.clusters[0].lbConfig, { tableSize: 5003 });
  });

  it('slow start is handed to the runtime and runs: no warning', async () => {
    const r = await loadConfig(withPolicy('    lb_policy: ROUND_ROBIN\n    round_robin_lb_config: { slow_start_config: { slow_start_window: 30s, aggression: { default_value: 2, runtime_key: rr.a }, min_weight_percent: { value: 20 } } }\n'), {
      sourceName: 'envoy.yaml',
    });
    assert.equal(r.ok, true);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message]), []);
    assert.deepEqual(r.bootstrap!.clusters[0].lbConfig, { slowStart: { slowStartWindowMs: 30000, aggression: 2, minWeightPercent: 20 } });
  });

  it('a typed load_balancing_policy wins over lb_policy', async () => {
    const b = await boot(
      withPolicy(`    lb_policy: ROUND_ROBIN
    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: envoy.load_balancing_policies.ring_hash
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash
            minimum_ring_size: 256
`),
    );
    assert.equal(b.clusters[0].lbPolicy, 'envoy.load_balancing_policies.ring_hash');
    assert.deepEqual(b.clusters[0].lbConfig, { minimumRingSize: 256 });
  });

  it('Meshdeck’s peak EWMA first, an Envoy policy after it: Meshdeck runs peak EWMA, Envoy would run least_request', async () => {
    const r = await loadConfig(
      withPolicy(`    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: meshdeck.load_balancing_policies.peak_ewma
          typed_config:
            "@type": type.googleapis.com/meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma
            decay_time: 5s
            default_rtt: 0.05s
      - typed_extension_config:
          name: envoy.load_balancing_policies.least_request
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest
`),
      { sourceName: 'envoy.yaml' },
    );
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.bootstrap!.clusters[0].lbPolicy, 'meshdeck.load_balancing_policies.peak_ewma');
    assert.deepEqual(r.bootstrap!.clusters[0].lbConfig, { decayTimeMs: 5000, defaultRttMs: 50 });
  });

  it('Meshdeck’s policy is validated against its own proto', async () => {
    const r = await loadConfig(
      withPolicy(`    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: meshdeck.load_balancing_policies.peak_ewma
          typed_config:
            "@type": type.googleapis.com/meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma
            decay_tme: 0s
`),
      { sourceName: 'envoy.yaml' },
    );
    const d = r.diagnostics.find((x) => x.code === 'unknown_field');
    assert.equal(d?.suggestion, 'did you mean "decay_time"?');
  });

  it('a policy Meshdeck does not run is skipped with a warning; the first supported one runs', async () => {
    const r = await loadConfig(
      withPolicy(`    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: envoy.load_balancing_policies.client_side_weighted_round_robin
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin
      - typed_extension_config:
          name: envoy.load_balancing_policies.random
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.random.v3.Random
`),
      { sourceName: 'envoy.yaml' },
    );
    assert.equal(r.ok, true);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['unsupported_extension', 'static_resources.clusters[0].load_balancing_policy.policies[0]']]);
    assert.equal(r.bootstrap!.clusters[0].lbPolicy, 'envoy.load_balancing_policies.random');
  });

  it('no supported policy at all is an error', async () => {
    const r = await loadConfig(
      withPolicy(`    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: envoy.load_balancing_policies.client_side_weighted_round_robin
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin
`),
      { sourceName: 'envoy.yaml' },
    );
    assert.equal(r.ok, false);
    assert.equal(r.diagnostics.find((d) => d.severity === 'error')?.code, 'unsupported_lb_policy');
  });
});

describe('routes', () => {
  it('weighted clusters keep their weights and sum them', async () => {
    const b = await boot(
      BASE.replace('route: { cluster: backend }', 'route: { weighted_clusters: { clusters: [{ name: backend, weight: 90 }, { name: canary, weight: 10 }] } }').replace(
        '  clusters:\n',
        '  clusters:\n  - name: canary\n    load_assignment: { cluster_name: canary, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8081 } } } }] }] }\n',
      ),
    );
    assert.deepEqual(firstAction(b).weightedClusters, { clusters: [{ name: 'backend', weight: 90 }, { name: 'canary', weight: 10 }], totalWeight: 100 });
  });

  it('matchers: legacy exact_match, string_match, present; hash policy; redirects and header mutations', async () => {
    const b = await boot(
      variant(
        [
          '              - match: { prefix: "/" }\n                route: { cluster: backend }\n',
          `              - match:
                  path: /pay
                  case_sensitive: false
                  headers:
                  - { name: x-env, exact_match: prod }
                  - { name: x-tenant, string_match: { prefix: acme, ignore_case: true } }
                  - { name: x-debug }
                  query_parameters:
                  - { name: v, string_match: { exact: "2" } }
                route:
                  cluster: backend
                  hash_policy: [{ header: { header_name: idempotency-key }, terminal: true }, { connection_properties: { source_ip: true } }]
                request_headers_to_add: [{ header: { key: x-a, value: "1" }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }]
                response_headers_to_remove: [server]
              - match: { prefix: "/old" }
                redirect: { path_redirect: /new, response_code: PERMANENT_REDIRECT }
`,
        ],
      ),
    );
    const [pay, old] = b.listeners[0].filterChains[0].hcm.routeConfig.virtualHosts[0].routes;
    assert.deepEqual(pay.match, {
      path: { kind: 'path', value: '/pay' },
      caseSensitive: false,
      headers: [
        { name: 'x-env', invertMatch: false, treatMissingHeaderAsEmpty: false, stringMatch: { kind: 'exact', value: 'prod', ignoreCase: false } },
        { name: 'x-tenant', invertMatch: false, treatMissingHeaderAsEmpty: false, stringMatch: { kind: 'prefix', value: 'acme', ignoreCase: true } },
        { name: 'x-debug', invertMatch: false, treatMissingHeaderAsEmpty: false, presentMatch: true },
      ],
      queryParameters: [{ name: 'v', stringMatch: { kind: 'exact', value: '2', ignoreCase: false } }],
    });
    assert.deepEqual((pay.action as RouteAction).hashPolicy, [
      { kind: 'header', name: 'idempotency-key', terminal: true },
      { kind: 'source_ip', name: '', terminal: false },
    ]);
    assert.deepEqual(pay.requestHeadersToAdd, [{ key: 'x-a', value: '1', appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    assert.deepEqual(pay.responseHeadersToRemove, ['server']);
    assert.deepEqual(old.action, { kind: 'redirect', httpsRedirect: false, responseCode: 308, stripQuery: false, pathRedirect: '/new' });
  });
});

describe('what is carried over', () => {
  it('access loggers Meshdeck runs are kept with their normalized config; filters it does not run are left out', async () => {
    const b = await boot(
      variant([
        '          http_filters:\n          - name: envoy.filters.http.router\n',
        `          access_log:
          - name: envoy.access_loggers.stdout
            typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog }
          http_filters:
          - name: envoy.filters.http.cors
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }
          - name: my_router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`,
      ]),
    );
    const hcm = b.listeners[0].filterChains[0].hcm;
    assert.deepEqual(hcm.accessLog, [{ name: 'envoy.access_loggers.stdout', typeUrl: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', config: {} }]);
    // The router under a custom name is still the router: the model carries its registry name.
    assert.deepEqual(hcm.httpFilters, [{ name: 'envoy.filters.http.router', typeUrl: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', config: {}, disabled: false }]);
  });

  it('a listener whose only filter chain is tcp_proxy is run: its chain is in the model, no warning', async () => {
    const r = await loadConfig(
      BASE.replace(
        '  clusters:\n',
        `  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: 10001 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tcp, cluster: backend }
  clusters:
`,
      ),
      { sourceName: 'envoy.yaml' },
    );
    assert.equal(r.ok, true);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.bootstrap!.listeners.map((l) => l.name), ['ingress', 'tcp']);
    assert.deepEqual(r.bootstrap!.listeners[1].tcpFilterChains[0].tcpProxy, { statPrefix: 'tcp', cluster: 'backend', idleTimeoutMs: 3_600_000, accessLog: [] });
  });

  it('upstream HTTP/2 (explicit_http_config) runs: HTTP2 in the model, no warning', async () => {
    const r = await loadConfig(
      variant([
        '    lb_policy: ROUND_ROBIN\n',
        `    lb_policy: ROUND_ROBIN
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
`,
      ]),
      { sourceName: 'envoy.yaml' },
    );
    assert.equal(r.ok, true);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.bootstrap!.clusters[0].upstreamProtocol, 'HTTP2');
  });
});
