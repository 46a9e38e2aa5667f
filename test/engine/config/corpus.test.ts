// Every Envoy config of the shared corpus (../shared/corpus/envoy, real configs Envoy accepts),
// loaded through loadConfig: one test per file, checked against the table below — whether it
// loads, and exactly which errors and warnings it gets (code + Envoy path). A file may fail only
// for a reason that is right, written next to it. Paths are shortened: `L0` =
// static_resources.listeners[0], `L0.fc0.f0` = its filter_chains[0].filters[0].typed_config
// (the HTTP connection manager), `C0` = static_resources.clusters[0].

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { formatDiagnostic, loadConfig } from '../../../engine/config/load';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/envoy/', import.meta.url));

if (!existsSync(CORPUS)) {
  throw new Error(`the shared Envoy corpus is missing: expected it at ${CORPUS} (../shared beside the clone)`);
}

interface Expectation {
  ok: boolean;
  /** Why failing is the right answer (required when ok is false). */
  why?: string;
  errors?: string[];
  warnings: string[];
}

const short = (p: string): string =>
  p
    .replace(/^static_resources\.listeners\[(\d+)\]\.filter_chains\[(\d+)\]\.filters\[(\d+)\]\.typed_config/, 'L$1.fc$2.f$3')
    .replace(/^static_resources\.listeners\[(\d+)\]/, 'L$1')
    .replace(/^static_resources\.clusters\[(\d+)\]/, 'C$1');

// Common warnings, for reading the table:
//   unsupported_extension  a filter / transport socket / per-route config Meshdeck does not run (yet)
//   not_supported          a field Meshdeck does not run (tracing, node, layered_runtime, decorator, …)
//   listener_not_run       a listener none of whose filter chains ends in the HCM or tcp_proxy
//   no_router_filter       an HCM with no http_filters: Envoy accepts it, nothing can be routed
//   field_not_shipped / type_not_shipped  newer than the Envoy protos shipped with Meshdeck
//   single_value_for_repeated  a list field given one value (Envoy accepts it)
const EXPECTED: Record<string, Expectation> = {
  'envoy/configs__envoy-demo.yaml': {
    ok: true,
    warnings: [
      'not_supported L1.fc0.f0.local_reply_config',
    ],
  },
  'envoy/configs__envoyproxy_io_proxy.yaml': {
    ok: false,
    why:
      'scheme_header_transformation: OVERWRITE_SCHEME plus scheme: https is the API of an unmerged draft of envoyproxy/envoy#17070; ' +
      'every released Envoy has scheme_header_transformation as a message ({scheme_to_overwrite: https}) and no HCM field "scheme", ' +
      'so Envoy rejects this file too (the corpus copy predates the merged API).',
    errors: [
      'invalid_type L0.fc0.f0.scheme_header_transformation',
      'unknown_field L0.fc0.f0.scheme',
    ],
    warnings: [],
  },
  'envoy/configs__jwt_authn.yaml': {
    ok: true,
    warnings: [
      'field_not_shipped L0.fc0.f0.http_filters[0].typed_config.providers["firebase"].claim_to_headers[2].claim_path',
      'not_supported C0.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].upstream_http_protocol_options',
    ],
  },
  'envoy/configs__proxy_protocol.yaml': {
    ok: true,
    warnings: [
      'no_router_filter L0.fc0.f0',
      'not_supported C0.load_assignment.endpoints[0].lb_endpoints[0].metadata',
      'type_not_shipped C0.load_assignment.endpoints[0].lb_endpoints[0].metadata.typed_filter_metadata["envoy.transport_sockets.proxy_protocol"].@type',
      'unsupported_extension C0.transport_socket',
      'field_not_shipped C0.transport_socket.typed_config.config.added_tlvs',
    ],
  },
  'envoy/docs__root__configuration__http__http_filters___include__compressor-filter.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].typed_per_filter_config["envoy.filters.http.compression"]',
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.compression"]',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'field_not_shipped L0.fc0.f0.http_filters[0].typed_config.response_direction_config.common_config.uncompressible_response_code',
    ],
  },
  'envoy/docs__root__configuration__http__http_filters___include__ext-authz-http-filter.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
    ],
  },
  'envoy/docs__root__configuration__http__http_filters___include__local-rate-limit-global-configuration.yaml': {
    ok: true,
    warnings: [],
  },
  'envoy/docs__root__configuration__http__http_filters___include__rate-limit-routes.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].route.rate_limits',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[1].route.rate_limits',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[2].route.rate_limits',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[3].route.rate_limits',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[4].route.rate_limits',
      'type_not_shipped L0.fc0.f0.route_config.virtual_hosts[0].routes[4].route.rate_limits[0].actions[0].extension.typed_config.@type',
    ],
  },
  'envoy/docs__root__configuration__http__http_filters___include__stateful-cookie-session.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
    ],
  },
  'envoy/docs__root__intro___include__life-of-a-request.yaml': {
    ok: true,
    warnings: [
      'deprecated_field C0.http2_protocol_options',
      'not_supported stats_sinks',
    ],
  },
  'envoy/docs__root__intro__arch_overview__upstream___include__load-balancing-policy.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/brotli__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'unsupported_extension L1.fc0.f0.http_filters[0]',
    ],
  },
  'examples/cache__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
    ],
  },
  'examples/cors__frontend__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
    ],
  },
  'examples/csrf__samesite__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].typed_per_filter_config["envoy.filters.http.cors"]',
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].typed_per_filter_config["envoy.filters.http.csrf"]',
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.csrf"]',
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].routes[1].typed_per_filter_config["envoy.filters.http.csrf"]',
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].routes[2].typed_per_filter_config["envoy.filters.http.csrf"]',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'unsupported_extension L0.fc0.f0.http_filters[1]',
    ],
  },
  'examples/datadog-tracing__envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.tracing',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'deprecated_field L0.fc0.f0.http_filters[0].typed_config.headers[0].exact_match',
    ],
  },
  'examples/double-proxy__envoy-backend.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/double-proxy__envoy.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/ext_authz__config__grpc-service__v3.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
    ],
  },
  'examples/ext_authz__config__opa-service__v3.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
    ],
  },
  'examples/fault-injection__envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported layered_runtime',
    ],
  },
  'examples/front-proxy__envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported layered_runtime',
    ],
  },
  'examples/front-proxy__service-envoy.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/grpc-bridge__server__envoy-proxy.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].match.grpc',
    ],
  },
  'examples/gzip__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'unsupported_extension L0.fc0.f0.http_filters[1]',
      'unsupported_extension L1.fc0.f0.http_filters[0]',
    ],
  },
  'examples/jaeger-tracing__envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported node',
      'not_supported L0.fc0.f0.tracing',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
    ],
  },
  'examples/jaeger-tracing__service2-envoy-jaeger.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.tracing',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
    ],
  },
  'examples/local_ratelimit__envoy.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/lua__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.route_config.virtual_hosts[0].routes[0].typed_per_filter_config["lua_filter_with_custom_name_1"]',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'unsupported_extension L0.fc0.f0.http_filters[1]',
    ],
  },
  'examples/opentelemetry__envoy-1.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.tracing',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
      'not_supported L1.fc0.f0.tracing',
      'not_supported L1.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
    ],
  },
  'examples/route-mirror__envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].route.request_mirror_policies',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[1].route.request_mirror_policies',
    ],
  },
  'examples/single-page-app__envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported node',
      'not_supported dynamic_resources',
      'not_supported L0.fc0.f0.upgrade_configs',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'single_value_for_repeated L0.fc0.f0.http_filters[0].typed_config.config.pass_through_matcher',
      'not_supported L1.access_log',
      'unsupported_extension L1.fc0.f0.http_filters[0]',
      'single_value_for_repeated L1.fc0.f0.http_filters[0].typed_config.config.pass_through_matcher',
      'unsupported_extension L1.fc0.f0.http_filters[1]',
    ],
  },
  'examples/tls-sni__envoy-client.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/tls-sni__envoy.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/tls__envoy-https-https.yaml': {
    ok: true,
    warnings: [],
  },
  'examples/zipkin__envoy-1.yaml': {
    ok: true,
    warnings: [
      'not_supported node',
      'not_supported L0.fc0.f0.tracing',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
      'not_supported L1.fc0.f0.tracing',
      'not_supported L1.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
    ],
  },
  'examples/zipkin__envoy-2.yaml': {
    ok: true,
    warnings: [
      'not_supported node',
      'not_supported L0.fc0.f0.tracing',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
    ],
  },
  'examples/zstd__envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'unsupported_extension L1.fc0.f0.http_filters[0]',
    ],
  },
  'playground/services__http-echo__envoy-echo.yaml': {
    ok: true,
    warnings: [
      'single_value_for_repeated L1.filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates',
    ],
  },
  'playground/services__zipkin__envoy-zipkin.yaml': {
    ok: true,
    warnings: [
      'not_supported L0.fc0.f0.tracing',
      'not_supported L0.fc0.f0.route_config.virtual_hosts[0].routes[0].decorator',
    ],
  },
  'ratelimit/examples__envoy__mock.yaml': {
    ok: true,
    warnings: [
      'deprecated_field admin.access_log_path',
      'not_supported admin.access_log_path',
    ],
  },
  'solo-io__hoot/01-intro__response-header.yaml': {
    ok: true,
    warnings: [
      'deprecated_field admin.access_log_path',
      'not_supported admin.access_log_path',
      'single_value_for_repeated L0.fc0.f0.route_config.virtual_hosts[0].routes[0].response_headers_to_add',
    ],
  },
  'solo-io__hoot/01-intro__simple_fault.yaml': {
    ok: true,
    warnings: [
      'deprecated_field admin.access_log_path',
      'not_supported admin.access_log_path',
    ],
  },
  'solo-io__hoot/02-observe__accesslogs.yaml': {
    ok: true,
    warnings: [
      'deprecated_field admin.access_log_path',
      'not_supported admin.access_log_path',
      'not_supported L0.fc0.f0.access_log[0].filter',
    ],
  },
  'solo-io__hoot/12-hitless-delpoy__envoy.yaml': {
    ok: false,
    why:
      'cluster "upstream" is type: EDS: its endpoints come from an xDS server (xds_cluster on 127.0.0.1:9977). Meshdeck cannot run EDS, ' +
      'and running the config without that cluster would send every request to a cluster with no hosts.',
    errors: [
      'unsupported_cluster_type C0.type',
    ],
    warnings: [
      'not_supported node',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'deprecated_field L0.fc0.f0.http_filters[0].typed_config.headers[0].exact_match',
      'not_supported C0.eds_cluster_config',
      'deprecated_field C1.http2_protocol_options',
      'not_supported C1.upstream_connection_options',
      'deprecated_field admin.access_log_path',
      'not_supported admin.access_log_path',
    ],
  },
  'takesection-sandbox__envoyproxy-examples/front-proxy-jwt__front-envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[1]',
      'deprecated_field L0.fc0.f0.http_filters[1].typed_config.inline_code',
      'unsupported_extension L0.fc0.f0.http_filters[2]',
    ],
  },
  'takesection-sandbox__envoyproxy-examples/front-proxy-login__front-envoy.yaml': {
    ok: true,
    warnings: [
      'not_supported static_resources.secrets',
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'unsupported_extension L0.fc0.f0.http_filters[1]',
      'unsupported_extension L0.fc0.f0.http_filters[2]',
    ],
  },
  'takesection-sandbox__envoyproxy-examples/front-proxy-opa__front-envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[1]',
      'unsupported_extension L0.fc0.f0.http_filters[2]',
      'deprecated_field L0.fc0.f0.http_filters[2].typed_config.inline_code',
      'unsupported_extension L0.fc0.f0.http_filters[3]',
    ],
  },
  'takesection-sandbox__envoyproxy-examples/front-proxy-s3__front-envoy.yaml': {
    ok: true,
    warnings: [
      'unsupported_extension L0.fc0.f0.http_filters[0]',
      'deprecated_field L0.fc0.f0.http_filters[0].typed_config.inline_code',
      'unsupported_extension L0.fc0.f0.http_filters[1]',
    ],
  },
};

function corpusFiles(): string[] {
  return readdirSync(CORPUS, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml') || f.endsWith('.json'))
    .map((f) => f.split('\\').join('/'))
    .sort();
}

describe('Envoy corpus', () => {
  const files = corpusFiles();

  it('has every corpus file in the expectations table, and nothing else', () => {
    assert.ok(files.length >= 49, `expected the 49 corpus configs, found ${files.length}`);
    assert.deepEqual(Object.keys(EXPECTED).sort(), files);
  });

  for (const file of files) {
    it(file, async () => {
      const exp = EXPECTED[file];
      assert.ok(exp, `no expectation for ${file}`);
      const text = readFileSync(CORPUS + file, 'utf8');
      const r = await loadConfig(text, { sourceName: file });
      const shown = r.diagnostics.map((d) => formatDiagnostic(d, file)).join('\n');
      const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${short(d.path)}`);
      const warnings = r.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.code} ${short(d.path)}`);
      assert.equal(r.ok, exp.ok, shown);
      if (!exp.ok) assert.ok(exp.why, 'a failing file needs its reason');
      assert.deepEqual(errors, exp.errors ?? [], shown);
      assert.deepEqual(warnings, exp.warnings, shown);
      assert.ok(!r.diagnostics.some((d) => d.code === 'internal_error'), shown);
      for (const d of r.diagnostics) assert.ok(d.line >= 1 && d.column >= 1, `unlocated: ${formatDiagnostic(d, file)}`);
      if (r.ok) {
        assert.ok(r.bootstrap, 'a config that loads has a bootstrap');
        assert.equal(r.bootstrap.clusters.length, (r.normalized as any)?.static_resources?.clusters?.length ?? 0);
      } else {
        assert.equal(r.bootstrap, undefined);
      }
    });
  }
});
