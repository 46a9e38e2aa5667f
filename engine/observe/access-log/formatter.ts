// Envoy's substitution formatter (source/common/formatter/): a format string with `%COMMAND%`,
// `%COMMAND(ARG)%` and `%COMMAND(ARG):N%` operators, compiled once per config into an array of
// providers (closures over a StreamInfo). Formatting a request walks that array: no parsing, no
// regex. Text formats print '-' for an unset value (or nothing with omit_empty_values); JSON formats
// keep a value that is exactly one operator typed (numbers stay numbers, unset is null) and turn
// mixed text into a string, as Envoy's JsonFormatterImpl does.

import { hostname as osHostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { StreamInfo } from '../stream-info';
import { formatResponseFlags, ResponseFlag } from '../response-flags';
import { compileTimeFormat, hasNewlineConversion } from './strftime';

/** Envoy's default access-log format (SubstitutionFormatUtils::DEFAULT_FORMAT). */
export const DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ' +
  '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A format that cannot be compiled: Envoy's message, the offset of the operator in the format string. */
export class FormatError extends Error {
  readonly code = 'invalid_access_log_format';
  constructor(
    message: string,
    /** Offset of the offending operator (or '%') in the format string. */
    readonly offset: number,
    /** The operator's command name (`FOO` of `%FOO(x)%`), when there is one. */
    readonly operator?: string,
    /** Where inside a json_format the failing string is, as keys/indexes (empty for text formats). */
    readonly jsonPath: ReadonlyArray<string | number> = [],
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface CompileOptions {
  /** omit_empty_values: unset values print as nothing (text) or are left out (JSON objects). */
  omitEmptyValues?: boolean;
  /** Where ENVIRONMENT(X) reads X, at compile time as in Envoy (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** HOSTNAME (default os.hostname()). */
  hostname?: string;
}

/** Formats one finished request into one log line (text formats carry their own '\n'; JSON adds one). */
export type LineFormatter = (info: StreamInfo) => string;

/** One compiled piece of a format. */
interface Provider {
  /** Set for plain text between operators. */
  readonly literal?: string;
  /** The text form; undefined = unset. */
  text(info: StreamInfo): string | undefined;
  /** The typed form for JSON formats; null = unset. */
  value(info: StreamInfo): JsonValue;
}

// ---------------------------------------------------------------- providers

function literal(s: string): Provider {
  return { literal: s, text: () => s, value: () => s };
}

function stringProvider(get: (i: StreamInfo) => string | undefined): Provider {
  return { text: get, value: (i) => get(i) ?? null };
}

function numberProvider(get: (i: StreamInfo) => number): Provider {
  return { text: (i) => String(get(i)), value: get };
}

function optionalNumber(get: (i: StreamInfo) => number | undefined): Provider {
  return {
    text: (i) => {
      const v = get(i);
      return v === undefined ? undefined : String(v);
    },
    value: (i) => get(i) ?? null,
  };
}

const UNSET: Provider = { text: () => undefined, value: () => null };

const truncate = (s: string, n: number | undefined): string => (n === undefined || s.length <= n ? s : s.slice(0, n));

/** The first value of a Node header (duplicates arrive joined, set-cookie as an array). */
function firstValue(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v[0];
  return typeof v === 'number' ? String(v) : v;
}

function inList(list: readonly string[] | undefined, name: string): string | undefined {
  if (!list) return undefined;
  for (let k = 0; k < list.length; k += 2) if (list[k] === name) return list[k + 1];
  return undefined;
}

/** A request header by lower-case name; pseudo-headers come from the stream's facts. */
export function requestHeaderGetter(name: string): (i: StreamInfo) => string | undefined {
  switch (name) {
    case ':method':
      return (i) => i.method || undefined;
    case ':path':
      return (i) => i.originalPath || undefined;
    case ':authority':
      return (i) => i.authority || undefined;
    case ':scheme':
      return (i) => (i.method ? firstValue(i.requestHeaders['x-forwarded-proto']) ?? 'http' : undefined);
    default:
      if (name.startsWith(':')) return () => undefined;
      return (i) => firstValue(i.requestHeaders[name]);
  }
}

function responseHeaderGetter(name: string): (i: StreamInfo) => string | undefined {
  if (name === ':status') return (i) => (i.responseCode ? String(i.responseCode) : undefined);
  return (i) => (i.responseHeaderList ? inList(i.responseHeaderList, name) : firstValue(i.responseHeaders?.[name]));
}

function trailerGetter(name: string): (i: StreamInfo) => string | undefined {
  return (i) => inList(i.responseTrailerList, name);
}

/** REQ/RESP/TRAILER argument: `X` or `X?Y`, lower-cased (Envoy's LowerCaseString). */
function headerNames(sub: string): [string, string] {
  const parts = sub.split('?');
  if (parts.length > 2) throw new Error(`More than 1 alternative header specified in token: ${sub}`);
  if (sub.includes('\n') || sub.includes('\r') || sub.includes('\0')) throw new Error('Invalid header configuration. Format string contains newline.');
  return [parts[0].toLowerCase(), (parts[1] ?? '').toLowerCase()];
}

function headerProvider(getter: (name: string) => (i: StreamInfo) => string | undefined, sub: string, max: number | undefined): Provider {
  const [main, alt] = headerNames(sub);
  const a = getter(main);
  const b = alt ? getter(alt) : undefined;
  const get = b
    ? (i: StreamInfo) => {
        const v = a(i) ?? b(i);
        return v === undefined ? undefined : truncate(v, max);
      }
    : (i: StreamInfo) => {
        const v = a(i);
        return v === undefined ? undefined : truncate(v, max);
      };
  return stringProvider(get);
}

// ---------------------------------------------------------------- addresses

/** "ip:port" as Envoy prints an address: IPv6 in brackets. */
function splitAddress(a: string | undefined): { ip: string; port: string } | undefined {
  if (!a) return undefined;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end < 0 ? undefined : { ip: a.slice(1, end), port: a.slice(end + 2) };
  }
  const colon = a.lastIndexOf(':');
  const ip = colon < 0 ? a : a.slice(0, colon);
  if (!ip) return undefined;
  return { ip, port: colon < 0 ? '' : a.slice(colon + 1) };
}

/** Hex digits, dots and at least one colon (no regex on the request path). */
function isIPv6(ip: string): boolean {
  let colon = false;
  for (let k = 0; k < ip.length; k++) {
    const c = ip.charCodeAt(k);
    if (c === 58) colon = true;
    else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46)) return false;
  }
  return colon;
}

type AddressForm = 'with_port' | 'without_port' | 'port';

function addressProvider(get: (i: StreamInfo) => string | undefined, form: AddressForm): Provider {
  if (form === 'port') {
    const port = (i: StreamInfo) => {
      const s = splitAddress(get(i));
      return s && s.port ? Number(s.port) : undefined;
    };
    return optionalNumber(port);
  }
  return stringProvider((i) => {
    const s = splitAddress(get(i));
    if (!s) return undefined;
    if (form === 'without_port') return s.ip;
    const ip = isIPv6(s.ip) ? `[${s.ip}]` : s.ip;
    return s.port ? `${ip}:${s.port}` : ip;
  });
}

function addressFamily(base: string, get: (i: StreamInfo) => string | undefined, out: Map<string, CommandDef>, aliases: string[] = []): void {
  for (const name of [base, ...aliases]) {
    out.set(`${name}_ADDRESS`, { flags: COMMAND_ONLY, create: () => addressProvider(get, 'with_port') });
    out.set(`${name}_ADDRESS_WITHOUT_PORT`, { flags: COMMAND_ONLY, create: () => addressProvider(get, 'without_port') });
    out.set(`${name}_PORT`, { flags: COMMAND_ONLY, create: () => addressProvider(get, 'port') });
  }
}

// ---------------------------------------------------------------- durations

/** Whole milliseconds between two monotonic times (Envoy truncates); undefined when `end` is unset. */
function millisSince(end: number, start: number): number | undefined {
  if (!end) return undefined;
  const d = end - start;
  return d < 0 ? undefined : Math.floor(d);
}

const TIME_POINTS: Record<string, (i: StreamInfo) => number> = {
  DS_RX_BEG: (i) => i.startMono,
  DS_RX_END: (i) => i.lastDownstreamRxMono,
  US_TX_BEG: (i) => i.firstUpstreamTxMono,
  US_RX_BEG: (i) => i.firstUpstreamRxMono,
  DS_TX_END: (i) => i.lastDownstreamTxMono,
};

function commonDuration(sub: string): Provider {
  const parts = sub.split(':');
  if (parts.length < 2 || parts.length > 3) throw new Error(`Invalid common duration configuration: ${sub}.`);
  // Nanoseconds per unit.
  const unit = parts[2] === undefined || parts[2] === 'ms' ? 1e6 : parts[2] === 'us' ? 1e3 : parts[2] === 'ns' ? 1 : NaN;
  if (Number.isNaN(unit)) throw new Error(`Invalid common duration precision: ${parts[2]}.`);
  const point = (name: string) => TIME_POINTS[name] ?? (() => 0); // points Meshdeck does not record are unset
  const beg = point(parts[0]);
  const end = point(parts[1]);
  return optionalNumber((i) => {
    const b = beg(i);
    const e = end(i);
    if (!b || !e || e < b) return undefined;
    // Monotonic times are float milliseconds: round to whole nanoseconds before truncating.
    return Math.floor(Math.round((e - b) * 1e6) / unit);
  });
}

// ---------------------------------------------------------------- response flags

const LONG_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = Object.entries(ResponseFlag).map(([name, bit]) => [
  bit,
  name === 'OverloadManager' ? 'OverloadManagerTerminated' : name === 'DropOverLoad' ? 'DropOverload' : name,
]);

/** `LocalReset,NoHealthyUpstream` style (Envoy's %RESPONSE_FLAGS_LONG%), '-' when none. */
export function formatResponseFlagsLong(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const [bit, name] of LONG_FLAG_NAMES) if (flags & bit) out = out ? `${out},${name}` : name;
  return out;
}

// ---------------------------------------------------------------- metadata and filter state

function lookupPath(root: unknown, path: readonly string[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function metadataProvider(sub: string, max: number | undefined): Provider {
  const [ns, ...path] = sub.split(':');
  const get = (i: StreamInfo): unknown => {
    const md = i.dynamicMetadata?.[ns];
    if (md === undefined) return undefined;
    const v = path.length ? lookupPath(md, path) : md;
    return v === null ? undefined : v;
  };
  return {
    text: (i) => {
      const v = get(i);
      if (v === undefined) return undefined;
      return truncate(typeof v === 'string' ? v : JSON.stringify(v), max);
    },
    value: (i) => (get(i) ?? null) as JsonValue,
  };
}

function filterStateProvider(sub: string, max: number | undefined): Provider {
  const [key, kind = '', field = ''] = sub.split(':');
  if (!key) throw new Error('Invalid filter state configuration, key cannot be empty.');
  const type = kind || 'TYPED';
  if (type !== 'PLAIN' && type !== 'TYPED' && type !== 'FIELD') throw new Error('Invalid filter state serialize type, only support PLAIN/TYPED/FIELD.');
  if ((type === 'FIELD') !== (field !== '')) throw new Error('Invalid filter state serialize type, FIELD should be used with the field name.');
  if (type === 'PLAIN') {
    return stringProvider((i) => {
      const p = i.filterState?.[key]?.plain;
      return p === undefined ? undefined : truncate(p, max);
    });
  }
  if (type === 'FIELD') {
    return stringProvider((i) => {
      const f = i.filterState?.[key]?.fields?.[field];
      return f === undefined ? undefined : truncate(String(f), max);
    });
  }
  return {
    text: (i) => {
      const t = i.filterState?.[key]?.typed;
      return t === undefined ? undefined : truncate(JSON.stringify(t), max);
    },
    value: (i) => (i.filterState?.[key]?.typed ?? null) as JsonValue,
  };
}

// ---------------------------------------------------------------- gRPC status

const GRPC_CAMEL = [
  'Ok', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
  'Unauthenticated',
];
const GRPC_SNAKE = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
function httpToGrpc(code: number): number {
  switch (code) {
    case 400: return 13;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429:
    case 502:
    case 503:
    case 504: return 14;
    default: return 2;
  }
}

/** The request's gRPC status (grpc-status trailer or header, else mapped from the HTTP status); undefined for non-gRPC requests. */
export function grpcStatusOf(i: StreamInfo): number | undefined {
  const ct = firstValue(i.requestHeaders['content-type']);
  if (!ct || !ct.startsWith('application/grpc')) return undefined;
  const raw = inList(i.responseTrailerList, 'grpc-status') ?? (i.responseHeaderList ? inList(i.responseHeaderList, 'grpc-status') : firstValue(i.responseHeaders?.['grpc-status']));
  if (raw !== undefined) {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  }
  return i.responseCode ? httpToGrpc(i.responseCode) : undefined;
}

function grpcProvider(sub: string): Provider {
  const format = sub || 'CAMEL_STRING';
  if (format === 'NUMBER') return optionalNumber(grpcStatusOf);
  if (format !== 'CAMEL_STRING' && format !== 'SNAKE_STRING') throw new Error('GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.');
  const names = format === 'CAMEL_STRING' ? GRPC_CAMEL : GRPC_SNAKE;
  return stringProvider((i) => {
    const s = grpcStatusOf(i);
    return s === undefined ? undefined : names[s] ?? String(s);
  });
}

// ---------------------------------------------------------------- misc

/** ' ' (and with `anySpace` also \t \n \v \f \r) → '_', as Envoy keeps log fields single tokens. */
function underscoreSpaces(s: string, anySpace: boolean): string {
  let out: string | undefined;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const space = c === 32 || (anySpace && c >= 9 && c <= 13);
    if (space) out = (out ?? s.slice(0, k)) + '_';
    else if (out !== undefined) out += s[k];
  }
  return out ?? s;
}

function pathProvider(sub: string, max: number | undefined): Provider {
  const colon = sub.indexOf(':');
  const withQuery = colon < 0 ? sub : sub.slice(0, colon);
  const option = colon < 0 ? '' : sub.slice(colon + 1);
  if (withQuery !== '' && withQuery !== 'WQ' && withQuery !== 'NQ') throw new Error(`Invalid PATH option: '${withQuery}', only 'WQ'/'NQ' are allowed`);
  if (option !== '' && option !== 'ORIG' && option !== 'PATH' && option !== 'ORIG_OR_PATH') {
    throw new Error(`Invalid PATH option: '${option}', only 'ORIG'/'PATH'/'ORIG_OR_PATH' are allowed`);
  }
  const orig = requestHeaderGetter('x-envoy-original-path');
  const path = requestHeaderGetter(':path');
  const source = option === 'ORIG' ? orig : option === 'PATH' ? path : (i: StreamInfo) => orig(i) || path(i);
  const stripQuery = withQuery === 'NQ';
  return stringProvider((i) => {
    let p = source(i);
    if (!p) return undefined;
    if (stripQuery) {
      const q = p.indexOf('?');
      if (q >= 0) p = p.slice(0, q);
    }
    return truncate(p, max);
  });
}

function queryParamProvider(key: string, max: number | undefined): Provider {
  return stringProvider((i) => {
    const path = i.originalPath;
    const q = path ? path.indexOf('?') : -1;
    if (q < 0) return undefined;
    for (const part of path.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      const k = eq < 0 ? part : part.slice(0, eq);
      if (k !== key) continue;
      const raw = eq < 0 ? '' : part.slice(eq + 1);
      let v = raw;
      try {
        v = decodeURIComponent(raw);
      } catch {
        // malformed escapes stay as they are
      }
      return truncate(v, max);
    }
    return undefined;
  });
}

function durationOf(i: StreamInfo): number {
  const end = i.lastDownstreamTxMono || performance.now();
  return Math.max(0, Math.floor(end - i.startMono));
}

const startUs = (i: StreamInfo): number => i.startTimeUs ?? i.startTimeMs * 1000;

function timeProvider(sub: string, local: boolean, source: (i: StreamInfo) => number): Provider {
  if (hasNewlineConversion(sub)) throw new Error('Invalid header configuration. Format string contains newline.');
  const fmt = compileTimeFormat(sub, local);
  return stringProvider((i) => fmt(source(i)));
}

// ---------------------------------------------------------------- the command table

/** Envoy's CommandSyntaxChecker flags. */
const COMMAND_ONLY = 0;
const PARAMS_REQUIRED = 1;
const PARAMS_OPTIONAL = 2;
const LENGTH_ALLOWED = 4;

interface CommandDef {
  flags: number;
  create(sub: string, max: number | undefined, opts: CompileOptions): Provider;
}

const only = (p: () => Provider): CommandDef => ({ flags: COMMAND_ONLY, create: p });

function buildCommands(): Map<string, CommandDef> {
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
function literalValue(s: string): Provider {
  return { text: () => s, value: () => s };
}

const ALWAYS_UNSET = [
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
const ENVOY_ONLY = new Set([
  'COALESCE', 'BYTES_RETRANSMITTED', 'PACKETS_RETRANSMITTED', 'UPSTREAM_WIRE_BYTES_RECEIVED', 'UPSTREAM_HEADER_BYTES_RECEIVED',
  'DOWNSTREAM_WIRE_BYTES_RECEIVED', 'DOWNSTREAM_HEADER_BYTES_RECEIVED', 'UPSTREAM_WIRE_BYTES_SENT', 'UPSTREAM_HEADER_BYTES_SENT',
  'DOWNSTREAM_WIRE_BYTES_SENT', 'DOWNSTREAM_HEADER_BYTES_SENT', 'REQUEST_HEADERS_BYTES', 'RESPONSE_HEADERS_BYTES',
  'RESPONSE_TRAILERS_BYTES', 'UPSTREAM_CONNECTION_ID', 'CONNECTION_ID',
]);

const COMMANDS = buildCommands();

/** Every operator a format may use. */
export function knownOperators(): string[] {
  return [...COMMANDS.keys()].sort();
}

// ---------------------------------------------------------------- parsing

// Envoy's commandWithArgsRegex: %COMMAND(SUBCOMMAND):LENGTH% (used when compiling only).
const COMMAND_RE = /%([A-Z0-9_]+)(?:\((.*?)\))?(?::([0-9]+))?%/y;

function verifySyntax(flags: number, command: string, sub: string, max: number | undefined): void {
  if (flags === COMMAND_ONLY && (sub !== '' || max !== undefined)) throw new Error(`${command} does not take any parameters or length`);
  if (flags & PARAMS_REQUIRED && sub === '') throw new Error(`${command} requires parameters`);
  if (!(flags & LENGTH_ALLOWED) && max !== undefined) throw new Error(`${command} does not allow length to be specified.`);
}

/** Parses a format string into providers (SubstitutionFormatParser::parse). Throws FormatError. */
function parse(format: string, opts: CompileOptions): Provider[] {
  const out: Provider[] = [];
  let lit = '';
  let pos = 0;
  while (pos < format.length) {
    const ch = format[pos];
    if (ch !== '%') {
      lit += ch;
      pos++;
      continue;
    }
    if (format[pos + 1] === '%') {
      lit += '%';
      pos += 2;
      continue;
    }
    if (lit) {
      out.push(literal(lit));
      lit = '';
    }
    COMMAND_RE.lastIndex = pos;
    const m = COMMAND_RE.exec(format);
    if (!m) throw new FormatError(`Incorrect configuration: ${format}. Couldn't find valid command at position ${pos}`, pos);
    const [whole, command, sub = '', len] = m;
    const def = COMMANDS.get(command);
    if (!def) {
      if (ENVOY_ONLY.has(command)) throw new FormatError(`%${command}% is an Envoy access-log operator Meshdeck does not support`, pos, command);
      throw new FormatError(`Not supported field in StreamInfo: ${command}`, pos, command);
    }
    const max = len === undefined ? undefined : Number(len);
    try {
      verifySyntax(def.flags, command, sub, max);
      out.push(def.create(sub, max, opts));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError((e as Error).message, pos, command);
    }
    pos += whole.length;
  }
  if (lit || format === '') out.push(literal(lit));
  return out;
}

/** Checks a format string; throws FormatError (with the operator and its offset) when it cannot be compiled. */
export function checkFormat(format: string, opts: CompileOptions = {}): void {
  parse(format, opts);
}

// ---------------------------------------------------------------- text formats

/** Compiles a text format (text_format, text_format_source, FileAccessLog.format). */
export function compileTextFormat(format: string, opts: CompileOptions = {}): LineFormatter {
  const parts = parse(format, opts);
  const empty = opts.omitEmptyValues ? '' : '-';
  const n = parts.length;
  if (n === 1) {
    const p = parts[0];
    if (p.literal !== undefined) {
      const s = p.literal;
      return () => s;
    }
    return (i) => p.text(i) ?? empty;
  }
  return (info) => {
    let s = '';
    for (let k = 0; k < n; k++) {
      const v = parts[k].text(info);
      s += v === undefined ? empty : v;
    }
    return s;
  };
}

// ---------------------------------------------------------------- JSON formats

type JsonNode =
  | { kind: 'raw'; json: string } // a constant, already serialized
  | { kind: 'template'; parts: Provider[] }
  | { kind: 'object'; entries: Array<{ key: string; node: JsonNode }> }
  | { kind: 'array'; items: JsonNode[] };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function buildNode(v: unknown, opts: CompileOptions, at: Array<string | number>): JsonNode {
  if (typeof v === 'string') {
    if (!v.includes('%')) return { kind: 'raw', json: JSON.stringify(v) };
    try {
      return { kind: 'template', parts: parse(v, opts) };
    } catch (e) {
      if (e instanceof FormatError) throw new FormatError(e.message, e.offset, e.operator, at);
      throw e;
    }
  }
  if (typeof v === 'number') return { kind: 'raw', json: Number.isFinite(v) ? String(v) : 'null' };
  if (typeof v === 'boolean') return { kind: 'raw', json: v ? 'true' : 'false' };
  if (v === null || v === undefined) return { kind: 'raw', json: 'null' };
  if (Array.isArray(v)) return { kind: 'array', items: v.map((item, k) => buildNode(item, opts, [...at, k])) };
  if (isPlainObject(v)) {
    // Envoy sorts the keys, so the output is deterministic.
    const keys = Object.keys(v).sort();
    return { kind: 'object', entries: keys.map((key) => ({ key, node: buildNode(v[key], opts, [...at, key]) })) };
  }
  throw new FormatError(`unsupported value in json_format: ${String(v)}`, 0, undefined, at);
}

function jsonOf(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

/** The JSON text of a template value: typed when it is one operator, else a string. */
function templateJson(parts: Provider[], empty: string): (i: StreamInfo) => string {
  if (parts.length === 1) {
    const p = parts[0];
    return (i) => jsonOf(p.value(i));
  }
  const n = parts.length;
  return (i) => {
    let s = '';
    for (let k = 0; k < n; k++) {
      const v = parts[k].text(i);
      s += v === undefined ? empty : v;
    }
    return JSON.stringify(s);
  };
}

/** Keep-empty mode: the whole document is constant text with holes. */
function flatten(node: JsonNode, out: Array<string | ((i: StreamInfo) => string)>): void {
  const push = (s: string) => {
    const last = out[out.length - 1];
    if (typeof last === 'string') out[out.length - 1] = last + s;
    else out.push(s);
  };
  switch (node.kind) {
    case 'raw':
      push(node.json);
      return;
    case 'template':
      out.push(templateJson(node.parts, '-'));
      return;
    case 'array':
      push('[');
      node.items.forEach((item, k) => {
        if (k) push(',');
        flatten(item, out);
      });
      push(']');
      return;
    case 'object':
      push('{');
      node.entries.forEach((e, k) => {
        if (k) push(',');
        push(`${JSON.stringify(e.key)}:`);
        flatten(e.node, out);
      });
      push('}');
  }
}

/** omit_empty_values mode: an object leaves out keys whose value is null (an unset single operator, or null). */
function omitting(node: JsonNode): (i: StreamInfo) => string | undefined {
  switch (node.kind) {
    case 'raw': {
      const json = node.json;
      return () => (json === 'null' ? undefined : json);
    }
    case 'template': {
      if (node.parts.length === 1) {
        const p = node.parts[0];
        return (i) => {
          const v = p.value(i);
          return v === null ? undefined : jsonOf(v);
        };
      }
      return templateJson(node.parts, '');
    }
    case 'array': {
      const items = node.items.map(omitting);
      return (i) => `[${items.map((f) => f(i) ?? 'null').join(',')}]`;
    }
    case 'object': {
      const entries = node.entries.map((e) => ({ key: `${JSON.stringify(e.key)}:`, value: omitting(e.node) }));
      return (i) => {
        let s = '{';
        let first = true;
        for (const e of entries) {
          const v = e.value(i);
          if (v === undefined) continue;
          s += first ? e.key + v : `,${e.key}${v}`;
          first = false;
        }
        return `${s}}`;
      };
    }
  }
}

/** Compiles a json_format / typed_json_format struct. Each line is one JSON object and a '\n'. */
export function compileJsonFormat(struct: Record<string, unknown>, opts: CompileOptions = {}): LineFormatter {
  const root = buildNode(struct, opts, []);
  if (opts.omitEmptyValues) {
    const f = omitting(root);
    return (i) => `${f(i) ?? '{}'}\n`;
  }
  const pieces: Array<string | ((i: StreamInfo) => string)> = [];
  flatten(root, pieces);
  pieces.push('\n');
  // Merge the trailing '\n' into the last constant piece.
  const merged: typeof pieces = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else merged.push(p);
  }
  const n = merged.length;
  return (info) => {
    let s = '';
    for (let k = 0; k < n; k++) {
      const p = merged[k];
      s += typeof p === 'string' ? p : p(info);
    }
    return s;
  };
}
