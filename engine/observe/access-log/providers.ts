// The pieces a compiled access-log format is made of (formatter.ts): a Provider per operator,
// reading one fact of a finished request's StreamInfo as text (for text formats) or as a typed
// value (for JSON formats). Grouped as Envoy's formatter groups its operators.

import type { StreamInfo } from '../stream-info';
import { ResponseFlag } from '../response-flags';
import { compileTimeFormat, hasNewlineConversion } from './strftime';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One compiled piece of a format. */
export interface Provider {
  /** Set for plain text between operators. */
  readonly literal?: string;
  /** The text form; undefined = unset. */
  text(info: StreamInfo): string | undefined;
  /** The typed form for JSON formats; null = unset. */
  value(info: StreamInfo): JsonValue;
}

// ---------------------------------------------------------------- providers

export function literal(s: string): Provider {
  return { literal: s, text: () => s, value: () => s };
}

export function stringProvider(get: (i: StreamInfo) => string | undefined): Provider {
  return { text: get, value: (i) => get(i) ?? null };
}

export function numberProvider(get: (i: StreamInfo) => number): Provider {
  return { text: (i) => String(get(i)), value: get };
}

export function optionalNumber(get: (i: StreamInfo) => number | undefined): Provider {
  return {
    text: (i) => {
      const v = get(i);
      return v === undefined ? undefined : String(v);
    },
    value: (i) => get(i) ?? null,
  };
}

export const UNSET: Provider = { text: () => undefined, value: () => null };

export const truncate = (s: string, n: number | undefined): string => (n === undefined || s.length <= n ? s : s.slice(0, n));

/** The first value of a Node header (duplicates arrive joined, set-cookie as an array). */
export function firstValue(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v[0];
  return typeof v === 'number' ? String(v) : v;
}

export function inList(list: readonly string[] | undefined, name: string): string | undefined {
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

export function responseHeaderGetter(name: string): (i: StreamInfo) => string | undefined {
  if (name === ':status') return (i) => (i.responseCode ? String(i.responseCode) : undefined);
  return (i) => (i.responseHeaderList ? inList(i.responseHeaderList, name) : firstValue(i.responseHeaders?.[name]));
}

export function trailerGetter(name: string): (i: StreamInfo) => string | undefined {
  return (i) => inList(i.responseTrailerList, name);
}

/** REQ/RESP/TRAILER argument: `X` or `X?Y`, lower-cased (Envoy's LowerCaseString). */
export function headerNames(sub: string): [string, string] {
  const parts = sub.split('?');
  if (parts.length > 2) throw new Error(`More than 1 alternative header specified in token: ${sub}`);
  if (sub.includes('\n') || sub.includes('\r') || sub.includes('\0')) throw new Error('Invalid header configuration. Format string contains newline.');
  return [parts[0].toLowerCase(), (parts[1] ?? '').toLowerCase()];
}

export function headerProvider(getter: (name: string) => (i: StreamInfo) => string | undefined, sub: string, max: number | undefined): Provider {
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
export function splitAddress(a: string | undefined): { ip: string; port: string } | undefined {
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
export function isIPv6(ip: string): boolean {
  let colon = false;
  for (let k = 0; k < ip.length; k++) {
    const c = ip.charCodeAt(k);
    if (c === 58) colon = true;
    else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46)) return false;
  }
  return colon;
}

export type AddressForm = 'with_port' | 'without_port' | 'port';

export function addressProvider(get: (i: StreamInfo) => string | undefined, form: AddressForm): Provider {
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


// ---------------------------------------------------------------- durations

/** Whole milliseconds between two monotonic times (Envoy truncates); undefined when `end` is unset. */
export function millisSince(end: number, start: number): number | undefined {
  if (!end) return undefined;
  const d = end - start;
  return d < 0 ? undefined : Math.floor(d);
}

export const TIME_POINTS: Record<string, (i: StreamInfo) => number> = {
  DS_RX_BEG: (i) => i.startMono,
  DS_RX_END: (i) => i.lastDownstreamRxMono,
  US_TX_BEG: (i) => i.firstUpstreamTxMono,
  US_RX_BEG: (i) => i.firstUpstreamRxMono,
  DS_TX_END: (i) => i.lastDownstreamTxMono,
};

export function commonDuration(sub: string): Provider {
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

export const LONG_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = Object.entries(ResponseFlag).map(([name, bit]) => [
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

export function lookupPath(root: unknown, path: readonly string[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export function metadataProvider(sub: string, max: number | undefined): Provider {
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

export function filterStateProvider(sub: string, max: number | undefined): Provider {
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

export const GRPC_CAMEL = [
  'Ok', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
  'Unauthenticated',
];
export const GRPC_SNAKE = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpc(code: number): number {
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

export function grpcProvider(sub: string): Provider {
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
export function underscoreSpaces(s: string, anySpace: boolean): string {
  let out: string | undefined;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const space = c === 32 || (anySpace && c >= 9 && c <= 13);
    if (space) out = (out ?? s.slice(0, k)) + '_';
    else if (out !== undefined) out += s[k];
  }
  return out ?? s;
}

export function pathProvider(sub: string, max: number | undefined): Provider {
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

export function queryParamProvider(key: string, max: number | undefined): Provider {
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

export function durationOf(i: StreamInfo): number {
  const end = i.lastDownstreamTxMono || performance.now();
  return Math.max(0, Math.floor(end - i.startMono));
}

export const startUs = (i: StreamInfo): number => i.startTimeUs ?? i.startTimeMs * 1000;

export function timeProvider(sub: string, local: boolean, source: (i: StreamInfo) => number): Provider {
  if (hasNewlineConversion(sub)) throw new Error('Invalid header configuration. Format string contains newline.');
  const fmt = compileTimeFormat(sub, local);
  return stringProvider((i) => fmt(source(i)));
}

