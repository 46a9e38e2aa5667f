// The extensions Meshdeck runs, by Envoy name and config type. Adding a filter, access logger,
// transport socket or load-balancing policy to Meshdeck is one line here (plus its runtime
// implementation, registered under the same name). An extension that is listed as `planned`, or
// not listed at all, is valid Envoy that Meshdeck does not run yet: the config loads with a
// warning that says so.

import { typeNameFromUrl } from './protos';

export type SupportLevel = 'supported' | 'planned';

export interface ExtensionEntry {
  /** Envoy extension name (Meshdeck's own live under `meshdeck.`). */
  readonly name: string;
  /** Full names of the config messages it accepts in typed_config. */
  readonly types: readonly string[];
  readonly level: SupportLevel;
  /** HTTP filters: config messages accepted in typed_per_filter_config. */
  readonly perRouteTypes?: readonly string[];
}

const supported = (name: string, types: string | string[], perRouteTypes?: string[]): ExtensionEntry => ({
  name,
  types: Array.isArray(types) ? types : [types],
  level: 'supported',
  perRouteTypes,
});
const planned = (name: string, types: string | string[]): ExtensionEntry => ({
  name,
  types: Array.isArray(types) ? types : [types],
  level: 'planned',
});

export class ExtensionRegistry {
  private readonly names = new Map<string, ExtensionEntry>();
  private readonly types = new Map<string, ExtensionEntry>();

  constructor(
    /** What the registry holds, for messages: "HTTP filter", "access logger", ... */
    readonly kind: string,
    readonly entries: readonly ExtensionEntry[],
  ) {
    for (const e of entries) {
      this.names.set(e.name, e);
      for (const t of e.types) this.types.set(t, e);
    }
  }

  /**
   * The entry for a configured extension. Envoy picks the factory by the typed_config's type when
   * there is one (the name is then free-form), else by name.
   */
  find(name: unknown, typedConfig: unknown): ExtensionEntry | undefined {
    const url = typedConfig && typeof typedConfig === 'object' ? (typedConfig as Record<string, unknown>)['@type'] : undefined;
    if (typeof url === 'string' && url !== '') return this.types.get(typeNameFromUrl(url));
    return typeof name === 'string' ? this.names.get(name) : undefined;
  }

  byName(name: string): ExtensionEntry | undefined {
    return this.names.get(name);
  }

  byType(typeName: string): ExtensionEntry | undefined {
    return this.types.get(typeName);
  }
}

export const HTTP_FILTERS = new ExtensionRegistry('HTTP filter', [
  supported('envoy.filters.http.router', 'envoy.extensions.filters.http.router.v3.Router'),
  supported('envoy.filters.http.jwt_authn', 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', ['envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig']),
  supported('envoy.filters.http.rbac', 'envoy.extensions.filters.http.rbac.v3.RBAC', ['envoy.extensions.filters.http.rbac.v3.RBACPerRoute']),
  supported('envoy.filters.http.local_ratelimit', 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', ['envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit']),
  supported('envoy.filters.http.fault', 'envoy.extensions.filters.http.fault.v3.HTTPFault', ['envoy.extensions.filters.http.fault.v3.HTTPFault']),
]);

/** The router: terminal HTTP filter, by Envoy name or config type. */
export const ROUTER_NAME = 'envoy.filters.http.router';
export const ROUTER_TYPE = 'envoy.extensions.filters.http.router.v3.Router';

export const NETWORK_FILTERS = new ExtensionRegistry('network filter', [
  supported('envoy.filters.network.http_connection_manager', 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
  supported('envoy.filters.network.tcp_proxy', 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'),
]);

export const TCP_PROXY_NAME = 'envoy.filters.network.tcp_proxy';

export const HCM_NAME = 'envoy.filters.network.http_connection_manager';
export const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export const ACCESS_LOGGERS = new ExtensionRegistry('access logger', [
  supported('envoy.access_loggers.file', 'envoy.extensions.access_loggers.file.v3.FileAccessLog'),
  supported('envoy.access_loggers.stdout', 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog'),
  supported('envoy.access_loggers.stderr', 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog'),
]);

export const TRANSPORT_SOCKETS = new ExtensionRegistry('transport socket', [
  supported('envoy.transport_sockets.raw_buffer', 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer'),
  supported('envoy.transport_sockets.tls', [
    'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  ]),
]);

/** Load-balancing policies, in the registry names the runtime (engine/lb/registry.ts) uses. */
export const LB_POLICIES = new ExtensionRegistry('load-balancing policy', [
  supported('envoy.load_balancing_policies.round_robin', 'envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin'),
  supported('envoy.load_balancing_policies.least_request', 'envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest'),
  supported('envoy.load_balancing_policies.random', 'envoy.extensions.load_balancing_policies.random.v3.Random'),
  supported('envoy.load_balancing_policies.ring_hash', 'envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash'),
  supported('envoy.load_balancing_policies.maglev', 'envoy.extensions.load_balancing_policies.maglev.v3.Maglev'),
  supported('meshdeck.load_balancing_policies.peak_ewma', 'meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma'),
]);

/** Cluster `lb_policy` enum value → policy registry name. */
export const LB_POLICY_ENUM: Readonly<Record<string, string>> = {
  ROUND_ROBIN: 'envoy.load_balancing_policies.round_robin',
  LEAST_REQUEST: 'envoy.load_balancing_policies.least_request',
  RANDOM: 'envoy.load_balancing_policies.random',
  RING_HASH: 'envoy.load_balancing_policies.ring_hash',
  MAGLEV: 'envoy.load_balancing_policies.maglev',
};

/** typed_extension_protocol_options a cluster may carry. */
export const PROTOCOL_OPTIONS = new ExtensionRegistry('protocol options', [
  supported('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
]);

/** Cluster discovery types Meshdeck runs. */
export const CLUSTER_TYPES: ReadonlySet<string> = new Set(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS']);

/** The upstream pools speak HTTP/2 (undici: h2 by ALPN, h2c with prior knowledge). */
export const UPSTREAM_HTTP2 = true;

/** Listeners speak HTTP/2 (h2 by ALPN, h2c by its connection preface). */
export const DOWNSTREAM_HTTP2 = true;

export interface PolicyChoice {
  /** Index in load_balancing_policy.policies. */
  index: number;
  entry: ExtensionEntry;
  /** The chosen policy's normalized typed_config (with "@type"). */
  config: Record<string, unknown>;
  /** Policies listed before it that Meshdeck skipped (Envoy may have picked one of them). */
  skipped: { index: number; name: string }[];
}

/** Like Envoy: the first policy in the list that Meshdeck supports. */
export function chooseLbPolicy(policies: unknown): PolicyChoice | undefined {
  if (!Array.isArray(policies)) return undefined;
  const skipped: { index: number; name: string }[] = [];
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i] as Record<string, unknown> | undefined;
    const ext = (p?.typed_extension_config ?? {}) as Record<string, unknown>;
    const entry = LB_POLICIES.find(ext.name, ext.typed_config);
    if (entry && entry.level === 'supported') {
      return { index: i, entry, config: (ext.typed_config ?? {}) as Record<string, unknown>, skipped };
    }
    skipped.push({ index: i, name: typeof ext.name === 'string' ? ext.name : '?' });
  }
  return undefined;
}
