// The resolved configuration the runtime runs: Envoy's v3 Bootstrap reduced to what Meshdeck
// executes, with Envoy's defaults applied and well-known types unwrapped (durations in
// milliseconds, wrappers as plain values, enums as canonical upper-case names).
//
// The Envoy protos (engine/config/protos.ts) are the schema of record: they decide what is valid
// Envoy. This file is the typed view the request path reads; engine/config/resolve.ts is the only
// code that builds it. Field names follow Envoy's, in camelCase.

export type Severity = 'error' | 'warning';

/** One problem found in a config, located in the source text. */
export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. `unknown_field`, `invalid_enum`, `unknown_cluster`. */
  code: string;
  /** Envoy-style field path, e.g. `static_resources.clusters[0].lb_policy`. */
  path: string;
  /** 1-based line and column of the offending key or value; 0 when the text has no position (e.g. a missing field of an empty document). */
  line: number;
  column: number;
  message: string;
  /** What to do instead, e.g. `did you mean "LEAST_REQUEST"?` or `use transport_socket with an UpstreamTlsContext`. */
  suggestion?: string;
}

export interface SocketAddress {
  address: string;
  /** 0 means "pick a free port" when binding. */
  port: number;
}

export interface Bootstrap {
  admin?: { address: SocketAddress };
  listeners: Listener[];
  clusters: Cluster[];
}

// ---------------------------------------------------------------- listeners

export interface Listener {
  name: string;
  address: SocketAddress;
  /** Filter chains ending in the HTTP connection manager. */
  filterChains: FilterChain[];
  /** Filter chains ending in tcp_proxy (a chain is chosen by its match, not by list order, as in Envoy). */
  tcpFilterChains: TcpFilterChain[];
  perConnectionBufferLimitBytes: number; // default 1 MiB
}

/** What every filter chain has: how a connection is matched to it, and its transport socket. */
export interface FilterChainBase {
  name: string;
  /** filter_chain_match.server_names (exact or "*.suffix"); empty matches any SNI. */
  serverNames: string[];
  /** filter_chain_match.transport_protocol: 'tls' or 'raw_buffer' match only those connections; '' any. */
  transportProtocol: string;
  /** transport_socket envoy.transport_sockets.tls; undefined = plain text. */
  tls?: DownstreamTlsContext;
}

export interface FilterChain extends FilterChainBase {
  /** The terminal network filter: the HTTP connection manager. */
  hcm: HttpConnectionManager;
}

export interface TcpFilterChain extends FilterChainBase {
  tcpProxy: TcpProxy;
}

/** envoy.filters.network.tcp_proxy. */
export interface TcpProxy {
  statPrefix: string;
  /** Exactly one of cluster and weightedClusters is set. */
  cluster?: string;
  weightedClusters?: { clusters: WeightedCluster[]; totalWeight: number };
  /** default 1 h; 0 disables. */
  idleTimeoutMs: number;
  accessLog: TypedExtension[];
}

// ---------------------------------------------------------------- TLS

/** A DataSource holding a certificate or key: a file (re-read when it changes) or inline text. */
export interface TlsDataSource {
  filename?: string;
  /** inline_string, or inline_bytes decoded. */
  inline?: string;
}

export interface TlsCertificate {
  certificateChain: TlsDataSource;
  privateKey: TlsDataSource;
}

/** match_typed_subject_alt_names (or the older match_subject_alt_names: sanType ANY). */
export interface SanMatcher {
  sanType: 'DNS' | 'URI' | 'IP_ADDRESS' | 'EMAIL' | 'ANY';
  matcher: StringMatcher;
}

export interface CommonTlsContext {
  certificates: TlsCertificate[];
  alpnProtocols: string[];
  /** Node's names ('TLSv1' … 'TLSv1.3'); undefined = Envoy's defaults (min TLS 1.2, max TLS 1.3). */
  minVersion?: string;
  maxVersion?: string;
  /** OpenSSL cipher names (TLS 1.2 and below). */
  cipherSuites: string[];
  trustedCa?: TlsDataSource;
  sanMatchers: SanMatcher[];
}

export interface DownstreamTlsContext extends CommonTlsContext {
  requireClientCertificate: boolean;
}

export interface UpstreamTlsContext extends CommonTlsContext {
  sni: string;
}

export interface HttpConnectionManager {
  statPrefix: string;
  codecType: 'AUTO' | 'HTTP1' | 'HTTP2';
  routeConfig: RouteConfiguration;
  /** In order, by registry name; Envoy requires the router last (an empty list is accepted, as Envoy does). */
  httpFilters: HttpFilter[];
  accessLog: TypedExtension[];
  useRemoteAddress: boolean; // default false
  skipXffAppend: boolean; // default false
  xffNumTrustedHops: number; // default 0
  serverName: string; // default "envoy"
  generateRequestId: boolean; // default true
  preserveExternalRequestId: boolean; // default false
  /** 0 = disabled (Envoy's default). */
  requestTimeoutMs: number;
  /** default 300000 (5 min). */
  streamIdleTimeoutMs: number;
  /** Maximum request header size in KiB, default 60. */
  maxRequestHeadersKb: number;
  /** common_http_protocol_options.idle_timeout, default 1 h. */
  idleTimeoutMs: number;
  /** http_protocol_options.accept_http_10 (default false: HTTP/1.0 gets 426 as in Envoy). */
  acceptHttp10: boolean;
  /** http2_protocol_options (downstream HTTP/2 settings); 0 = node's default. */
  http2MaxConcurrentStreams: number;
  http2InitialStreamWindowSize: number;
}

/** A typed extension as it appears in the config: the name and the normalized typed_config. */
export interface TypedExtension {
  name: string;
  /** Full type URL of the typed_config, e.g. `type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`; '' when given by name only. */
  typeUrl: string;
  /** The typed_config's fields, normalized (snake_case keys as in the proto, durations in ms). */
  config: Record<string, unknown>;
}

export type HttpFilter = TypedExtension & { disabled: boolean };

// ---------------------------------------------------------------- routes

export interface HeaderValueOption {
  key: string;
  value: string;
  /** APPEND_IF_EXISTS_OR_ADD (default), ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS. */
  appendAction: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

export interface HeaderMutations {
  requestHeadersToAdd: HeaderValueOption[];
  requestHeadersToRemove: string[];
  responseHeadersToAdd: HeaderValueOption[];
  responseHeadersToRemove: string[];
}

export interface RouteConfiguration extends HeaderMutations {
  name: string;
  virtualHosts: VirtualHost[];
}

export interface VirtualHost extends HeaderMutations {
  name: string;
  domains: string[];
  routes: Route[];
  retryPolicy?: RetryPolicy;
  typedPerFilterConfig: Record<string, TypedExtension>;
}

export interface StringMatcher {
  kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'safe_regex';
  value: string;
  ignoreCase: boolean;
}

export interface HeaderMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
  /** [start, end) as in Envoy's Int64Range. */
  rangeMatch?: { start: number; end: number };
  invertMatch: boolean;
  treatMissingHeaderAsEmpty: boolean;
}

export interface QueryParameterMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
}

export interface RouteMatch {
  path:
    | { kind: 'prefix' | 'path' | 'path_separated_prefix'; value: string }
    | { kind: 'safe_regex'; value: string };
  caseSensitive: boolean; // default true
  headers: HeaderMatcher[];
  queryParameters: QueryParameterMatcher[];
}

export interface Route extends HeaderMutations {
  /** Envoy's route name ('' when unnamed). */
  name: string;
  match: RouteMatch;
  action: RouteAction | RedirectAction | DirectResponseAction;
  typedPerFilterConfig: Record<string, TypedExtension>;
}

export interface RetryPolicy {
  /** Comma-separated retry_on conditions, split: '5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes', ... */
  retryOn: string[];
  numRetries: number; // default 1
  /** 0 = none (the route timeout alone applies). */
  perTryTimeoutMs: number;
  baseIntervalMs: number; // default 25
  maxIntervalMs: number; // default 10 x base
  retriableStatusCodes: number[];
  hostSelectionRetryMaxAttempts: number; // default 1
}

export interface HashPolicy {
  kind: 'header' | 'cookie' | 'source_ip' | 'query_parameter';
  /** Header, cookie or query parameter name ('' for source_ip). */
  name: string;
  terminal: boolean;
  cookieTtlMs?: number;
  cookiePath?: string;
}

export interface WeightedCluster {
  name: string;
  weight: number;
}

export interface RouteAction {
  kind: 'route';
  /** Exactly one of cluster, clusterHeader, weightedClusters is set. */
  cluster?: string;
  clusterHeader?: string;
  weightedClusters?: { clusters: WeightedCluster[]; totalWeight: number };
  /** default 15000; 0 disables. */
  timeoutMs: number;
  /** 0 = none. */
  idleTimeoutMs: number;
  prefixRewrite?: string;
  regexRewrite?: { pattern: string; substitution: string };
  hostRewriteLiteral?: string;
  retryPolicy?: RetryPolicy;
  hashPolicy: HashPolicy[];
}

export interface RedirectAction {
  kind: 'redirect';
  httpsRedirect: boolean;
  schemeRedirect?: string;
  hostRedirect?: string;
  portRedirect?: number;
  pathRedirect?: string;
  prefixRewrite?: string;
  /** 301 (default), 302, 303, 307, 308. */
  responseCode: number;
  stripQuery: boolean;
}

export interface DirectResponseAction {
  kind: 'direct_response';
  status: number;
  /** The body, already read from inline_string / inline_bytes / filename. */
  body?: string;
}

// ---------------------------------------------------------------- clusters

export interface LbEndpoint {
  address: SocketAddress;
  /** load_balancing_weight, default 1. */
  weight: number;
  /** HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED or UNKNOWN (default). */
  healthStatus: string;
  hostname: string;
}

export interface LocalityLbEndpoints {
  locality: { region: string; zone: string; subZone: string };
  /** 0 is highest. */
  priority: number;
  /** Locality weight; 0 = unset. */
  loadBalancingWeight: number;
  lbEndpoints: LbEndpoint[];
}

export interface CircuitBreakerThresholds {
  maxConnections: number; // 1024
  maxPendingRequests: number; // 1024
  maxRequests: number; // 1024
  maxRetries: number; // 3
}

export interface Cluster {
  name: string;
  type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';
  connectTimeoutMs: number; // default 5000
  /** Registry name of the load-balancing policy, e.g. `envoy.load_balancing_policies.round_robin`. */
  lbPolicy: string;
  /** The policy's own settings (see engine/lb/*), from lb_policy's legacy *_lb_config or the typed load_balancing_policy. */
  lbConfig: Record<string, unknown>;
  dnsLookupFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  dnsRefreshRateMs: number; // default 5000
  endpoints: LocalityLbEndpoints[];
  /** Thresholds for the DEFAULT routing priority. */
  circuitBreakers: CircuitBreakerThresholds;
  commonLbConfig: {
    /** Percent, default 50. */
    healthyPanicThreshold: number;
    localityWeightedLb: boolean;
  };
  perConnectionBufferLimitBytes: number; // default 1 MiB
  /**
   * Upstream protocol: HTTP/1.1; HTTP/2 (h2 by ALPN over TLS, h2c with prior knowledge in plain
   * text); AUTO (ALPN over TLS, else HTTP/1.1); DOWNSTREAM (use_downstream_protocol_config).
   */
  upstreamProtocol: 'HTTP1' | 'HTTP2' | 'AUTO' | 'DOWNSTREAM';
  /** http2_protocol_options.max_concurrent_streams (0 = the default). */
  http2MaxConcurrentStreams: number;
  /** transport_socket envoy.transport_sockets.tls; undefined = plain text. */
  tls?: UpstreamTlsContext;
  /** Active HTTP health checks (engine/upstream/health-check.ts); empty = none. */
  healthChecks: HealthCheck[];
  /** Passive health checking (engine/upstream/outlier-detection.ts); undefined = off. */
  outlierDetection?: OutlierDetection;
}

/** core.v3.HealthCheck with an http_health_check, durations in ms, Envoy's defaults applied. */
export interface HealthCheck {
  timeoutMs: number;
  intervalMs: number;
  intervalJitterMs: number;
  intervalJitterPercent: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  /** Default: intervalMs. */
  unhealthyIntervalMs: number;
  unhealthyEdgeIntervalMs: number;
  healthyEdgeIntervalMs: number;
  /** Default 60000: the interval while the cluster has carried no traffic. */
  noTrafficIntervalMs: number;
  /** Default 0 (the first check starts at once). */
  initialJitterMs: number;
  http: {
    path: string;
    /** '' = the cluster name, as Envoy sends it. */
    host: string;
    method: string;
    /** [start, end) ranges; default [[200, 201)]. */
    expectedStatuses: Array<[number, number]>;
    retriableStatuses: Array<[number, number]>;
    requestHeadersToAdd: HeaderValueOption[];
    requestHeadersToRemove: string[];
  };
}

/** cluster.v3.OutlierDetection with Envoy's defaults (percentages 0..100, durations in ms). */
export interface OutlierDetection {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
  enforcingConsecutive5xx: number;
  enforcingConsecutiveGatewayFailure: number;
  enforcingConsecutiveLocalOriginFailure: number;
  enforcingSuccessRate: number;
  successRateMinimumHosts: number;
  successRateRequestVolume: number;
  successRateStdevFactor: number;
  enforcingFailurePercentage: number;
  failurePercentageMinimumHosts: number;
  failurePercentageRequestVolume: number;
  failurePercentageThreshold: number;
  splitExternalLocalOriginErrors: boolean;
}
