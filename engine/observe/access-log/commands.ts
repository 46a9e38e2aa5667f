// Envoy's operator table: every %COMMAND% a format may use, its syntax rules (parameters,
// length) and the provider it compiles to (providers.ts).

import { hostname as osHostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { StreamInfo } from '../stream-info';
import { formatResponseFlags } from '../response-flags';
import type { CompileOptions } from './formatter';
import {
  addressProvider, commonDuration, durationOf, filterStateProvider, formatResponseFlagsLong, grpcProvider, headerProvider, metadataProvider, millisSince, numberProvider, optionalNumber, pathProvider, type Provider, queryParamProvider, requestHeaderGetter, responseHeaderGetter, startUs, stringProvider, timeProvider, trailerGetter, truncate, underscoreSpaces, UNSET,
} from './providers';

// ---------------------------------------------------------------- the command table

/** Envoy's CommandSyntaxChecker flags. */
export const COMMAND_ONLY = 0;
export const PARAMS_REQUIRED = 1;
export const PARAMS_OPTIONAL = 2;
export const LENGTH_ALLOWED = 4;

export interface CommandDef {
  flags: number;
  create(sub: string, max: number | undefined, opts: CompileOptions): Provider;
}

export const only = (p: () => Provider): CommandDef => ({ flags: COMMAND_ONLY, create: p });

export function buildCommands(): Map<string, CommandDef> {
  const m = new Map<string, CommandDef>();
  const headers = (getter: (name: string) => (i: StreamInfo) => string | undefined): CommandDef => ({
    flags: PARAMS_REQUIRED | LENGTH_ALLOWED,
    create: (sub, max) => headerProvider(getter, sub, max),
  });
  for (const n of ['REQ', 'REQUEST_HEADER', 'STREAM_INFO_REQ']) m.set(n, headers(requestHeaderGetter));
  for (const n of ['RESP', 'RESPONSE_HEADER']) m.set(n, headers(responseHeaderGetter));
  for (const n of ['TRAILER', 'RESPONSE_TRAILER']) m.set(n, headers(trailerGetter));
  m.set('PATH', { flags: PARAMS_OPTIONAL | LENGTH_ALLOWED, create: (sub, max) => pathProvider(sub, max) });
  m.set('QUERY_PARAM', { flags: PARAMS_REQUIRED | LENGTH_ALLOWED, create: (sub, max) => queryParamProvider(sub, max) });
  m.set('LOCAL_REPLY_BODY', only(() => stringProvider((i) => i.localReplyBody ?? '')));
  m.set('ACCESS_LOG_TYPE', only(() => literalValue('DownstreamEnd')));
  m.set('GRPC_STATUS', { flags: PARAMS_OPTIONAL, create: (sub) => grpcProvider(sub) });
  m.set('GRPC_STATUS_NUMBER', only(() => grpcProvider('NUMBER')));

  // Durations (ms, truncated).
  m.set('DURATION', only(() => numberProvider(durationOf)));
  m.set('REQUEST_DURATION', only(() => optionalNumber((i) => millisSince(i.lastDownstreamRxMono, i.startMono))));
  m.set('RESPONSE_DURATION', only(() => optionalNumber((i) => millisSince(i.firstUpstreamRxMono, i.startMono))));
  m.set('RESPONSE_TX_DURATION', only(() => optionalNumber((i) => (i.firstUpstreamRxMono ? millisSince(i.lastDownstreamTxMono, i.firstUpstreamRxMono) : undefined))));
  m.set('COMMON_DURATION', { flags: PARAMS_REQUIRED, create: (sub) => commonDuration(sub) });

  m.set('BYTES_RECEIVED', only(() => numberProvider((i) => i.bytesReceived)));
  m.set('BYTES_SENT', only(() => numberProvider((i) => i.bytesSent)));
  m.set('PROTOCOL', only(() => stringProvider((i) => i.protocol || undefined)));
  m.set('UPSTREAM_PROTOCOL', only(() => stringProvider((i) => i.upstreamProtocol || undefined)));
  m.set('RESPONSE_CODE', only(() => numberProvider((i) => i.responseCode)));
  m.set('RESPONSE_CODE_DETAILS', {
    flags: PARAMS_OPTIONAL,
    create: (sub) => {
      const keepSpaces = sub === 'ALLOW_WHITESPACES';
      return stringProvider((i) => (!i.responseCodeDetails ? undefined : keepSpaces ? i.responseCodeDetails : underscoreSpaces(i.responseCodeDetails, true)));
    },
  });
  m.set('RESPONSE_FLAGS', only(() => stringProvider((i) => formatResponseFlags(i.responseFlags))));
  m.set('RESPONSE_FLAGS_LONG', only(() => stringProvider((i) => formatResponseFlagsLong(i.responseFlags))));
  m.set('CUSTOM_FLAGS', only(() => literalValue('')));

  // Upstream.
  const upstreamHost = (i: StreamInfo) => i.upstreamHost || undefined;
  m.set('UPSTREAM_HOST', only(() => addressProvider(upstreamHost, 'with_port')));
  m.set('UPSTREAM_HOST_NAME', only(() => stringProvider(upstreamHost)));
  m.set('UPSTREAM_HOST_NAME_WITHOUT_PORT', only(() => addressProvider(upstreamHost, 'without_port')));
  addressFamily('UPSTREAM_REMOTE', upstreamHost, m);
  addressFamily('UPSTREAM_LOCAL', (i) => i.upstreamLocalAddress, m);
  m.set('UPSTREAM_CLUSTER', only(() => stringProvider((i) => i.clusterName || undefined)));
  m.set('UPSTREAM_CLUSTER_RAW', only(() => stringProvider((i) => i.clusterName || undefined)));
  m.set('UPSTREAM_REQUEST_ATTEMPT_COUNT', only(() => numberProvider((i) => i.attemptCount)));
  m.set('UPSTREAM_TRANSPORT_FAILURE_REASON', only(() => stringProvider((i) => (i.upstreamTransportFailureReason ? underscoreSpaces(i.upstreamTransportFailureReason, false) : undefined))));

  // Downstream. Meshdeck does not rewrite the remote address from XFF, so "direct" is the same.
  addressFamily('DOWNSTREAM_REMOTE', (i) => i.downstreamRemoteAddress, m, ['DOWNSTREAM_DIRECT_REMOTE']);
  addressFamily('DOWNSTREAM_LOCAL', (i) => i.downstreamLocalAddress, m, ['DOWNSTREAM_DIRECT_LOCAL']);
  m.set('REQUESTED_SERVER_NAME', only(() => stringProvider((i) => i.requestedServerName || undefined)));
  m.set('ROUTE_NAME', only(() => stringProvider((i) => i.routeName || undefined)));
  m.set('STREAM_ID', only(() => stringProvider((i) => i.requestId || undefined)));
  m.set('UNIQUE_ID', only(() => stringProvider(() => randomUUID())));
  m.set('HOSTNAME', { flags: COMMAND_ONLY, create: (_s, _m, o) => literalValue(o.hostname ?? osHostname()) });

  // Times.
  m.set('START_TIME', { flags: PARAMS_OPTIONAL, create: (sub) => timeProvider(sub, false, startUs) });
  m.set('START_TIME_LOCAL', { flags: PARAMS_OPTIONAL, create: (sub) => timeProvider(sub, true, startUs) });
  m.set('EMIT_TIME', { flags: PARAMS_OPTIONAL, create: (sub) => timeProvider(sub, false, () => Date.now() * 1000) });
  m.set('EMIT_TIME_LOCAL', { flags: PARAMS_OPTIONAL, create: (sub) => timeProvider(sub, true, () => Date.now() * 1000) });

  // Metadata, filter state, environment. (Envoy's newest table refuses a length on
  // DYNAMIC_METADATA; its tests and docs use one, so it is accepted.)
  m.set('DYNAMIC_METADATA', { flags: PARAMS_REQUIRED | LENGTH_ALLOWED, create: (sub, max) => metadataProvider(sub, max) });
  m.set('CLUSTER_METADATA', { flags: PARAMS_REQUIRED | LENGTH_ALLOWED, create: () => UNSET });
  m.set('UPSTREAM_METADATA', { flags: PARAMS_REQUIRED | LENGTH_ALLOWED, create: () => UNSET });
  m.set('FILTER_STATE', { flags: PARAMS_OPTIONAL | LENGTH_ALLOWED, create: (sub, max) => filterStateProvider(sub, max) });
  m.set('UPSTREAM_FILTER_STATE', {
    flags: PARAMS_OPTIONAL | LENGTH_ALLOWED,
    create: (sub, max) => (filterStateProvider(sub, max), UNSET), // checked like FILTER_STATE; Meshdeck keeps no upstream filter state
  });
  m.set('ENVIRONMENT', {
    flags: PARAMS_REQUIRED | LENGTH_ALLOWED,
    create: (key, max, o) => {
      const v = (o.env ?? process.env)[key];
      return literalValue(v === undefined ? '-' : truncate(v, max));
    },
  });

  // Facts a plain-text HTTP/1.1 proxy without tracing never has: valid, always unset.
  for (const n of ALWAYS_UNSET) m.set(n, only(() => UNSET));
  for (const n of ['DOWNSTREAM_PEER_CERT_V_START', 'DOWNSTREAM_PEER_CERT_V_END', 'UPSTREAM_PEER_CERT_V_START', 'UPSTREAM_PEER_CERT_V_END']) {
    m.set(n, { flags: PARAMS_OPTIONAL, create: () => UNSET });
  }
  return m;
}

/** A value fixed at compile time that is not plain text between operators (it is typed as a string in JSON). */
export function literalValue(s: string): Provider {
  return { text: () => s, value: () => s };
}

export const ALWAYS_UNSET = [
  'REQUEST_TX_DURATION', 'ROUNDTRIP_DURATION', 'DOWNSTREAM_HANDSHAKE_DURATION', 'UPSTREAM_CONNECTION_POOL_READY_DURATION',
  'CONNECTION_TERMINATION_DETAILS', 'DOWNSTREAM_TRANSPORT_FAILURE_REASON', 'VIRTUAL_CLUSTER_NAME', 'FILTER_CHAIN_NAME', 'TRACE_ID',
  'TLS_JA3_FINGERPRINT', 'TLS_JA4_FINGERPRINT',
  'DOWNSTREAM_PEER_URI_SAN', 'DOWNSTREAM_PEER_DNS_SAN', 'DOWNSTREAM_PEER_IP_SAN', 'DOWNSTREAM_PEER_EMAIL_SAN', 'DOWNSTREAM_PEER_OTHERNAME_SAN',
  'DOWNSTREAM_LOCAL_URI_SAN', 'DOWNSTREAM_LOCAL_DNS_SAN', 'DOWNSTREAM_LOCAL_IP_SAN', 'DOWNSTREAM_LOCAL_EMAIL_SAN', 'DOWNSTREAM_LOCAL_OTHERNAME_SAN',
  'DOWNSTREAM_PEER_SUBJECT', 'DOWNSTREAM_LOCAL_SUBJECT', 'DOWNSTREAM_TLS_SESSION_ID', 'DOWNSTREAM_TLS_CIPHER', 'DOWNSTREAM_TLS_VERSION',
  'DOWNSTREAM_PEER_FINGERPRINT_256', 'DOWNSTREAM_PEER_FINGERPRINT_1', 'DOWNSTREAM_PEER_SERIAL', 'DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256',
  'DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1', 'DOWNSTREAM_PEER_CHAIN_SERIALS', 'DOWNSTREAM_PEER_ISSUER', 'DOWNSTREAM_PEER_CERT',
  'UPSTREAM_TLS_CIPHER', 'UPSTREAM_TLS_VERSION', 'UPSTREAM_TLS_SESSION_ID', 'UPSTREAM_PEER_ISSUER', 'UPSTREAM_PEER_CERT',
  'UPSTREAM_PEER_SUBJECT', 'UPSTREAM_PEER_URI_SAN', 'UPSTREAM_PEER_DNS_SAN', 'UPSTREAM_PEER_IP_SAN', 'UPSTREAM_LOCAL_URI_SAN',
  'UPSTREAM_LOCAL_DNS_SAN', 'UPSTREAM_LOCAL_IP_SAN',
];

/** Operators Envoy has that Meshdeck does not compute: a config error that says so, not a silent '-'. */
export const ENVOY_ONLY = new Set([
  'COALESCE', 'BYTES_RETRANSMITTED', 'PACKETS_RETRANSMITTED', 'UPSTREAM_WIRE_BYTES_RECEIVED', 'UPSTREAM_HEADER_BYTES_RECEIVED',
  'DOWNSTREAM_WIRE_BYTES_RECEIVED', 'DOWNSTREAM_HEADER_BYTES_RECEIVED', 'UPSTREAM_WIRE_BYTES_SENT', 'UPSTREAM_HEADER_BYTES_SENT',
  'DOWNSTREAM_WIRE_BYTES_SENT', 'DOWNSTREAM_HEADER_BYTES_SENT', 'REQUEST_HEADERS_BYTES', 'RESPONSE_HEADERS_BYTES',
  'RESPONSE_TRAILERS_BYTES', 'UPSTREAM_CONNECTION_ID', 'CONNECTION_ID',
]);

function addressFamily(base: string, get: (i: StreamInfo) => string | undefined, out: Map<string, CommandDef>, aliases: string[] = []): void {
  for (const name of [base, ...aliases]) {
    out.set(`${name}_ADDRESS`, { flags: COMMAND_ONLY, create: () => addressProvider(get, 'with_port') });
    out.set(`${name}_ADDRESS_WITHOUT_PORT`, { flags: COMMAND_ONLY, create: () => addressProvider(get, 'without_port') });
    out.set(`${name}_PORT`, { flags: COMMAND_ONLY, create: () => addressProvider(get, 'port') });
  }
}

export const COMMANDS = buildCommands();

/** Every operator a format may use. */
export function knownOperators(): string[] {
  return [...COMMANDS.keys()].sort();
}
