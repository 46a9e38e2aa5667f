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
  filterChains: FilterChain[];
  perConnectionBufferLimitBytes: number; // default 1 MiB
}

export interface FilterChain {
  /** The terminal network filter; only the HTTP connection manager runs for now. */
  hcm: HttpConnectionManager;
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
  /** Upstream protocol: HTTP/1.1 now; 'HTTP2' once implemented. */
  upstreamProtocol: 'HTTP1' | 'HTTP2';
}
