// What Meshdeck runs of a valid Envoy config. Each message type Meshdeck executes has an
// allow-list of the fields it reads (the ones resolve.ts maps into the runtime model); any other
// field that is set is valid Envoy that Meshdeck does not run, and gets a warning naming what it
// means — so a field new in Envoy defaults to "warn", never to "silently ignored". Extensions
// (filters, access loggers, transport sockets, load-balancing policies) are looked up in the
// registries of registry.ts. Things that would change what traffic does if ignored (EDS, RDS,
// custom cluster types, ...) are errors.

import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { typeName } from './protos';
import {
  ACCESS_LOGGERS,
  chooseLbPolicy,
  CLUSTER_TYPES,
  DOWNSTREAM_HTTP2,
  type ExtensionRegistry,
  HTTP_FILTERS,
  NETWORK_FILTERS,
  PROTOCOL_OPTIONS,
  TRANSPORT_SOCKETS,
  UPSTREAM_HTTP2,
} from './registry';
import { firstSentence } from './removed';
import { child, entry, index, type Reporter } from './report';
import type { Validated } from './validate';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTE = 'envoy.config.route.v3';
const CLUSTER = 'envoy.config.cluster.v3.Cluster';
const CORE = 'envoy.config.core.v3';
const HEADER_MUTATIONS = ['request_headers_to_add', 'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove'];

/** Message type → the fields Meshdeck runs ('*' = all of them). */
export const SUPPORTED_FIELDS: Readonly<Record<string, readonly string[] | '*'>> = {
  'envoy.config.bootstrap.v3.Bootstrap': ['static_resources', 'admin'],
  'envoy.config.bootstrap.v3.Bootstrap.StaticResources': ['listeners', 'clusters'],
  'envoy.config.bootstrap.v3.Admin': ['address'],
  [`${CORE}.Address`]: ['socket_address'],
  [`${CORE}.SocketAddress`]: ['address', 'port_value', 'protocol', 'ipv4_compat'],
  // listeners
  'envoy.config.listener.v3.Listener': ['name', 'address', 'filter_chains', 'per_connection_buffer_limit_bytes', 'traffic_direction'],
  'envoy.config.listener.v3.FilterChain': ['filters', 'transport_socket', 'name', 'filter_chain_match'],
  // SNI and the transport protocol are read from the ClientHello Meshdeck always inspects (engine/listener/sniff.ts).
  'envoy.config.listener.v3.FilterChainMatch': ['server_names', 'transport_protocol'],
  // envoy.transport_sockets.tls (engine/listener/tls.ts downstream, engine/upstream/pool-cache.ts upstream)
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': ['common_tls_context', 'require_client_certificate'],
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': ['common_tls_context', 'sni'],
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext': ['tls_params', 'tls_certificates', 'validation_context', 'alpn_protocols'],
  'envoy.extensions.transport_sockets.tls.v3.TlsParameters': ['tls_minimum_protocol_version', 'tls_maximum_protocol_version', 'cipher_suites'],
  'envoy.extensions.transport_sockets.tls.v3.TlsCertificate': ['certificate_chain', 'private_key'],
  'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext': ['trusted_ca', 'match_typed_subject_alt_names', 'match_subject_alt_names'],
  'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher': ['san_type', 'matcher'],
  // envoy.filters.network.tcp_proxy (engine/listener/tcp-proxy.ts)
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': ['stat_prefix', 'cluster', 'weighted_clusters', 'idle_timeout', 'access_log'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster': ['clusters'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight': ['name', 'weight'],
  'envoy.config.listener.v3.Filter': ['name', 'typed_config'],
  [`${CORE}.TransportSocket`]: ['name', 'typed_config'],
  'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer': '*',
  [HCM]: [
    'stat_prefix', 'codec_type', 'route_config', 'http_filters', 'access_log', 'use_remote_address',
    'skip_xff_append', 'xff_num_trusted_hops', 'server_name', 'generate_request_id', 'preserve_external_request_id',
    'request_timeout', 'stream_idle_timeout', 'max_request_headers_kb', 'common_http_protocol_options',
    'http_protocol_options', 'http2_protocol_options',
  ],
  [`${CORE}.HttpProtocolOptions`]: ['idle_timeout'],
  [`${CORE}.Http1ProtocolOptions`]: ['accept_http_10'],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter': ['name', 'typed_config', 'disabled', 'is_optional'],
  'envoy.extensions.filters.http.router.v3.Router': [],
  'envoy.config.accesslog.v3.AccessLog': ['name', 'typed_config'],
  'envoy.extensions.access_loggers.file.v3.FileAccessLog': '*',
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': '*',
  'envoy.extensions.access_loggers.stream.v3.StderrAccessLog': '*',
  // routes
  [`${ROUTE}.RouteConfiguration`]: ['name', 'virtual_hosts', 'validate_clusters', 'max_direct_response_body_size_bytes', ...HEADER_MUTATIONS],
  [`${ROUTE}.VirtualHost`]: ['name', 'domains', 'routes', 'retry_policy', 'typed_per_filter_config', ...HEADER_MUTATIONS],
  [`${ROUTE}.Route`]: ['name', 'match', 'route', 'redirect', 'direct_response', 'typed_per_filter_config', ...HEADER_MUTATIONS],
  [`${ROUTE}.RouteMatch`]: ['prefix', 'path', 'safe_regex', 'path_separated_prefix', 'case_sensitive', 'headers', 'query_parameters'],
  [`${ROUTE}.HeaderMatcher`]: [
    'name', 'string_match', 'exact_match', 'prefix_match', 'suffix_match', 'contains_match', 'safe_regex_match',
    'present_match', 'range_match', 'invert_match', 'treat_missing_header_as_empty',
  ],
  [`${ROUTE}.QueryParameterMatcher`]: ['name', 'string_match', 'present_match'],
  'envoy.type.matcher.v3.StringMatcher': ['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'ignore_case'],
  'envoy.type.matcher.v3.RegexMatcher': ['regex', 'google_re2'],
  'envoy.type.matcher.v3.RegexMatcher.GoogleRE2': '*',
  'envoy.type.matcher.v3.RegexMatchAndSubstitute': '*',
  'envoy.type.v3.Int64Range': '*',
  [`${ROUTE}.RouteAction`]: [
    'cluster', 'cluster_header', 'weighted_clusters', 'timeout', 'idle_timeout', 'prefix_rewrite', 'regex_rewrite',
    'host_rewrite_literal', 'retry_policy', 'hash_policy',
  ],
  [`${ROUTE}.WeightedCluster`]: ['clusters', 'total_weight'],
  [`${ROUTE}.WeightedCluster.ClusterWeight`]: ['name', 'weight'],
  [`${ROUTE}.RetryPolicy`]: ['retry_on', 'num_retries', 'per_try_timeout', 'retry_back_off', 'retriable_status_codes', 'host_selection_retry_max_attempts'],
  [`${ROUTE}.RetryPolicy.RetryBackOff`]: '*',
  [`${ROUTE}.RouteAction.HashPolicy`]: ['header', 'cookie', 'connection_properties', 'query_parameter', 'terminal'],
  [`${ROUTE}.RouteAction.HashPolicy.Header`]: ['header_name'],
  [`${ROUTE}.RouteAction.HashPolicy.Cookie`]: ['name', 'ttl', 'path'],
  [`${ROUTE}.RouteAction.HashPolicy.ConnectionProperties`]: ['source_ip'],
  [`${ROUTE}.RouteAction.HashPolicy.QueryParameter`]: ['name'],
  [`${ROUTE}.RedirectAction`]: ['https_redirect', 'scheme_redirect', 'host_redirect', 'port_redirect', 'path_redirect', 'prefix_rewrite', 'response_code', 'strip_query'],
  [`${ROUTE}.DirectResponseAction`]: ['status', 'body'],
  [`${CORE}.DataSource`]: ['filename', 'inline_string', 'inline_bytes', 'environment_variable'],
  [`${CORE}.HeaderValueOption`]: ['header', 'append', 'append_action', 'keep_empty_value'],
  [`${CORE}.HeaderValue`]: ['key', 'value', 'raw_value'],
  // clusters
  [CLUSTER]: [
    'name', 'type', 'cluster_type', 'connect_timeout', 'lb_policy', 'load_assignment', 'dns_lookup_family', 'dns_refresh_rate',
    'circuit_breakers', 'common_lb_config', 'per_connection_buffer_limit_bytes', 'least_request_lb_config', 'ring_hash_lb_config',
    'maglev_lb_config', 'round_robin_lb_config', 'load_balancing_policy', 'http2_protocol_options', 'typed_extension_protocol_options',
    'transport_socket', 'health_checks', 'outlier_detection',
  ],
  // Active HTTP health checks (engine/upstream/health-check.ts) and outlier detection (outlier-detection.ts).
  [`${CORE}.HealthCheck`]: [
    'timeout', 'interval', 'initial_jitter', 'interval_jitter', 'interval_jitter_percent', 'unhealthy_threshold', 'healthy_threshold',
    'no_traffic_interval', 'unhealthy_interval', 'unhealthy_edge_interval', 'healthy_edge_interval', 'http_health_check', 'reuse_connection',
  ],
  [`${CORE}.HealthCheck.HttpHealthCheck`]: ['host', 'path', 'request_headers_to_add', 'request_headers_to_remove', 'expected_statuses', 'retriable_statuses', 'method'],
  'envoy.config.cluster.v3.OutlierDetection': [
    'consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure', 'interval', 'base_ejection_time', 'max_ejection_time',
    'max_ejection_percent', 'enforcing_consecutive_5xx', 'enforcing_consecutive_gateway_failure', 'enforcing_consecutive_local_origin_failure',
    'enforcing_success_rate', 'success_rate_minimum_hosts', 'success_rate_request_volume', 'success_rate_stdev_factor',
    'enforcing_failure_percentage', 'failure_percentage_minimum_hosts', 'failure_percentage_request_volume', 'failure_percentage_threshold',
    'split_external_local_origin_errors',
  ],
  // envoy.filters.http.fault (engine/filters/fault.ts)
  'envoy.extensions.filters.http.fault.v3.HTTPFault': ['delay', 'abort', 'upstream_cluster', 'headers', 'downstream_nodes', 'max_active_faults'],
  'envoy.extensions.filters.common.fault.v3.FaultDelay': ['fixed_delay', 'header_delay', 'percentage'],
  'envoy.extensions.filters.common.fault.v3.FaultDelay.HeaderDelay': '*',
  'envoy.extensions.filters.http.fault.v3.FaultAbort': ['http_status', 'header_abort', 'percentage'],
  'envoy.extensions.filters.http.fault.v3.FaultAbort.HeaderAbort': '*',
  'envoy.type.v3.FractionalPercent': '*',
  'envoy.config.endpoint.v3.ClusterLoadAssignment': ['cluster_name', 'endpoints'],
  'envoy.config.endpoint.v3.LocalityLbEndpoints': ['locality', 'lb_endpoints', 'load_balancing_weight', 'priority'],
  [`${CORE}.Locality`]: ['region', 'zone', 'sub_zone'],
  'envoy.config.endpoint.v3.LbEndpoint': ['endpoint', 'health_status', 'load_balancing_weight'],
  'envoy.config.endpoint.v3.Endpoint': ['address', 'hostname'],
  'envoy.config.cluster.v3.CircuitBreakers': ['thresholds'],
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds': ['priority', 'max_connections', 'max_pending_requests', 'max_requests', 'max_retries'],
  [`${CLUSTER}.CommonLbConfig`]: ['healthy_panic_threshold', 'locality_weighted_lb_config'],
  [`${CLUSTER}.CommonLbConfig.LocalityWeightedLbConfig`]: '*',
  'envoy.type.v3.Percent': '*',
  [`${CLUSTER}.LeastRequestLbConfig`]: ['choice_count', 'active_request_bias', 'slow_start_config'],
  [`${CLUSTER}.RingHashLbConfig`]: ['minimum_ring_size', 'maximum_ring_size', 'hash_function'],
  [`${CLUSTER}.MaglevLbConfig`]: ['table_size'],
  [`${CLUSTER}.RoundRobinLbConfig`]: ['slow_start_config'],
  [`${CLUSTER}.SlowStartConfig`]: '*',
  [`${CORE}.RuntimeDouble`]: '*',
  'envoy.config.cluster.v3.LoadBalancingPolicy': ['policies'],
  'envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin': ['slow_start_config'],
  'envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest': ['choice_count', 'active_request_bias', 'slow_start_config'],
  'envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash': ['minimum_ring_size', 'maximum_ring_size', 'hash_function'],
  'envoy.extensions.load_balancing_policies.maglev.v3.Maglev': ['table_size'],
  'envoy.extensions.load_balancing_policies.random.v3.Random': [],
  'envoy.extensions.load_balancing_policies.common.v3.SlowStartConfig': '*',
  'meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma': '*',
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': ['explicit_http_config', 'use_downstream_protocol_config', 'auto_config'],
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig': ['http_protocol_options', 'http2_protocol_options'],
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig': ['http_protocol_options', 'http2_protocol_options'],
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig': ['http_protocol_options', 'http2_protocol_options'],
  // Downstream (node:http2 settings) and upstream (undici's maxConcurrentStreams).
  [`${CORE}.Http2ProtocolOptions`]: ['max_concurrent_streams', 'initial_stream_window_size'],
  // envoy.filters.http.local_ratelimit (engine/filters/local-ratelimit.ts)
  'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit': [
    'stat_prefix', 'status', 'token_bucket', 'filter_enabled', 'filter_enforced', 'request_headers_to_add_when_not_enforced',
    'response_headers_to_add', 'local_rate_limit_per_downstream_connection',
  ],
  'envoy.type.v3.TokenBucket': '*',
  'envoy.type.v3.HttpStatus': '*',
  [`${CORE}.RuntimeFractionalPercent`]: ['default_value', 'runtime_key'],
  // envoy.filters.http.jwt_authn (engine/filters/jwt-authn/). remote_jwks is fetched from http_uri.uri
  // directly (its cluster only names where Envoy would send the fetch).
  'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication': ['providers', 'rules', 'requirement_map', 'bypass_cors_preflight', 'strip_failure_response'],
  'envoy.extensions.filters.http.jwt_authn.v3.JwtProvider': [
    'issuer', 'audiences', 'remote_jwks', 'local_jwks', 'forward', 'from_headers', 'from_params', 'from_cookies', 'forward_payload_header',
    'pad_forward_payload_header', 'payload_in_metadata', 'header_in_metadata', 'clock_skew_seconds', 'jwt_cache_config', 'claim_to_headers',
    'require_expiration',
  ],
  'envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks': ['http_uri', 'cache_duration', 'async_fetch', 'retry_policy'],
  [`${CORE}.RetryPolicy`]: ['retry_back_off', 'num_retries'],
  [`${CORE}.BackoffStrategy`]: '*',
  [`${CORE}.HttpUri`]: ['uri', 'cluster', 'timeout'],
  'envoy.extensions.filters.http.jwt_authn.v3.JwksAsyncFetch': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.JwtCacheConfig': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.JwtHeader': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader': ['header_name', 'claim_name'],
  'envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.ProviderWithAudiences': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList': '*',
  'envoy.extensions.filters.http.jwt_authn.v3.RequirementRule': ['match', 'requires', 'requirement_name'],
  'envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig': '*',
  // envoy.filters.http.rbac (engine/filters/rbac/)
  'envoy.extensions.filters.http.rbac.v3.RBAC': ['rules', 'shadow_rules', 'rules_stat_prefix', 'shadow_rules_stat_prefix'],
  'envoy.extensions.filters.http.rbac.v3.RBACPerRoute': ['rbac'],
  'envoy.config.rbac.v3.RBAC': ['action', 'policies'],
  'envoy.config.rbac.v3.Policy': ['permissions', 'principals'],
  'envoy.config.rbac.v3.Permission': [
    'and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_ip', 'destination_port', 'destination_port_range', 'metadata',
    'not_rule', 'requested_server_name',
  ],
  'envoy.config.rbac.v3.Permission.Set': '*',
  'envoy.config.rbac.v3.Principal': [
    'and_ids', 'or_ids', 'any', 'authenticated', 'source_ip', 'direct_remote_ip', 'remote_ip', 'header', 'url_path', 'metadata', 'not_id',
  ],
  'envoy.config.rbac.v3.Principal.Set': '*',
  'envoy.config.rbac.v3.Principal.Authenticated': '*',
  [`${CORE}.CidrRange`]: '*',
  'envoy.type.v3.Int32Range': '*',
  'envoy.type.matcher.v3.PathMatcher': '*',
  'envoy.type.matcher.v3.MetadataMatcher': '*',
};

/** What a field means, where its proto comment's first sentence would not say it well. */
const MEANING: Readonly<Record<string, string>> = {
  'envoy.config.bootstrap.v3.Bootstrap.node': 'the node identity (used by xDS and tracing)',
  'envoy.config.bootstrap.v3.Bootstrap.dynamic_resources': 'dynamic resources (LDS/CDS/ADS): only static_resources are loaded',
  'envoy.config.bootstrap.v3.Bootstrap.layered_runtime': 'runtime layers: Envoy’s default runtime values apply',
  'envoy.config.bootstrap.v3.Bootstrap.stats_sinks': 'stats sinks: stats are served by the admin API only',
  'envoy.config.bootstrap.v3.Bootstrap.overload_manager': 'the overload manager',
  'envoy.config.bootstrap.v3.Bootstrap.tracing': 'request tracing',
  'envoy.config.bootstrap.v3.Bootstrap.StaticResources.secrets': 'static secrets (SDS)',
  'envoy.config.bootstrap.v3.Admin.access_log_path': 'the admin access log',
  'envoy.config.bootstrap.v3.Admin.access_log': 'the admin access log',
  'envoy.config.listener.v3.Listener.listener_filters': 'listener filters (such as tls_inspector)',
  'envoy.config.listener.v3.Listener.access_log': 'listener-level access logs (connections no filter chain accepts)',
  [`${HCM}.tracing`]: 'request tracing: no spans are sent',
  [`${HCM}.http2_protocol_options`]: 'downstream HTTP/2 settings',
  [`${HCM}.upgrade_configs`]: 'protocol upgrades (WebSocket, CONNECT)',
  [`${HCM}.local_reply_config`]: 'custom local replies',
  [`${CLUSTER}.upstream_connection_options`]: 'upstream socket options (TCP keepalive)',
  [`${CLUSTER}.eds_cluster_config`]: 'endpoint discovery (EDS)',
  [`${ROUTE}.RouteMatch.grpc`]: 'matching gRPC requests only: this route matches any request that fits its path',
  [`${ROUTE}.RouteMatch.runtime_fraction`]: 'matching a runtime fraction of requests: this route matches every request that fits its path',
  [`${ROUTE}.Route.decorator`]: 'the tracing decorator',
  [`${ROUTE}.RouteAction.request_mirror_policies`]: 'request mirroring: no shadow traffic is sent',
  [`${ROUTE}.RouteAction.rate_limits`]: 'rate-limit descriptors for the global rate-limit service',
  'envoy.config.endpoint.v3.LbEndpoint.metadata': 'endpoint metadata',
  'envoy.config.endpoint.v3.Endpoint.health_check_config': 'per-endpoint health-check settings',
  'envoy.config.accesslog.v3.AccessLog.filter': 'access-log filters: every request is logged',
};

/** Fields that Meshdeck cannot ignore without changing what traffic does: errors, not warnings. */
const CANNOT_RUN: Readonly<Record<string, string>> = {
  [`${HCM}.rds`]: 'routes from RDS (a route discovery service): Meshdeck runs static route_config only',
  [`${HCM}.scoped_routes`]: 'scoped routes (SRDS): Meshdeck runs a static route_config only',
  [`${CLUSTER}.cluster_type`]: 'a custom cluster type (aggregate, dynamic forward proxy, redis, ...)',
  [`${CORE}.Address.pipe`]: 'Unix domain socket addresses',
  [`${CORE}.Address.envoy_internal_address`]: 'internal (in-process) listener addresses',
  [`${ROUTE}.RouteMatch.connect_matcher`]: 'CONNECT matching',
  [`${ROUTE}.RouteMatch.path_match_policy`]: 'path templates (path_match_policy)',
  [`${ROUTE}.Route.filter_action`]: 'filter actions',
  [`${ROUTE}.Route.non_forwarding_action`]: 'non-forwarding actions',
  [`${ROUTE}.RouteAction.cluster_specifier_plugin`]: 'cluster specifier plugins',
  [`${ROUTE}.RouteAction.inline_cluster_specifier_plugin`]: 'cluster specifier plugins',
  [`${ROUTE}.WeightedCluster.ClusterWeight.cluster_header`]: 'weighted clusters named by a request header',
  'envoy.config.listener.v3.Listener.default_filter_chain': 'a default filter chain',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Listener filters whose work Meshdeck's listener does by itself. */
const INSPECTORS: ReadonlySet<string> = new Set([
  'envoy.filters.listener.tls_inspector',
  'envoy.filters.listener.http_inspector',
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
]);

function typeOfAny(tc: unknown): string {
  const url = isObject(tc) ? tc['@type'] : undefined;
  return typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : '';
}

/** Report what a validated config uses that Meshdeck does not run. */
export function checkSupport(v: Validated, rep: Reporter): void {
  if (!v.value) return;
  new SupportWalker(v, rep).visit(v.value);
}

class SupportWalker {
  constructor(
    private readonly v: Validated,
    private readonly rep: Reporter,
  ) {}

  visit(obj: Record<string, unknown>): void {
    const type = this.v.typeOf.get(obj);
    if (!type) return;
    const path = this.v.pathOf.get(obj) ?? '';
    const tname = typeName(type);
    const allow = SUPPORTED_FIELDS[tname];
    if (allow === '*') return; // all of it runs
    for (const [k, val] of Object.entries(obj)) {
      if (k === '@type') continue;
      const field = type.fields[k];
      if (!field) continue; // a field newer than the shipped protos: already warned about
      const fpath = child(path, k);
      if (isDefault(field, val)) continue;
      const special = this.special(tname, k, val, fpath, obj, path);
      if (special) continue;
      const cannot = CANNOT_RUN[`${tname}.${k}`];
      if (cannot) {
        this.rep.error('unsupported_feature', fpath, `Meshdeck cannot run ${cannot}`, { at: 'key' });
        continue;
      }
      if (!allow?.includes(k)) {
        this.notRun(type, field, fpath);
        continue;
      }
      this.descend(val);
    }
  }

  private descend(val: unknown): void {
    if (Array.isArray(val)) for (const item of val) this.descend(item);
    else if (isObject(val)) {
      if (this.v.typeOf.has(val)) this.visit(val);
      else for (const item of Object.values(val)) if (isObject(item) && this.v.typeOf.has(item)) this.visit(item); // map values
    }
  }

  private notRun(type: Type, field: Field, fpath: string): void {
    const tname = typeName(type);
    const meaning = MEANING[`${tname}.${field.name}`] ?? describeField(field);
    this.rep.warn('not_supported', fpath, `not run by Meshdeck: ${meaning}`, { at: 'key' });
  }

  /** Fields with their own rules. True when handled. */
  private special(tname: string, k: string, val: unknown, fpath: string, obj: Record<string, unknown>, path: string): boolean {
    const key = `${tname}.${k}`;
    switch (key) {
      case 'envoy.config.listener.v3.Listener.filter_chains':
        this.filterChains(val, fpath, path);
        return true;
      case 'envoy.config.listener.v3.FilterChain.filters':
        return true; // handled per listener, in filterChains
      case 'envoy.config.listener.v3.FilterChain.transport_socket':
        this.extension(TRANSPORT_SOCKETS, val, fpath, 'this filter chain accepts plain-text connections');
        return true;
      case `${CLUSTER}.transport_socket`:
        this.extension(TRANSPORT_SOCKETS, val, fpath, "connections to this cluster's hosts are made without it (plain text)");
        return true;
      case `${HCM}.http_filters`:
        this.list(val, fpath, (f, p) => this.extension(HTTP_FILTERS, f, p, 'requests pass through without it'));
        return true;
      case 'envoy.config.listener.v3.Listener.listener_filters':
        // Meshdeck always reads the ClientHello and the HTTP/2 preface itself: the inspectors run; others do not.
        this.list(val, fpath, (f, p) => {
          if (isObject(f) && (INSPECTORS.has(String(f.name)) || INSPECTORS.has(typeOfAny(f.typed_config)))) return;
          this.rep.warn('not_supported', p, `not run by Meshdeck: listener filter ${isObject(f) ? extensionLabel(f) : ''}`, { at: 'key' });
        });
        return true;
      case 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.access_log':
      case `${HCM}.access_log`:
        this.list(val, fpath, (f, p) => this.extension(ACCESS_LOGGERS, f, p, 'nothing is logged by it'));
        return true;
      case `${HCM}.codec_type`:
        if (val === 'HTTP3') this.rep.error('unsupported_feature', fpath, 'Meshdeck cannot run HTTP/3 (QUIC) listeners');
        else if (val === 'HTTP2' && !DOWNSTREAM_HTTP2) {
          this.rep.warn('not_supported', fpath, 'not run by Meshdeck yet: downstream HTTP/2 (this listener speaks HTTP/1.1)');
        }
        return true;
      case `${ROUTE}.VirtualHost.typed_per_filter_config`:
      case `${ROUTE}.Route.typed_per_filter_config`:
        this.perFilterConfig(val, fpath);
        return true;
      case `${CLUSTER}.type`:
        if (typeof val === 'string' && !CLUSTER_TYPES.has(val)) {
          this.rep.error('unsupported_cluster_type', fpath, `Meshdeck cannot run ${val} clusters (${CLUSTER_TYPE_MEANING[val] ?? 'endpoints Meshdeck cannot discover'})`, {
            suggestion: 'use STATIC, STRICT_DNS or LOGICAL_DNS with a load_assignment listing the endpoints',
          });
        }
        return true;
      case `${CLUSTER}.lb_policy`:
        if (val === 'CLUSTER_PROVIDED') {
          this.rep.error('unsupported_lb_policy', fpath, 'Meshdeck cannot run CLUSTER_PROVIDED: it leaves balancing to a custom cluster type', {
            suggestion: 'use ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH or MAGLEV',
          });
        } else if (val === 'LOAD_BALANCING_POLICY_CONFIG' && obj.load_balancing_policy === undefined) {
          this.rep.error('unsupported_lb_policy', fpath, 'LOAD_BALANCING_POLICY_CONFIG needs a load_balancing_policy with the policies to use', {
            suggestion: 'add load_balancing_policy: {policies: [...]}, or use lb_policy: ROUND_ROBIN',
          });
        }
        return true;
      case `${CLUSTER}.load_balancing_policy`:
        this.lbPolicy(val, fpath);
        return true;
      case `${CLUSTER}.typed_extension_protocol_options`:
        if (isObject(val)) {
          for (const [name, cfg] of Object.entries(val)) this.extension(PROTOCOL_OPTIONS, { name, typed_config: cfg }, entry(fpath, name), 'its settings do not apply', cfg);
        }
        return true;
      case `${CLUSTER}.http2_protocol_options`:
        this.upstreamHttp2(fpath);
        this.descend(val);
        return true;
      case 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig.http2_protocol_options':
        this.upstreamHttp2(fpath);
        this.descend(val);
        return true;
      case `${CORE}.SocketAddress.protocol`:
        if (val === 'UDP') this.rep.error('unsupported_feature', fpath, 'Meshdeck cannot run UDP');
        return true;
      default:
        return false;
    }
  }

  private upstreamHttp2(fpath: string): void {
    if (!UPSTREAM_HTTP2) this.rep.warn('not_supported', fpath, 'not run by Meshdeck yet: upstream HTTP/2 (requests to this cluster use HTTP/1.1)', { at: 'key' });
  }

  private list(val: unknown, path: string, each: (item: unknown, itemPath: string) => void): void {
    if (!Array.isArray(val)) return;
    val.forEach((item, i) => each(item, index(path, i)));
  }

  /**
   * A configured extension ({name, typed_config}): descend into it when Meshdeck runs it, else
   * warn that it is not run and what that means.
   */
  private extension(reg: ExtensionRegistry, ext: unknown, path: string, consequence: string, node?: unknown): void {
    if (!isObject(ext)) return;
    const e = reg.find(ext.name, ext.typed_config);
    if (e && e.level === 'supported') {
      const target = node ?? ext;
      if (isObject(target)) {
        if (this.v.typeOf.has(target)) this.visit(target);
        else if (isObject(ext.typed_config) && this.v.typeOf.has(ext.typed_config)) this.visit(ext.typed_config);
      }
      return;
    }
    const label = extensionLabel(ext);
    const msg = e?.level === 'planned' ? `${reg.kind} ${label} is not run by Meshdeck yet: ${consequence}` : `${reg.kind} ${label} is not run by Meshdeck: ${consequence}`;
    this.rep.warn('unsupported_extension', path, msg, { at: 'key' });
  }

  private filterChains(val: unknown, path: string, listenerPath: string): void {
    if (!Array.isArray(val)) return;
    let runnable = 0;
    val.forEach((chain, i) => {
      if (!isObject(chain)) return;
      const cpath = index(path, i);
      this.visit(chain);
      const filters = Array.isArray(chain.filters) ? chain.filters : [];
      let hasHcm = false;
      filters.forEach((f, j) => {
        const fpath = index(child(cpath, 'filters'), j);
        if (!isObject(f)) return;
        const e = NETWORK_FILTERS.find(f.name, f.typed_config);
        if (e && e.level === 'supported') {
          hasHcm = true;
          if (this.v.typeOf.has(f)) this.visit(f);
          return;
        }
        const label = extensionLabel(f);
        this.rep.warn('unsupported_extension', fpath, `network filter ${label} is not run by Meshdeck${e ? ' yet' : ''}: ${filters.length === 1 ? 'this filter chain is left out' : 'connections pass through without it'}`, {
          at: 'key',
        });
      });
      if (hasHcm) runnable++;
    });
    if (runnable === 0 && val.length > 0) {
      this.rep.warn('listener_not_run', listenerPath, 'this listener is not started: none of its filter chains has a filter Meshdeck runs (the HTTP connection manager or tcp_proxy)', { at: 'key' });
    }
  }

  private perFilterConfig(val: unknown, path: string): void {
    if (!isObject(val)) return;
    for (const [name, cfg] of Object.entries(val)) {
      const p = entry(path, name);
      const url = isObject(cfg) ? cfg['@type'] : undefined;
      const t = typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : '';
      const filter = HTTP_FILTERS.entries.find((e) => e.level === 'supported' && e.perRouteTypes?.includes(t));
      if (filter && isObject(cfg)) {
        this.visit(cfg);
        continue;
      }
      this.rep.warn('unsupported_extension', p, `per-route config for ${name}${t ? ` (${t})` : ''} is not run by Meshdeck: the filter it configures does not run`, { at: 'key' });
    }
  }

  private lbPolicy(val: unknown, path: string): void {
    if (!isObject(val)) return;
    const policies = val.policies;
    const ppath = child(path, 'policies');
    const choice = chooseLbPolicy(policies);
    if (!choice) {
      const names = Array.isArray(policies) ? policies.map((p) => extensionLabel((isObject(p) && isObject(p.typed_extension_config) ? p.typed_extension_config : {}) as Record<string, unknown>)) : [];
      this.rep.error('unsupported_lb_policy', ppath, `none of the load-balancing policies can be run by Meshdeck${names.length ? ` (${names.join(', ')})` : ''}`, {
        at: 'key',
        suggestion: 'list one of envoy.load_balancing_policies.{round_robin,least_request,random,ring_hash,maglev} (or meshdeck.load_balancing_policies.peak_ewma first, with an Envoy policy after it)',
      });
      return;
    }
    for (const s of choice.skipped) {
      this.rep.warn('unsupported_extension', index(ppath, s.index), `load-balancing policy ${s.name} is not run by Meshdeck: it uses ${choice.entry.name} (the first policy in the list it supports)`, {
        at: 'key',
      });
    }
    if (this.v.typeOf.has(choice.config)) this.visit(choice.config);
  }
}

const CLUSTER_TYPE_MEANING: Record<string, string> = {
  EDS: 'their endpoints come from an EDS management server',
  ORIGINAL_DST: 'they forward to the original destination of redirected connections',
};

function extensionLabel(ext: Record<string, unknown>): string {
  const name = typeof ext.name === 'string' && ext.name ? ext.name : undefined;
  const tc = ext.typed_config;
  const url = isObject(tc) && typeof tc['@type'] === 'string' ? (tc['@type'] as string) : undefined;
  const t = url ? url.slice(url.lastIndexOf('/') + 1) : undefined;
  if (name && t) return `${name} (${t})`;
  return name ?? t ?? '(unnamed)';
}

/** Set to the value it has when absent: no behaviour to warn about. */
function isDefault(field: Field, val: unknown): boolean {
  if (val === undefined || val === null) return true;
  if (Array.isArray(val) && val.length === 0) return true;
  const rt = field.resolvedType;
  // A message field (wrappers included: dynamic_stats: false is not the same as unset) counts once set.
  if (rt instanceof protobuf.Type && !field.map) return false;
  if (val === false || val === 0 || val === '') return true;
  if (rt instanceof protobuf.Enum && !field.repeated && (val === rt.valuesById[0] || val === 0)) return true;
  if (field.map && isObject(val) && Object.keys(val).length === 0) return true;
  return false;
}

function describeField(field: Field): string {
  const s = firstSentence(field.comment);
  const what = s ? s.replace(/\.$/, '') : field.name.replace(/_/g, ' ');
  return `${field.name} (${what.length > 140 ? `${what.slice(0, 137)}…` : what})`;
}
