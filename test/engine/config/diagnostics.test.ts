// One test per kind of problem the config loader explains: exact code, path, line, column and
// suggestion, checked through the public entry (loadConfig / formatDiagnostic).

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { formatDiagnostic, loadConfig } from '../../../engine/config/load';
import { BASE, codes, errors, only, variant } from './fixtures';

const load = (text: string, sourceName = 'envoy.yaml') => loadConfig(text, { sourceName });
const CLUSTER0 = 'static_resources.clusters[0]';
const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const ROUTE0 = `${HCM}.route_config.virtual_hosts[0].routes[0]`;

describe('the fixture', () => {
  it('loads with no diagnostics at all', async () => {
    const r = await load(BASE);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.ok, true);
    assert.ok(r.bootstrap);
  });
});

describe('enums', () => {
  it('LEAST_CONN: invalid_enum at the value, suggesting LEAST_REQUEST, formatted compiler-style', async () => {
    const r = await load(variant(['lb_policy: ROUND_ROBIN', 'lb_policy: LEAST_CONN']));
    assert.equal(r.ok, false);
    const d = only(r.diagnostics, 'invalid_enum');
    assert.deepEqual(
      { severity: d.severity, path: d.path, line: d.line, column: d.column, message: d.message, suggestion: d.suggestion },
      { severity: 'error', path: `${CLUSTER0}.lb_policy`, line: 26, column: 16, message: 'invalid value "LEAST_CONN"', suggestion: 'did you mean "LEAST_REQUEST"?' },
    );
    assert.equal(
      formatDiagnostic(d, 'envoy.yaml'),
      'envoy.yaml:26:16: error: static_resources.clusters[0].lb_policy: invalid value "LEAST_CONN" [invalid_enum]\n  → did you mean "LEAST_REQUEST"?',
    );
  });

  it('accepts lower-case enum values and normalizes them', async () => {
    const r = await load(variant(['type: STATIC', 'type: strict_dns'], ['lb_policy: ROUND_ROBIN', 'lb_policy: least_request']));
    assert.deepEqual(r.diagnostics, []);
    const c = (r.normalized as any).static_resources.clusters[0];
    assert.equal(c.type, 'STRICT_DNS');
    assert.equal(c.lb_policy, 'LEAST_REQUEST');
    assert.equal(r.bootstrap!.clusters[0].lbPolicy, 'envoy.load_balancing_policies.least_request');
  });

  it('accepts enum numbers', async () => {
    const r = await load(variant(['lb_policy: ROUND_ROBIN', 'lb_policy: 1']));
    assert.deepEqual(r.diagnostics, []);
    assert.equal((r.normalized as any).static_resources.clusters[0].lb_policy, 'LEAST_REQUEST');
  });

  it('an unknown enum value far from every name lists the valid ones', async () => {
    const r = await load(variant(['lb_policy: ROUND_ROBIN', 'lb_policy: FASTEST']));
    const d = only(r.diagnostics, 'invalid_enum');
    assert.match(d.suggestion ?? '', /^use one of ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV/);
  });
});

describe('fields removed in v3', () => {
  it('hosts: removed_field at the key, pointing to load_assignment', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    hosts: [{ socket_address: { address: 10.0.0.1, port_value: 80 } }]\n']));
    const d = only(r.diagnostics, 'removed_field');
    assert.equal(d.path, `${CLUSTER0}.hosts`);
    assert.equal(d.line, 26);
    assert.equal(d.column, 5);
    assert.equal(d.message, "hosts was removed from envoy.config.cluster.v3.Cluster in Envoy's v3 API");
    assert.match(d.suggestion ?? '', /^use load_assignment: /);
    assert.equal(r.ok, false);
  });

  it('tls_context: removed_field, pointing to transport_socket with an UpstreamTlsContext', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    tls_context: { sni: example.com }\n']));
    const d = only(r.diagnostics, 'removed_field');
    assert.equal(d.path, `${CLUSTER0}.tls_context`);
    assert.deepEqual([d.line, d.column], [26, 5]);
    assert.match(d.suggestion ?? '', /transport_socket: \{name: envoy\.transport_sockets\.tls/);
    assert.match(d.suggestion ?? '', /UpstreamTlsContext/);
  });

  it('a listener filter chain tls_context points to a DownstreamTlsContext', async () => {
    const r = await load(variant(['    - filters:\n', '    - tls_context: {}\n      filters:\n']));
    const d = only(r.diagnostics, 'removed_field');
    assert.equal(d.path, 'static_resources.listeners[0].filter_chains[0].tls_context');
    assert.deepEqual([d.line, d.column], [7, 7]);
    assert.match(d.suggestion ?? '', /DownstreamTlsContext/);
  });
});

describe('deprecated fields', () => {
  it('cluster-level http2_protocol_options: a warning naming typed_extension_protocol_options; the config still loads', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    http2_protocol_options: {}\n']));
    assert.equal(r.ok, true);
    const d = only(r.diagnostics, 'deprecated_field');
    assert.equal(d.severity, 'warning');
    assert.equal(d.path, `${CLUSTER0}.http2_protocol_options`);
    assert.deepEqual([d.line, d.column], [26, 5]);
    assert.match(d.suggestion ?? '', /typed_extension_protocol_options: \{envoy\.extensions\.upstreams\.http\.v3\.HttpProtocolOptions/);
    assert.match(d.suggestion ?? '', /explicit_http_config: \{http2_protocol_options/);
  });

  it('a deprecated field with no table entry takes its hint from the proto comment', async () => {
    const r = await load(
      variant(['              - match: { prefix: "/" }\n', '              - match: { prefix: "/", headers: [{ name: x-env, exact_match: prod }] }\n']),
    );
    const d = only(r.diagnostics, 'deprecated_field');
    assert.equal(d.path, `${ROUTE0}.match.headers[0].exact_match`);
    assert.equal(d.suggestion, 'use string_match: {exact: ...}');
    assert.equal(r.ok, true);
  });
});

describe('unknown fields', () => {
  it('a typo: unknown_field at the key with the nearest field name', async () => {
    const r = await load(variant(['    connect_timeout: 1s', '    connect_timout: 1s']));
    const d = only(r.diagnostics, 'unknown_field');
    assert.equal(d.path, `${CLUSTER0}.connect_timout`);
    assert.deepEqual([d.line, d.column], [24, 5]);
    assert.equal(d.message, 'unknown field "connect_timout" in envoy.config.cluster.v3.Cluster');
    assert.equal(d.suggestion, 'did you mean "connect_timeout"?');
  });

  it('load_assigment → load_assignment', async () => {
    const r = await load(variant(['    load_assignment:', '    load_assigment:']));
    assert.equal(only(r.diagnostics, 'unknown_field').suggestion, 'did you mean "load_assignment"?');
  });

  it('a field that is not Envoy’s at all gets no made-up suggestion', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    retry_budget_magic: 3\n']));
    const d = only(r.diagnostics, 'unknown_field');
    assert.equal(d.path, `${CLUSTER0}.retry_budget_magic`);
    assert.equal(d.suggestion, undefined);
    assert.equal(r.ok, false);
  });

  it('a field put one level too high says where it belongs', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    lb_endpoints: []\n']));
    const d = only(r.diagnostics, 'unknown_field');
    assert.equal(d.suggestion, 'lb_endpoints belongs under load_assignment.endpoints[]');
  });
});

describe('protobuf JSON names', () => {
  it('camelCase field names are accepted and normalized to snake_case', async () => {
    const r = await load(variant(['    connect_timeout: 1s', '    connectTimeout: 2s'], ['    lb_policy: ROUND_ROBIN', '    lbPolicy: RING_HASH\n    ringHashLbConfig: { minimumRingSize: 2048 }'], ['    load_assignment:', '    loadAssignment:']));
    assert.deepEqual(r.diagnostics, []);
    const c = (r.normalized as any).static_resources.clusters[0];
    assert.equal(c.connect_timeout, 2000);
    assert.equal(c.lb_policy, 'RING_HASH');
    assert.deepEqual(c.ring_hash_lb_config, { minimum_ring_size: 2048 });
    assert.equal(r.bootstrap!.clusters[0].connectTimeoutMs, 2000);
    assert.deepEqual(r.bootstrap!.clusters[0].lbConfig, { minimumRingSize: 2048 });
  });

  it('the same field twice (camelCase and snake_case) is an error', async () => {
    const r = await load(variant(['    connect_timeout: 1s', '    connect_timeout: 1s\n    connectTimeout: 2s']));
    const d = only(r.diagnostics, 'duplicate_field');
    assert.deepEqual([d.line, d.column], [25, 5]);
  });
});

describe('durations', () => {
  it('"1.5s" and "0.25s" become milliseconds', async () => {
    const r = await load(variant(['connect_timeout: 1s', 'connect_timeout: 1.5s'], ['route: { cluster: backend }', 'route: { cluster: backend, timeout: 0.25s }']));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.bootstrap!.clusters[0].connectTimeoutMs, 1500);
    const action = r.bootstrap!.listeners[0].filterChains[0].hcm.routeConfig.virtualHosts[0].routes[0].action;
    assert.equal(action.kind === 'route' && action.timeoutMs, 250);
  });

  it('{seconds, nanos} is accepted', async () => {
    const r = await load(variant(['connect_timeout: 1s', 'connect_timeout: { seconds: 2, nanos: 500000000 }']));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.bootstrap!.clusters[0].connectTimeoutMs, 2500);
  });

  it('"250ms" is invalid, with the Envoy spelling as the suggestion', async () => {
    const r = await load(variant(['connect_timeout: 1s', 'connect_timeout: 250ms']));
    const d = only(r.diagnostics, 'invalid_duration');
    assert.deepEqual([d.path, d.line, d.column], [`${CLUSTER0}.connect_timeout`, 24, 22]);
    assert.equal(d.suggestion, 'write "0.25s"');
  });

  it('a bare number is invalid too', async () => {
    const r = await load(variant(['connect_timeout: 1s', 'connect_timeout: 5']));
    assert.equal(only(r.diagnostics, 'invalid_duration').suggestion, 'write "5s"');
  });

  it('PGV duration bounds apply (connect_timeout must be > 0s)', async () => {
    const r = await load(variant(['connect_timeout: 1s', 'connect_timeout: 0s']));
    const d = only(r.diagnostics, 'out_of_range');
    assert.equal(d.message, 'connect_timeout must be greater than 0s, got 0s');
  });
});

describe('HTTP filters', () => {
  it('the router given by name only (no typed_config) loads and runs', async () => {
    const r = await load(BASE);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.bootstrap!.listeners[0].filterChains[0].hcm.httpFilters, [{ name: 'envoy.filters.http.router', typeUrl: '', config: {}, disabled: false }]);
  });

  it('an old filter name given by name only is an error with the current name', async () => {
    const r = await load(variant(['          - name: envoy.filters.http.router', '          - name: envoy.router']));
    const d = only(r.diagnostics, 'unknown_extension');
    assert.equal(d.path, `${HCM}.http_filters[0].name`);
    assert.deepEqual([d.line, d.column], [21, 19]);
    assert.match(d.suggestion ?? '', /envoy\.filters\.http\.router/);
  });

  it('the router must be the last HTTP filter', async () => {
    const r = await load(
      variant([
        '          - name: envoy.filters.http.router\n',
        '          - name: envoy.filters.http.router\n          - name: envoy.filters.http.cors\n            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n',
      ]),
    );
    const d = errors(r.diagnostics).find((x) => x.code === 'router_not_last');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.path, `${HCM}.http_filters[0]`);
    assert.equal(d.message, 'Error: terminal filter named envoy.filters.http.router of type envoy.extensions.filters.http.router.v3.Router must be the last filter in a http filter chain.');
    assert.deepEqual([d.line, d.column], [21, 13]);
  });

  it('a filter Meshdeck does not run is a warning that says so; the config still loads', async () => {
    const r = await load(
      variant([
        '          - name: envoy.filters.http.router\n',
        '          - name: envoy.filters.http.cors\n            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n          - name: envoy.filters.http.router\n',
      ]),
    );
    assert.equal(r.ok, true);
    const d = only(r.diagnostics, 'unsupported_extension');
    assert.equal(d.severity, 'warning');
    assert.equal(d.message, 'HTTP filter envoy.filters.http.cors (envoy.extensions.filters.http.cors.v3.Cors) is not run by Meshdeck: requests pass through without it');
    assert.deepEqual(r.bootstrap!.listeners[0].filterChains[0].hcm.httpFilters.map((f) => f.name), ['envoy.filters.http.router']);
  });

  it('a filter given by name only is validated as its empty config (local_ratelimit needs stat_prefix)', async () => {
    const r = await load(variant(['          - name: envoy.filters.http.router\n', '          - name: envoy.filters.http.local_ratelimit\n          - name: envoy.filters.http.router\n']));
    const d = only(r.diagnostics, 'missing_field');
    assert.equal(d.path, `${HCM}.http_filters[0].typed_config.stat_prefix`);
  });
});

describe('typed configs ("@type")', () => {
  const router = (typedConfig: string) => variant(['          - name: envoy.filters.http.router\n', `          - name: envoy.filters.http.router\n            typed_config: ${typedConfig}\n`]);

  it('an older (v2) type URL is accepted like Envoy, with a warning naming the v3 one', async () => {
    const r = await load(router('{ "@type": type.googleapis.com/envoy.config.filter.http.router.v2.Router }'));
    assert.equal(r.ok, true);
    const d = only(r.diagnostics, 'legacy_type_url');
    assert.equal(d.path, `${HCM}.http_filters[0].typed_config.@type`);
    assert.equal(d.suggestion, 'use "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
    assert.equal(r.bootstrap!.listeners[0].filterChains[0].hcm.httpFilters[0].typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
  });

  it('a misspelt type URL is an error with the nearest message name', async () => {
    const r = await load(router('{ "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr }'));
    const d = only(r.diagnostics, 'unknown_type_url');
    assert.deepEqual([d.line, d.column], [22, 38]);
    assert.equal(d.suggestion, 'did you mean "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"?');
  });

  it('the fields of a typed config are checked against its message', async () => {
    const r = await load(router('{ "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, suppress_envoy_headrs: true }'));
    const d = only(r.diagnostics, 'unknown_field');
    assert.equal(d.path, `${HCM}.http_filters[0].typed_config.suppress_envoy_headrs`);
    assert.equal(d.suggestion, 'did you mean "suppress_envoy_headers"?');
  });

  it('a TypedStruct (type_url + value) is unwrapped and its value checked', async () => {
    const ok = await load(router('{ "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, value: { dynamic_stats: false } }'));
    assert.deepEqual(codes(ok.diagnostics), ['not_supported']); // dynamic_stats: valid, not run by Meshdeck
    assert.equal(ok.bootstrap!.listeners[0].filterChains[0].hcm.httpFilters[0].typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
    const bad = await load(router('{ "@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, value: { dynamic_stat: false } }'));
    assert.equal(only(bad.diagnostics, 'unknown_field').path, `${HCM}.http_filters[0].typed_config.value.dynamic_stat`);
  });

  it('a typed config without "@type" is an error', async () => {
    const r = await load(router('{ dynamic_stats: false }'));
    assert.equal(only(r.diagnostics, 'missing_type_url').line, 22);
  });
});

describe('JSON input', () => {
  const json = JSON.stringify(parseYaml(BASE), null, 2);

  it('loads, with positions in the JSON text', async () => {
    const text = json.replace('"lb_policy": "ROUND_ROBIN"', '"lb_policy": "LEAST_CONN"');
    const r = await load(text, 'envoy.json');
    const d = only(r.diagnostics, 'invalid_enum');
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"LEAST_CONN"')) + 1;
    assert.equal(d.line, line);
    assert.equal(d.column, lines[line - 1].indexOf('"LEAST_CONN"') + 1);
    assert.equal(d.suggestion, 'did you mean "LEAST_REQUEST"?');
  });

  it('is detected from the content when the name says nothing', async () => {
    const r = await loadConfig(json, { sourceName: '--config-yaml' });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.ok, true);
  });

  it('a JSON syntax error (trailing comma) is located', async () => {
    const text = json.replace('"name": "backend",', '"name": "backend",,');
    const r = await load(text, 'envoy.json');
    const d = only(r.diagnostics, 'json_syntax');
    const line = text.split('\n').findIndex((l) => l.includes('"backend",,')) + 1;
    assert.equal(d.line, line);
    assert.equal(r.ok, false);
  });
});

describe('YAML syntax', () => {
  it('a truncated file (inside a quoted string) is a located syntax error, not a throw', async () => {
    const cut = BASE.slice(0, BASE.indexOf('"*"') + 2);
    const r = await load(cut);
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.code === 'yaml_syntax');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.line, 16);
  });

  it('bad indentation', async () => {
    const r = await load(variant(['    connect_timeout: 1s', '     connect_timeout: 1s']));
    assert.equal(r.ok, false);
    const d = r.diagnostics[0];
    assert.equal(d.code, 'yaml_indentation');
    assert.equal(d.line, 24);
    assert.equal(d.column, 6);
    assert.match(d.message, /indented deeper than the key before it/);
  });

  it('a duplicate key names the key and the line of the first one', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    type: STRICT_DNS\n']));
    const d = only(r.diagnostics, 'duplicate_key');
    assert.deepEqual([d.line, d.column, d.message], [26, 5, 'duplicate key "type" (first set at line 25)']);
    assert.equal(r.ok, false);
  });

  it('an empty file is an error', async () => {
    const r = await load('');
    assert.deepEqual(codes(r.diagnostics), ['empty_config']);
  });
});

describe('types', () => {
  it('a string where a number goes', async () => {
    const r = await load(variant(['port_value: 8080', 'port_value: eighty']));
    const d = only(r.diagnostics, 'invalid_type');
    assert.equal(d.message, 'expected an integer (uint32), got the string "eighty"');
    assert.deepEqual([d.line, d.column], [33, 65]);
  });

  it('a number where a string goes suggests quoting it', async () => {
    const r = await load(variant(['stat_prefix: ingress_http', 'stat_prefix: 42']));
    const d = only(r.diagnostics, 'invalid_type');
    assert.equal(d.suggestion, 'quote it: "42"');
  });

  it('a string where a bool goes', async () => {
    const r = await load(variant(['          stat_prefix: ingress_http\n', '          stat_prefix: ingress_http\n          use_remote_address: "true"\n']));
    const d = only(r.diagnostics, 'invalid_type');
    assert.equal(d.suggestion, 'remove the quotes: true');
  });

  it('a list where one value goes', async () => {
    const r = await load(variant(['lb_policy: ROUND_ROBIN', 'lb_policy: [ROUND_ROBIN]']));
    assert.equal(only(r.diagnostics, 'invalid_type').path, `${CLUSTER0}.lb_policy`);
  });

  it('one value where a list goes: accepted like Envoy, with a warning', async () => {
    const r = await load(variant(['domains: ["*"]', 'domains: "*"']));
    assert.equal(r.ok, true);
    const d = only(r.diagnostics, 'single_value_for_repeated');
    assert.equal(d.severity, 'warning');
    assert.deepEqual(r.bootstrap!.listeners[0].filterChains[0].hcm.routeConfig.virtualHosts[0].domains, ['*']);
  });

  it('an object where a scalar message goes lists the fields it takes', async () => {
    const r = await load(variant(['    - filters:\n', '    - transport_socket: tls\n      filters:\n']));
    const d = only(r.diagnostics, 'invalid_type');
    assert.match(d.message, /^expected envoy\.config\.core\.v3\.TransportSocket \(an object\)/);
    assert.equal(d.suggestion, 'write an object with any of the fields name, typed_config');
  });

  it('port 70000 is out of range (port_value lte 65535)', async () => {
    const r = await load(variant(['port_value: 8080', 'port_value: 70000']));
    const d = only(r.diagnostics, 'out_of_range');
    assert.deepEqual(
      [d.path, d.line, d.column, d.message],
      [`${CLUSTER0}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value`, 33, 65, 'port_value must be at most 65535, got 70000'],
    );
  });
});

describe('required fields and oneofs', () => {
  it('a missing stat_prefix (min_len 1)', async () => {
    const r = await load(variant(['          stat_prefix: ingress_http\n', '']));
    const d = only(r.diagnostics, 'missing_field');
    assert.equal(d.path, `${HCM}.stat_prefix`);
    assert.deepEqual([d.line, d.column], [9, 9]);
  });

  it('an address with neither socket_address nor pipe', async () => {
    const r = await load(variant(['      socket_address: { address: 127.0.0.1, port_value: 10000 }\n', '      {}\n']));
    const d = only(r.diagnostics, 'missing_oneof');
    assert.equal(d.message, 'envoy.config.core.v3.Address needs one of: socket_address, pipe, envoy_internal_address');
  });

  it('two members of a oneof name both', async () => {
    const r = await load(variant(['route: { cluster: backend }', 'route: { cluster: backend, cluster_header: x-target }']));
    const d = only(r.diagnostics, 'oneof_conflict');
    assert.equal(d.message, 'cluster and cluster_header are both set, but only one of them may be (oneof cluster_specifier)');
    assert.equal(d.path, `${ROUTE0}.route.cluster_header`);
  });
});

describe('Envoy semantic rules', () => {
  it('duplicate cluster names', async () => {
    const r = await load(BASE.replace('  - name: backend\n', '  - name: backend\n    load_assignment: { cluster_name: other }\n  - name: backend\n'));
    const d = only(r.diagnostics, 'duplicate_cluster');
    assert.equal(d.path, 'static_resources.clusters[1].name');
    assert.deepEqual([d.line, d.column], [25, 11]);
  });

  it('duplicate listener names and addresses', async () => {
    const second = BASE.slice(BASE.indexOf('  - name: ingress'), BASE.indexOf('  clusters:'));
    const r = await load(BASE.replace('  clusters:', `${second}  clusters:`));
    assert.equal(only(r.diagnostics, 'duplicate_listener').path, 'static_resources.listeners[1].name');
    const d = only(r.diagnostics, 'duplicate_address');
    assert.equal(d.path, 'static_resources.listeners[1].address.socket_address.port_value');
    assert.equal(d.message, '127.0.0.1:10000 is already used by static_resources.listeners[0]: both cannot listen on it');
  });

  it('a route to a cluster that does not exist', async () => {
    const r = await load(variant(['route: { cluster: backend }', 'route: { cluster: backnd }']));
    const d = only(r.diagnostics, 'unknown_cluster');
    assert.deepEqual([d.path, d.line, d.column], [`${ROUTE0}.route.cluster`, 19, 35]);
    assert.equal(d.message, "route: unknown cluster 'backnd'");
    assert.equal(d.suggestion, 'did you mean "backend"?');
  });

  it('weighted clusters: unknown names and weights summing to 0', async () => {
    const r = await load(variant(['route: { cluster: backend }', 'route: { weighted_clusters: { clusters: [{ name: backend, weight: 0 }, { name: canary, weight: 0 }] } }']));
    assert.equal(only(r.diagnostics, 'unknown_cluster').message, "route: unknown weighted cluster 'canary'");
    const d = only(r.diagnostics, 'zero_weight_sum');
    assert.equal(d.message, 'Sum of weights in the weighted_cluster must be greater than 0.');
    assert.equal(d.line, 19);
  });

  it('duplicate virtual host domains (case-insensitive), and two "*"', async () => {
    const r = await load(
      variant([
        '              - match: { prefix: "/" }\n                route: { cluster: backend }\n',
        '              - match: { prefix: "/" }\n                route: { cluster: backend }\n            - name: again\n              domains: ["*", "API.example.com", "api.example.com"]\n              routes: []\n',
      ]),
    );
    const ds = r.diagnostics.filter((d) => d.code === 'duplicate_domain');
    assert.deepEqual(
      ds.map((d) => d.message),
      ['Only a single wildcard domain is permitted in route local', 'Only unique values for domains are permitted. Duplicate entry of domain api.example.com in route local'],
    );
  });

  it('regexes RE2 cannot compile', async () => {
    for (const [regex, pattern] of [
      ['^/(?!admin).*', /lookahead/],
      ['^/(a)\\\\1$', /backreference/],
      ['^/(unclosed', /invalid regular expression/],
    ] as const) {
      const r = await load(variant(['match: { prefix: "/" }', `match: { safe_regex: { regex: "${regex}" } }`]));
      const d = only(r.diagnostics, 'invalid_regex');
      assert.equal(d.path, `${ROUTE0}.match.safe_regex.regex`);
      assert.match(d.message, pattern);
      assert.equal(d.line, 18);
    }
  });

  it('an RE2 regex JavaScript would reject as written ((?P<name>), \\A) is fine', async () => {
    const r = await load(variant(['match: { prefix: "/" }', 'match: { safe_regex: { regex: "\\\\A/(?P<id>[0-9]+)\\\\z" } }']));
    assert.deepEqual(r.diagnostics, []);
  });

  it('LOGICAL_DNS with more than one endpoint', async () => {
    const r = await load(
      variant(['type: STATIC', 'type: LOGICAL_DNS'], [
        '              socket_address: { address: 127.0.0.1, port_value: 8080 }\n',
        '              socket_address: { address: 127.0.0.1, port_value: 8080 }\n        - endpoint: { address: { socket_address: { address: 127.0.0.2, port_value: 8080 } } }\n',
      ]),
    );
    assert.match(only(r.diagnostics, 'logical_dns_endpoints').message, /must have a single locality_lb_endpoint and a single lb_endpoint/);
  });

  it('a STATIC cluster given a hostname', async () => {
    const r = await load(variant(['address: 127.0.0.1, port_value: 8080', 'address: backend.local, port_value: 8080']));
    const d = only(r.diagnostics, 'static_cluster_hostname');
    assert.equal(d.suggestion, 'use type: STRICT_DNS (or LOGICAL_DNS) to resolve "backend.local"');
    assert.deepEqual([d.line, d.column], [33, 42]);
  });

  it('maglev table_size must be prime', async () => {
    const r = await load(variant(['lb_policy: ROUND_ROBIN', 'lb_policy: MAGLEV\n    maglev_lb_config: { table_size: 65536 }']));
    const d = only(r.diagnostics, 'maglev_table_size');
    assert.equal(d.suggestion, 'use 65537');
  });

  it('a direct_response body file that does not exist', async () => {
    const r = await load(variant(['route: { cluster: backend }', 'direct_response: { status: 200, body: { filename: /nonexistent/meshdeck/body.txt } }']));
    const d = only(r.diagnostics, 'file_not_found');
    assert.equal(d.path, `${ROUTE0}.direct_response.body.filename`);
  });

  it('a direct_response body file that exists is read into the model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdeck-config-'));
    writeFileSync(join(dir, 'body.txt'), 'hello from a file');
    const r = await loadConfig(variant(['route: { cluster: backend }', 'direct_response: { status: 203, body: { filename: body.txt } }']), { sourceName: 'envoy.yaml', baseDir: dir });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.bootstrap!.listeners[0].filterChains[0].hcm.routeConfig.virtualHosts[0].routes[0].action, { kind: 'direct_response', status: 203, body: 'hello from a file' });
  });
});

describe('what Meshdeck cannot run', () => {
  it('an EDS cluster is an error that says why', async () => {
    const r = await load(variant(['type: STATIC', 'type: EDS']));
    const d = only(r.diagnostics, 'unsupported_cluster_type');
    assert.equal(d.message, 'Meshdeck cannot run EDS clusters (their endpoints come from an EDS management server)');
    assert.deepEqual([d.line, d.column], [25, 11]);
  });

  it('rds instead of route_config is an error', async () => {
    const r = await load(variant(['          route_config:\n            name: local\n', '          rds: { route_config_name: local, config_source: { ads: {} } }\n          route_config:\n            name: local\n']));
    assert.ok(r.diagnostics.some((d) => d.code === 'oneof_conflict'), 'rds and route_config are one oneof');
    const r2 = await load(BASE.replace(/          route_config:[\s\S]*?          http_filters:/, '          rds: { route_config_name: local, config_source: { ads: {} } }\n          http_filters:').replace('route: { cluster: backend }', ''));
    const d = only(r2.diagnostics, 'unsupported_feature');
    assert.match(d.message, /^Meshdeck cannot run routes from RDS/);
    assert.equal(r2.ok, false);
  });

  it('lb_policy CLUSTER_PROVIDED is an error', async () => {
    const r = await load(variant(['lb_policy: ROUND_ROBIN', 'lb_policy: CLUSTER_PROVIDED']));
    assert.equal(only(r.diagnostics, 'unsupported_lb_policy').line, 26);
  });

  it('codec_type HTTP2 runs: no warning, HTTP2 in the model', async () => {
    const r = await load(variant(['          stat_prefix: ingress_http\n', '          stat_prefix: ingress_http\n          codec_type: HTTP2\n']));
    assert.equal(r.ok, true);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.bootstrap!.listeners[0].filterChains[0].hcm.codecType, 'HTTP2');
  });

  it('a type in a package the shipped protos have, but not that message: a warning (a newer Envoy), fields unchecked', async () => {
    const r = await load(
      variant(['        - endpoint:\n', '        - metadata: { typed_filter_metadata: { x: { "@type": type.googleapis.com/envoy.config.core.v3.PerHostConfig, anything: 1 } } }\n          endpoint:\n']),
    );
    assert.equal(only(r.diagnostics, 'type_not_shipped').severity, 'warning');
  });

  it('tracing is a warning naming what it means, and the config runs', async () => {
    const r = await load(
      variant([
        '          stat_prefix: ingress_http\n',
        '          stat_prefix: ingress_http\n          tracing: { provider: { name: envoy.tracers.zipkin, typed_config: { "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: backend, collector_endpoint: /api/v2/spans, collector_endpoint_version: HTTP_JSON } } }\n',
      ]),
    );
    assert.equal(r.ok, true);
    const d = only(r.diagnostics, 'not_supported');
    assert.equal(d.message, 'not run by Meshdeck: request tracing: no spans are sent');
    assert.deepEqual([d.path, d.line, d.column], [`${HCM}.tracing`, 12, 11]);
  });

  it('a field of a message Meshdeck runs but no table describes falls back to its proto comment', async () => {
    const r = await load(variant(['    type: STATIC\n', '    type: STATIC\n    ignore_health_on_host_removal: true\n']));
    const d = only(r.diagnostics, 'not_supported');
    assert.match(d.message, /^not run by Meshdeck: ignore_health_on_host_removal \(.+\)$/);
  });
});

describe('a config with many problems', () => {
  it('reports every one of them, in document order', async () => {
    const text = variant(
      ['stat_prefix: ingress_http', 'stat_prefx: ingress_http'],
      ['domains: ["*"]', 'domains: ["*", "*"]'],
      ['route: { cluster: backend }', 'route: { cluster: nowhere, timeout: 15 }'],
      ['    connect_timeout: 1s', '    connect_timeout: 1m'],
      ['lb_policy: ROUND_ROBIN', 'lb_policy: LEAST_CONN'],
      ['    load_assignment:', '    hosts: []\n    load_assignment:'],
      ['port_value: 8080', 'port_value: 70000'],
    );
    const r = await load(text);
    assert.deepEqual(codes(errors(r.diagnostics)), [
      'missing_field', // stat_prefix, at the typed_config that lacks it (line 9)
      'unknown_field', // stat_prefx (line 11)
      'duplicate_domain',
      'unknown_cluster',
      'invalid_duration', // timeout: 15
      'invalid_duration', // 1m
      'invalid_enum',
      'removed_field',
      'out_of_range',
    ]);
    const lines = r.diagnostics.map((d) => d.line);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  });
});
