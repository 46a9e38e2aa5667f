// Transport-level config → model: TLS contexts (envoy.transport_sockets.tls), filter-chain
// matching and tcp_proxy. Certificate files are not read here: the listener and the upstream pool
// read (and re-read) them, so a config loads wherever its certificates live.

import type {
  CommonTlsContext,
  DownstreamTlsContext,
  SanMatcher,
  StringMatcher,
  TcpProxy,
  TlsDataSource,
  TypedExtension,
  UpstreamTlsContext,
} from './model';
import { typeNameFromUrl } from './protos';
import { TRANSPORT_SOCKETS } from './registry';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);
const obj = (v: unknown): Obj => (isObject(v) ? v : {});
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);

export const TLS_SOCKET = 'envoy.transport_sockets.tls';
const DOWNSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** Envoy's TlsProtocol enum → node's minVersion/maxVersion names. */
const TLS_VERSIONS: Record<string, string> = { TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

/** The typed_config of a transport_socket when it is the TLS socket with the wanted context type. */
function tlsConfig(ts: unknown, wanted: string): Obj | undefined {
  if (!isObject(ts)) return undefined;
  const e = TRANSPORT_SOCKETS.find(ts.name, ts.typed_config);
  if (!e || e.name !== TLS_SOCKET || e.level !== 'supported' || !isObject(ts.typed_config)) return undefined;
  const url = str(ts.typed_config['@type']);
  return url && typeNameFromUrl(url) !== wanted ? undefined : ts.typed_config;
}

export function downstreamTls(ts: unknown, stringMatcher: (m: Obj) => StringMatcher | undefined): DownstreamTlsContext | undefined {
  const c = tlsConfig(ts, DOWNSTREAM_TLS);
  if (!c) return undefined;
  return { ...common(obj(c.common_tls_context), stringMatcher), requireClientCertificate: c.require_client_certificate === true };
}

export function upstreamTls(ts: unknown, stringMatcher: (m: Obj) => StringMatcher | undefined): UpstreamTlsContext | undefined {
  const c = tlsConfig(ts, UPSTREAM_TLS);
  if (!c) return undefined;
  return { ...common(obj(c.common_tls_context), stringMatcher), sni: str(c.sni) };
}

function dataSource(d: unknown): TlsDataSource {
  const o = obj(d);
  if (typeof o.filename === 'string') return { filename: o.filename };
  if (typeof o.inline_string === 'string') return { inline: o.inline_string };
  if (typeof o.inline_bytes === 'string') return { inline: Buffer.from(o.inline_bytes, 'base64').toString('utf8') };
  return {};
}

function common(c: Obj, stringMatcher: (m: Obj) => StringMatcher | undefined): CommonTlsContext {
  const params = obj(c.tls_params);
  const vc = obj(c.validation_context);
  const sanMatchers: SanMatcher[] = [];
  for (const m of arr(vc.match_typed_subject_alt_names)) {
    const sm = stringMatcher(obj(m.matcher));
    const t = str(m.san_type);
    if (sm && (t === 'DNS' || t === 'URI' || t === 'IP_ADDRESS' || t === 'EMAIL')) sanMatchers.push({ sanType: t, matcher: sm });
  }
  for (const m of arr(vc.match_subject_alt_names)) {
    const sm = stringMatcher(m);
    if (sm) sanMatchers.push({ sanType: 'ANY', matcher: sm });
  }
  const out: CommonTlsContext = {
    certificates: arr(c.tls_certificates).map((t) => ({ certificateChain: dataSource(t.certificate_chain), privateKey: dataSource(t.private_key) })),
    alpnProtocols: Array.isArray(c.alpn_protocols) ? c.alpn_protocols.filter((p): p is string => typeof p === 'string') : [],
    cipherSuites: Array.isArray(params.cipher_suites) ? params.cipher_suites.filter((p): p is string => typeof p === 'string') : [],
    sanMatchers,
  };
  const min = TLS_VERSIONS[str(params.tls_minimum_protocol_version)];
  const max = TLS_VERSIONS[str(params.tls_maximum_protocol_version)];
  if (min) out.minVersion = min;
  if (max) out.maxVersion = max;
  if (isObject(vc.trusted_ca)) out.trustedCa = dataSource(vc.trusted_ca);
  return out;
}

export function serverNames(fc: Obj): string[] {
  const m = obj(fc.filter_chain_match);
  return Array.isArray(m.server_names) ? m.server_names.filter((s): s is string => typeof s === 'string').map((s) => s.toLowerCase()) : [];
}

export const TCP_PROXY_DEFAULT_IDLE_MS = 3_600_000;

export function tcpProxy(t: Obj, accessLog: TypedExtension[]): TcpProxy {
  const out: TcpProxy = {
    statPrefix: str(t.stat_prefix),
    idleTimeoutMs: typeof t.idle_timeout === 'number' ? t.idle_timeout : TCP_PROXY_DEFAULT_IDLE_MS,
    accessLog,
  };
  if (typeof t.cluster === 'string') out.cluster = t.cluster;
  else if (isObject(t.weighted_clusters)) {
    const clusters = arr(t.weighted_clusters.clusters)
      .filter((c) => typeof c.name === 'string')
      .map((c) => ({ name: str(c.name), weight: typeof c.weight === 'number' ? c.weight : 0 }));
    out.weightedClusters = { clusters, totalWeight: clusters.reduce((s, c) => s + c.weight, 0) };
  }
  return out;
}
