// The normalized Envoy config (validate.ts) → the Bootstrap model the runtime runs (model.ts),
// with Envoy's defaults applied. Only what Meshdeck runs is carried over (support.ts has already
// warned about the rest): HTTP filters and access loggers Meshdeck does not run are left out,
// listeners without a runnable filter chain are left out, and extensions are named by their
// registry names so the runtime can look them up.

import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type {
  Bootstrap,
  CircuitBreakerThresholds,
  Cluster,
  DirectResponseAction,
  FilterChain,
  HashPolicy,
  HeaderMatcher,
  HealthCheck,
  HeaderMutations,
  HeaderValueOption,
  HttpConnectionManager,
  HttpFilter,
  LbEndpoint,
  Listener,
  LocalityLbEndpoints,
  OutlierDetection,
  QueryParameterMatcher,
  RedirectAction,
  RetryPolicy,
  Route,
  RouteAction,
  RouteConfiguration,
  RouteMatch,
  SocketAddress,
  StringMatcher,
  TcpFilterChain,
  TcpProxy,
  TypedExtension,
  VirtualHost,
} from './model';
import { typeNameFromUrl, typeUrlOf } from './protos';
import {
  ACCESS_LOGGERS,
  chooseLbPolicy,
  type ExtensionEntry,
  type ExtensionRegistry,
  HTTP_FILTERS,
  LB_POLICY_ENUM,
  NETWORK_FILTERS,
  TCP_PROXY_NAME,
  UPSTREAM_HTTP2,
} from './registry';
import { downstreamTls, serverNames, tcpProxy, upstreamTls } from './resolve-transport';
import { child, index, type Reporter } from './report';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);
const obj = (v: unknown): Obj => (isObject(v) ? v : {});
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);

/** Envoy's defaults (ms unless named otherwise). */
export const DEFAULTS = {
  connectTimeoutMs: 5000,
  dnsRefreshRateMs: 5000,
  perConnectionBufferLimitBytes: 1024 * 1024,
  routeTimeoutMs: 15000,
  numRetries: 1,
  retryBaseIntervalMs: 25,
  hostSelectionRetryMaxAttempts: 1,
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 } as CircuitBreakerThresholds,
  healthyPanicThresholdPercent: 50,
  serverName: 'envoy',
  streamIdleTimeoutMs: 300_000,
  maxRequestHeadersKb: 60,
  idleTimeoutMs: 3_600_000,
  redirectResponseCode: 301,
} as const;

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

export interface ResolveOptions {
  /** Relative file names (direct_response bodies) are read from here. */
  baseDir?: string;
}

/** Build the runtime model. Problems found here (unreadable files) are reported; the result is then not to be run. */
export async function resolveBootstrap(normalized: Obj, rep: Reporter, opts: ResolveOptions = {}): Promise<Bootstrap> {
  const r = new Resolver(rep, opts);
  const out = r.bootstrap(normalized);
  await r.readFiles();
  return out;
}

class Resolver {
  private readonly pendingFiles: { path: string; file: string; target: DirectResponseAction }[] = [];

  constructor(
    private readonly rep: Reporter,
    private readonly opts: ResolveOptions,
  ) {}

  bootstrap(b: Obj): Bootstrap {
    const sr = obj(b.static_resources);
    const out: Bootstrap = {
      listeners: this.listeners(sr.listeners),
      clusters: arr(sr.clusters).map((c) => this.cluster(c)),
    };
    if (isObject(b.admin) && isObject(b.admin.address)) out.admin = { address: this.socket(b.admin.address) };
    return out;
  }

  async readFiles(): Promise<void> {
    await Promise.all(
      this.pendingFiles.map(async (p) => {
        const file = isAbsolute(p.file) ? p.file : resolvePath(this.opts.baseDir ?? process.cwd(), p.file);
        try {
          p.target.body = await readFile(file, 'utf8');
        } catch (e) {
          this.rep.error('file_not_found', p.path, `cannot read ${p.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }),
    );
  }

  // ---------------------------------------------------------------- listeners

  private socket(address: Obj): SocketAddress {
    const sa = obj(address.socket_address);
    return { address: str(sa.address), port: num(sa.port_value, 0) };
  }

  private listeners(v: unknown): Listener[] {
    const out: Listener[] = [];
    const used = new Set(arr(v).map((l) => str(l.name)).filter(Boolean));
    arr(v).forEach((l, i) => {
      const path = index('static_resources.listeners', i);
      const address = this.socket(obj(l.address));
      let name = str(l.name);
      if (!name) {
        // Envoy names an unnamed listener with a UUID; a name from its address is stable across reloads.
        const base = `${address.address}_${address.port}`;
        name = base;
        for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
      }
      used.add(name);
      const chains: FilterChain[] = [];
      const tcpChains: TcpFilterChain[] = [];
      arr(l.filter_chains).forEach((fc, j) => {
        const base = {
          name: str(fc.name),
          serverNames: serverNames(fc),
          transportProtocol: str(obj(fc.filter_chain_match).transport_protocol),
          tls: downstreamTls(fc.transport_socket, stringMatcher),
        };
        if (!base.tls) delete base.tls;
        const term = this.filterChain(fc, index(child(path, 'filter_chains'), j));
        if (term?.hcm) chains.push({ ...base, hcm: term.hcm });
        else if (term?.tcp) tcpChains.push({ ...base, tcpProxy: term.tcp });
      });
      if (chains.length === 0 && tcpChains.length === 0) return; // support.ts warned: nothing here Meshdeck can run
      out.push({
        name,
        address,
        filterChains: chains,
        tcpFilterChains: tcpChains,
        perConnectionBufferLimitBytes: num(l.per_connection_buffer_limit_bytes, DEFAULTS.perConnectionBufferLimitBytes),
      });
    });
    return out;
  }

  /** The chain's terminal network filter Meshdeck runs: the HTTP connection manager or tcp_proxy. */
  private filterChain(fc: Obj, path: string): { hcm?: HttpConnectionManager; tcp?: TcpProxy } | undefined {
    const filters = arr(fc.filters);
    for (let i = 0; i < filters.length; i++) {
      const f = filters[i];
      const e = NETWORK_FILTERS.find(f.name, f.typed_config);
      if (e?.level !== 'supported' || !isObject(f.typed_config)) continue;
      if (e.name === TCP_PROXY_NAME) {
        const accessLog: TypedExtension[] = [];
        for (const a of arr(f.typed_config.access_log)) {
          const ext = this.extension(ACCESS_LOGGERS, a);
          if (ext) accessLog.push(ext);
        }
        return { tcp: tcpProxy(f.typed_config, accessLog) };
      }
      return { hcm: this.hcm(f.typed_config, child(index(child(path, 'filters'), i), 'typed_config')) };
    }
    return undefined;
  }

  private hcm(h: Obj, path: string): HttpConnectionManager {
    const filterNames = new Map<string, string>();
    const httpFilters: HttpFilter[] = [];
    for (const f of arr(h.http_filters)) {
      const ext = this.extension(HTTP_FILTERS, f);
      if (!ext) continue;
      filterNames.set(str(f.name), ext.name);
      httpFilters.push({ ...ext, disabled: bool(f.disabled, false) });
    }
    const accessLog: TypedExtension[] = [];
    for (const a of arr(h.access_log)) {
      const ext = this.extension(ACCESS_LOGGERS, a);
      if (ext) accessLog.push(ext);
    }
    const chp = obj(h.common_http_protocol_options);
    const codec = str(h.codec_type, 'AUTO');
    return {
      statPrefix: str(h.stat_prefix),
      codecType: codec === 'HTTP1' || codec === 'HTTP2' ? codec : 'AUTO',
      routeConfig: this.routeConfig(obj(h.route_config), child(path, 'route_config'), filterNames),
      httpFilters,
      accessLog,
      useRemoteAddress: bool(h.use_remote_address, false),
      skipXffAppend: bool(h.skip_xff_append, false),
      xffNumTrustedHops: num(h.xff_num_trusted_hops, 0),
      serverName: str(h.server_name) || DEFAULTS.serverName,
      generateRequestId: bool(h.generate_request_id, true),
      preserveExternalRequestId: bool(h.preserve_external_request_id, false),
      requestTimeoutMs: num(h.request_timeout, 0),
      streamIdleTimeoutMs: num(h.stream_idle_timeout, DEFAULTS.streamIdleTimeoutMs),
      maxRequestHeadersKb: num(h.max_request_headers_kb, DEFAULTS.maxRequestHeadersKb),
      idleTimeoutMs: num(chp.idle_timeout, DEFAULTS.idleTimeoutMs),
      acceptHttp10: bool(obj(h.http_protocol_options).accept_http_10, false),
      http2MaxConcurrentStreams: num(obj(h.http2_protocol_options).max_concurrent_streams, 0),
      http2InitialStreamWindowSize: num(obj(h.http2_protocol_options).initial_stream_window_size, 0),
    };
  }

  /** A {name, typed_config} extension Meshdeck runs → its model form (registry name, type URL, config). */
  private extension(reg: ExtensionRegistry, e: Obj): TypedExtension | undefined {
    const entry: ExtensionEntry | undefined = reg.find(e.name, e.typed_config);
    if (!entry || entry.level !== 'supported') return undefined;
    return typed(entry.name, e.typed_config);
  }

  // ---------------------------------------------------------------- routes

  private routeConfig(rc: Obj, path: string, filterNames: ReadonlyMap<string, string>): RouteConfiguration {
    return {
      name: str(rc.name),
      virtualHosts: arr(rc.virtual_hosts).map((vh, i) => this.virtualHost(vh, index(child(path, 'virtual_hosts'), i), filterNames)),
      ...this.mutations(rc),
    };
  }

  private mutations(o: Obj): HeaderMutations {
    return {
      requestHeadersToAdd: arr(o.request_headers_to_add).map(headerOption),
      requestHeadersToRemove: strings(o.request_headers_to_remove),
      responseHeadersToAdd: arr(o.response_headers_to_add).map(headerOption),
      responseHeadersToRemove: strings(o.response_headers_to_remove),
    };
  }

  private perFilter(v: unknown, filterNames: ReadonlyMap<string, string>): Record<string, TypedExtension> {
    const out: Record<string, TypedExtension> = {};
    for (const [key, cfg] of Object.entries(obj(v))) {
      const url = isObject(cfg) ? str(cfg['@type']) : '';
      const name = filterNames.get(key) ?? HTTP_FILTERS.byName(key)?.name;
      const filter = name ? HTTP_FILTERS.byName(name) : undefined;
      if (!filter || filter.level !== 'supported' || !filter.perRouteTypes?.includes(typeNameFromUrl(url))) continue;
      out[filter.name] = typed(filter.name, cfg);
    }
    return out;
  }

  private virtualHost(vh: Obj, path: string, filterNames: ReadonlyMap<string, string>): VirtualHost {
    const retry = isObject(vh.retry_policy) ? retryPolicy(vh.retry_policy) : undefined;
    const out: VirtualHost = {
      name: str(vh.name),
      domains: strings(vh.domains),
      routes: arr(vh.routes).map((r, i) => this.route(r, index(child(path, 'routes'), i), retry, filterNames)),
      typedPerFilterConfig: this.perFilter(vh.typed_per_filter_config, filterNames),
      ...this.mutations(vh),
    };
    if (retry) out.retryPolicy = retry;
    return out;
  }

  private route(r: Obj, path: string, vhostRetry: RetryPolicy | undefined, filterNames: ReadonlyMap<string, string>): Route {
    let action: Route['action'];
    if (isObject(r.redirect)) action = redirect(r.redirect);
    else if (isObject(r.direct_response)) action = this.directResponse(r.direct_response, child(path, 'direct_response'));
    else action = routeAction(obj(r.route), vhostRetry);
    return {
      name: str(r.name),
      match: routeMatch(obj(r.match)),
      action,
      typedPerFilterConfig: this.perFilter(r.typed_per_filter_config, filterNames),
      ...this.mutations(r),
    };
  }

  private directResponse(d: Obj, path: string): DirectResponseAction {
    const out: DirectResponseAction = { kind: 'direct_response', status: num(d.status, 200) };
    const body = isObject(d.body) ? d.body : undefined;
    if (body) {
      if (typeof body.inline_string === 'string') out.body = body.inline_string;
      else if (typeof body.inline_bytes === 'string') out.body = Buffer.from(body.inline_bytes, 'base64').toString('utf8');
      else if (typeof body.environment_variable === 'string') out.body = process.env[body.environment_variable] ?? '';
      else if (typeof body.filename === 'string') this.pendingFiles.push({ path: child(child(path, 'body'), 'filename'), file: body.filename, target: out });
    }
    return out;
  }

  // ---------------------------------------------------------------- clusters

  private cluster(c: Obj): Cluster {
    const type = str(c.type, 'STATIC');
    const { lbPolicy, lbConfig } = lbOf(c);
    const family = str(c.dns_lookup_family, 'AUTO');
    const common = obj(c.common_lb_config);
    const panic = obj(common.healthy_panic_threshold);
    return {
      name: str(c.name),
      type: type === 'STRICT_DNS' || type === 'LOGICAL_DNS' ? type : 'STATIC',
      connectTimeoutMs: num(c.connect_timeout, DEFAULTS.connectTimeoutMs),
      lbPolicy,
      lbConfig,
      dnsLookupFamily: (['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const).find((f) => f === family) ?? 'AUTO',
      dnsRefreshRateMs: num(c.dns_refresh_rate, DEFAULTS.dnsRefreshRateMs),
      endpoints: arr(obj(c.load_assignment).endpoints).map(locality),
      circuitBreakers: circuitBreakers(obj(c.circuit_breakers)),
      commonLbConfig: {
        healthyPanicThreshold: num(panic.value, DEFAULTS.healthyPanicThresholdPercent),
        localityWeightedLb: common.locality_weighted_lb_config !== undefined,
      },
      perConnectionBufferLimitBytes: num(c.per_connection_buffer_limit_bytes, DEFAULTS.perConnectionBufferLimitBytes),
      ...upstreamProtocol(c),
      ...upstreamTlsOf(c),
      healthChecks: arr(c.health_checks).filter((h) => isObject(h.http_health_check)).map(healthCheck),
      ...(isObject(c.outlier_detection) ? { outlierDetection: outlierDetection(c.outlier_detection) } : {}),
    };
  }
}

function typed(name: string, cfg: unknown): TypedExtension {
  const c = obj(cfg);
  const url = str(c['@type']);
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (k !== '@type') config[k] = v;
  return { name, typeUrl: url ? typeUrlOf(typeNameFromUrl(url)) : '', config };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function headerOption(o: Obj): HeaderValueOption {
  const h = obj(o.header);
  const value = typeof h.value === 'string' && h.value !== '' ? h.value : typeof h.raw_value === 'string' ? Buffer.from(h.raw_value, 'base64').toString('utf8') : str(h.value);
  let appendAction: HeaderValueOption['appendAction'] = 'APPEND_IF_EXISTS_OR_ADD';
  const a = str(o.append_action);
  if (a === 'ADD_IF_ABSENT' || a === 'OVERWRITE_IF_EXISTS_OR_ADD' || a === 'OVERWRITE_IF_EXISTS') appendAction = a;
  else if (o.append === false) appendAction = 'OVERWRITE_IF_EXISTS_OR_ADD';
  return { key: str(h.key), value, appendAction };
}

export function stringMatcher(m: Obj): StringMatcher | undefined {
  const ignoreCase = bool(m.ignore_case, false);
  for (const kind of ['exact', 'prefix', 'suffix', 'contains'] as const) {
    if (typeof m[kind] === 'string') return { kind, value: m[kind] as string, ignoreCase };
  }
  if (isObject(m.safe_regex)) return { kind: 'safe_regex', value: str(m.safe_regex.regex), ignoreCase };
  return undefined;
}

export function headerMatcher(h: Obj): HeaderMatcher {
  const out: HeaderMatcher = {
    name: str(h.name),
    invertMatch: bool(h.invert_match, false),
    treatMissingHeaderAsEmpty: bool(h.treat_missing_header_as_empty, false),
  };
  let sm: StringMatcher | undefined;
  if (isObject(h.string_match)) sm = stringMatcher(h.string_match);
  else if (typeof h.exact_match === 'string') sm = { kind: 'exact', value: h.exact_match, ignoreCase: false };
  else if (typeof h.prefix_match === 'string') sm = { kind: 'prefix', value: h.prefix_match, ignoreCase: false };
  else if (typeof h.suffix_match === 'string') sm = { kind: 'suffix', value: h.suffix_match, ignoreCase: false };
  else if (typeof h.contains_match === 'string') sm = { kind: 'contains', value: h.contains_match, ignoreCase: false };
  else if (isObject(h.safe_regex_match)) sm = { kind: 'safe_regex', value: str(h.safe_regex_match.regex), ignoreCase: false };
  if (sm) out.stringMatch = sm;
  if (typeof h.present_match === 'boolean') out.presentMatch = h.present_match;
  if (isObject(h.range_match)) out.rangeMatch = { start: num(h.range_match.start, 0), end: num(h.range_match.end, 0) };
  // No matcher at all: Envoy matches on the header being present.
  if (!sm && out.presentMatch === undefined && !out.rangeMatch) out.presentMatch = true;
  return out;
}

function queryMatcher(q: Obj): QueryParameterMatcher {
  const out: QueryParameterMatcher = { name: str(q.name) };
  const sm = isObject(q.string_match) ? stringMatcher(q.string_match) : undefined;
  if (sm) out.stringMatch = sm;
  if (typeof q.present_match === 'boolean') out.presentMatch = q.present_match;
  return out;
}

export function routeMatch(m: Obj): RouteMatch {
  let path: RouteMatch['path'] = { kind: 'prefix', value: '' };
  if (typeof m.prefix === 'string') path = { kind: 'prefix', value: m.prefix };
  else if (typeof m.path === 'string') path = { kind: 'path', value: m.path };
  else if (typeof m.path_separated_prefix === 'string') path = { kind: 'path_separated_prefix', value: m.path_separated_prefix };
  else if (isObject(m.safe_regex)) path = { kind: 'safe_regex', value: str(m.safe_regex.regex) };
  return {
    path,
    caseSensitive: bool(m.case_sensitive, true),
    headers: arr(m.headers).map(headerMatcher),
    queryParameters: arr(m.query_parameters).map(queryMatcher),
  };
}

export function retryPolicy(p: Obj): RetryPolicy {
  const backoff = obj(p.retry_back_off);
  const base = num(backoff.base_interval, DEFAULTS.retryBaseIntervalMs);
  return {
    retryOn: str(p.retry_on).split(',').map((s) => s.trim()).filter(Boolean),
    numRetries: num(p.num_retries, DEFAULTS.numRetries),
    perTryTimeoutMs: num(p.per_try_timeout, 0),
    baseIntervalMs: base,
    maxIntervalMs: num(backoff.max_interval, base * 10),
    retriableStatusCodes: Array.isArray(p.retriable_status_codes) ? p.retriable_status_codes.filter((n): n is number => typeof n === 'number') : [],
    hostSelectionRetryMaxAttempts: num(p.host_selection_retry_max_attempts, DEFAULTS.hostSelectionRetryMaxAttempts),
  };
}

function hashPolicy(h: Obj): HashPolicy | undefined {
  const terminal = bool(h.terminal, false);
  if (isObject(h.header)) return { kind: 'header', name: str(h.header.header_name), terminal };
  if (isObject(h.cookie)) {
    const out: HashPolicy = { kind: 'cookie', name: str(h.cookie.name), terminal };
    if (typeof h.cookie.ttl === 'number') out.cookieTtlMs = h.cookie.ttl;
    if (typeof h.cookie.path === 'string') out.cookiePath = h.cookie.path;
    return out;
  }
  if (isObject(h.connection_properties) && h.connection_properties.source_ip === true) return { kind: 'source_ip', name: '', terminal };
  if (isObject(h.query_parameter)) return { kind: 'query_parameter', name: str(h.query_parameter.name), terminal };
  return undefined; // filter_state: not run (warned)
}

/** A route's own retry policy replaces the virtual host's (Envoy does not merge them). */
function routeAction(a: Obj, vhostRetry: RetryPolicy | undefined): RouteAction {
  const out: RouteAction = {
    kind: 'route',
    timeoutMs: num(a.timeout, DEFAULTS.routeTimeoutMs),
    idleTimeoutMs: num(a.idle_timeout, 0),
    hashPolicy: arr(a.hash_policy).map(hashPolicy).filter((h): h is HashPolicy => h !== undefined),
  };
  if (typeof a.cluster === 'string') out.cluster = a.cluster;
  else if (typeof a.cluster_header === 'string') out.clusterHeader = a.cluster_header;
  else if (isObject(a.weighted_clusters)) {
    const clusters = arr(a.weighted_clusters.clusters)
      .filter((c) => typeof c.name === 'string')
      .map((c) => ({ name: str(c.name), weight: num(c.weight, 0) }));
    out.weightedClusters = { clusters, totalWeight: clusters.reduce((s, c) => s + c.weight, 0) };
  }
  if (typeof a.prefix_rewrite === 'string') out.prefixRewrite = a.prefix_rewrite;
  if (isObject(a.regex_rewrite)) out.regexRewrite = { pattern: str(obj(a.regex_rewrite.pattern).regex), substitution: str(a.regex_rewrite.substitution) };
  if (typeof a.host_rewrite_literal === 'string') out.hostRewriteLiteral = a.host_rewrite_literal;
  const retry = isObject(a.retry_policy) ? retryPolicy(a.retry_policy) : vhostRetry;
  if (retry) out.retryPolicy = retry;
  return out;
}

function redirect(r: Obj): RedirectAction {
  const out: RedirectAction = {
    kind: 'redirect',
    httpsRedirect: bool(r.https_redirect, false),
    responseCode: REDIRECT_CODES[str(r.response_code, 'MOVED_PERMANENTLY')] ?? DEFAULTS.redirectResponseCode,
    stripQuery: bool(r.strip_query, false),
  };
  if (typeof r.scheme_redirect === 'string') out.schemeRedirect = r.scheme_redirect;
  if (typeof r.host_redirect === 'string') out.hostRedirect = r.host_redirect;
  if (typeof r.port_redirect === 'number') out.portRedirect = r.port_redirect;
  if (typeof r.path_redirect === 'string') out.pathRedirect = r.path_redirect;
  if (typeof r.prefix_rewrite === 'string') out.prefixRewrite = r.prefix_rewrite;
  return out;
}

function locality(l: Obj): LocalityLbEndpoints {
  const loc = obj(l.locality);
  return {
    locality: { region: str(loc.region), zone: str(loc.zone), subZone: str(loc.sub_zone) },
    priority: num(l.priority, 0),
    loadBalancingWeight: num(l.load_balancing_weight, 0),
    lbEndpoints: arr(l.lb_endpoints).filter((e) => isObject(e.endpoint)).map(lbEndpoint),
  };
}

function lbEndpoint(e: Obj): LbEndpoint {
  const ep = obj(e.endpoint);
  const sa = obj(obj(ep.address).socket_address);
  return {
    address: { address: str(sa.address), port: num(sa.port_value, 0) },
    weight: num(e.load_balancing_weight, 1),
    healthStatus: str(e.health_status, 'UNKNOWN'),
    hostname: str(ep.hostname),
  };
}

function circuitBreakers(cb: Obj): CircuitBreakerThresholds {
  const t = arr(cb.thresholds).find((x) => str(x.priority, 'DEFAULT') === 'DEFAULT') ?? {};
  const d = DEFAULTS.circuitBreakers;
  return {
    maxConnections: num(t.max_connections, d.maxConnections),
    maxPendingRequests: num(t.max_pending_requests, d.maxPendingRequests),
    maxRequests: num(t.max_requests, d.maxRequests),
    maxRetries: num(t.max_retries, d.maxRetries),
  };
}

function upstreamTlsOf(c: Obj): Pick<Cluster, 'tls'> {
  const tls = upstreamTls(c.transport_socket, stringMatcher);
  return tls ? { tls } : {};
}

/** The cluster's upstream protocol from HttpProtocolOptions (or the older http2_protocol_options field). */
function upstreamProtocol(c: Obj): Pick<Cluster, 'upstreamProtocol' | 'http2MaxConcurrentStreams'> {
  const opts = obj(obj(c.typed_extension_protocol_options)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
  let h2: unknown = c.http2_protocol_options;
  let protocol: Cluster['upstreamProtocol'] = h2 !== undefined ? 'HTTP2' : 'HTTP1';
  if (isObject(opts.explicit_http_config) && opts.explicit_http_config.http2_protocol_options !== undefined) {
    protocol = 'HTTP2';
    h2 = opts.explicit_http_config.http2_protocol_options;
  } else if (isObject(opts.use_downstream_protocol_config)) {
    protocol = 'DOWNSTREAM';
    h2 = opts.use_downstream_protocol_config.http2_protocol_options;
  } else if (isObject(opts.auto_config)) {
    protocol = 'AUTO';
    h2 = opts.auto_config.http2_protocol_options;
  }
  if (!UPSTREAM_HTTP2) protocol = 'HTTP1';
  return { upstreamProtocol: protocol, http2MaxConcurrentStreams: num(obj(h2).max_concurrent_streams, 0) };
}

function ranges(v: unknown): Array<[number, number]> {
  return arr(v).map((r) => [num(r.start, 0), num(r.end, 0)] as [number, number]);
}

/** core.v3.HealthCheck (an http_health_check one) with Envoy's defaults. */
function healthCheck(h: Obj): HealthCheck {
  const http = obj(h.http_health_check);
  const interval = num(h.interval, 0);
  const expected = ranges(http.expected_statuses);
  return {
    timeoutMs: num(h.timeout, 0),
    intervalMs: interval,
    intervalJitterMs: num(h.interval_jitter, 0),
    intervalJitterPercent: num(h.interval_jitter_percent, 0),
    unhealthyThreshold: num(h.unhealthy_threshold, 1),
    healthyThreshold: num(h.healthy_threshold, 1),
    unhealthyIntervalMs: num(h.unhealthy_interval, interval),
    unhealthyEdgeIntervalMs: num(h.unhealthy_edge_interval, num(h.unhealthy_interval, interval)),
    healthyEdgeIntervalMs: num(h.healthy_edge_interval, interval),
    noTrafficIntervalMs: num(h.no_traffic_interval, 60_000),
    initialJitterMs: num(h.initial_jitter, 0),
    http: {
      path: str(http.path, '/'),
      host: str(http.host),
      method: str(http.method, 'GET') === 'METHOD_UNSPECIFIED' ? 'GET' : str(http.method, 'GET'),
      expectedStatuses: expected.length ? expected : [[200, 201]],
      retriableStatuses: ranges(http.retriable_statuses),
      requestHeadersToAdd: arr(http.request_headers_to_add).map(headerOption),
      requestHeadersToRemove: strings(http.request_headers_to_remove),
    },
  };
}

/** cluster.v3.OutlierDetection with Envoy's defaults (outlier_detection.proto). */
function outlierDetection(o: Obj): OutlierDetection {
  const base = num(o.base_ejection_time, 30_000);
  return {
    consecutive5xx: num(o.consecutive_5xx, 5),
    consecutiveGatewayFailure: num(o.consecutive_gateway_failure, 5),
    consecutiveLocalOriginFailure: num(o.consecutive_local_origin_failure, 5),
    intervalMs: num(o.interval, 10_000),
    baseEjectionTimeMs: base,
    maxEjectionTimeMs: num(o.max_ejection_time, Math.max(300_000, base)),
    maxEjectionPercent: num(o.max_ejection_percent, 10),
    enforcingConsecutive5xx: num(o.enforcing_consecutive_5xx, 100),
    enforcingConsecutiveGatewayFailure: num(o.enforcing_consecutive_gateway_failure, 0),
    enforcingConsecutiveLocalOriginFailure: num(o.enforcing_consecutive_local_origin_failure, 100),
    enforcingSuccessRate: num(o.enforcing_success_rate, 100),
    successRateMinimumHosts: num(o.success_rate_minimum_hosts, 5),
    successRateRequestVolume: num(o.success_rate_request_volume, 100),
    successRateStdevFactor: num(o.success_rate_stdev_factor, 1900),
    enforcingFailurePercentage: num(o.enforcing_failure_percentage, 0),
    failurePercentageMinimumHosts: num(o.failure_percentage_minimum_hosts, 5),
    failurePercentageRequestVolume: num(o.failure_percentage_request_volume, 50),
    failurePercentageThreshold: num(o.failure_percentage_threshold, 85),
    splitExternalLocalOriginErrors: bool(o.split_external_local_origin_errors, false),
  };
}

// ---------------------------------------------------------------- load balancing

function slowStart(s: unknown): Record<string, unknown> | undefined {
  if (!isObject(s)) return undefined;
  const out: Record<string, unknown> = {};
  if (typeof s.slow_start_window === 'number') out.slowStartWindowMs = s.slow_start_window;
  if (isObject(s.aggression) && typeof s.aggression.default_value === 'number') out.aggression = s.aggression.default_value;
  if (isObject(s.min_weight_percent) && typeof s.min_weight_percent.value === 'number') out.minWeightPercent = s.min_weight_percent.value;
  return out;
}

/** Policy settings (from the legacy *_lb_config or a typed policy) → the runtime's camelCase lbConfig. */
export function lbConfigFor(policy: string, c: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  switch (policy) {
    case 'envoy.load_balancing_policies.round_robin': {
      const ss = slowStart(c.slow_start_config);
      if (ss) out.slowStart = ss;
      break;
    }
    case 'envoy.load_balancing_policies.least_request': {
      if (typeof c.choice_count === 'number') out.choiceCount = c.choice_count;
      if (isObject(c.active_request_bias) && typeof c.active_request_bias.default_value === 'number') out.activeRequestBias = c.active_request_bias.default_value;
      const ss = slowStart(c.slow_start_config);
      if (ss) out.slowStart = ss;
      break;
    }
    case 'envoy.load_balancing_policies.ring_hash':
      if (typeof c.minimum_ring_size === 'number') out.minimumRingSize = c.minimum_ring_size;
      if (typeof c.maximum_ring_size === 'number') out.maximumRingSize = c.maximum_ring_size;
      if (typeof c.hash_function === 'string') out.hashFunction = c.hash_function;
      break;
    case 'envoy.load_balancing_policies.maglev':
      if (typeof c.table_size === 'number') out.tableSize = c.table_size;
      break;
    case 'meshdeck.load_balancing_policies.peak_ewma':
      if (typeof c.decay_time === 'number') out.decayTimeMs = c.decay_time;
      if (typeof c.default_rtt === 'number') out.defaultRttMs = c.default_rtt;
      break;
    default:
      break;
  }
  return out;
}

const LEGACY_LB_CONFIG: Record<string, string> = {
  'envoy.load_balancing_policies.round_robin': 'round_robin_lb_config',
  'envoy.load_balancing_policies.least_request': 'least_request_lb_config',
  'envoy.load_balancing_policies.ring_hash': 'ring_hash_lb_config',
  'envoy.load_balancing_policies.maglev': 'maglev_lb_config',
};

/** load_balancing_policy (first supported policy) wins over lb_policy, as in Envoy. */
export function lbOf(c: Obj): { lbPolicy: string; lbConfig: Record<string, unknown> } {
  const choice = isObject(c.load_balancing_policy) ? chooseLbPolicy(c.load_balancing_policy.policies) : undefined;
  if (choice) return { lbPolicy: choice.entry.name, lbConfig: lbConfigFor(choice.entry.name, choice.config) };
  const policy = LB_POLICY_ENUM[str(c.lb_policy, 'ROUND_ROBIN')] ?? LB_POLICY_ENUM.ROUND_ROBIN;
  const legacy = LEGACY_LB_CONFIG[policy];
  return { lbPolicy: policy, lbConfig: lbConfigFor(policy, legacy ? obj(c[legacy]) : {}) };
}
