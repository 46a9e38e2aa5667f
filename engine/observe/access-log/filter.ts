// Envoy's access-log filters (envoy.config.accesslog.v3.AccessLogFilter), compiled once into a
// predicate over a finished request: status_code_filter, duration_filter, not_health_check_filter,
// traceable_filter, runtime_filter (its default percentage: Meshdeck has no runtime), and_filter,
// or_filter, header_filter, response_flag_filter, grpc_status_filter, log_type_filter.
// metadata_filter and extension_filter are refused with the reason.

import type { StreamInfo } from '../stream-info';
import { parseResponseFlags } from '../response-flags';
import { grpcStatusOf, requestHeaderGetter } from './providers';
import { AccessLogConfigError } from './config';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export type AccessLogFilter = (info: StreamInfo) => boolean;

const GRPC_STATUS_NAMES = [
  'OK', 'CANCELED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

function comparison(c: unknown, field: string): (n: number) => boolean {
  const cmp = isObject(c) ? c : {};
  const value = isObject(cmp.value) ? Number(cmp.value.default_value ?? 0) : 0;
  const op = cmp.op ?? 'EQ';
  switch (op) {
    case 'EQ':
    case 0:
      return (n) => n === value;
    case 'GE':
    case 1:
      return (n) => n >= value;
    case 'LE':
    case 2:
      return (n) => n <= value;
    case 'NE':
      return (n) => n !== value;
    default:
      throw new AccessLogConfigError(`unknown comparison op ${String(op)}`, `${field}.comparison.op`);
  }
}

function stringMatch(m: Obj): ((v: string) => boolean) | undefined {
  const ic = m.ignore_case === true;
  const norm = (s: string) => (ic ? s.toLowerCase() : s);
  for (const kind of ['exact', 'prefix', 'suffix', 'contains'] as const) {
    const raw = m[kind];
    if (typeof raw !== 'string') continue;
    const want = norm(raw);
    if (kind === 'exact') return (v) => norm(v) === want;
    if (kind === 'prefix') return (v) => norm(v).startsWith(want);
    if (kind === 'suffix') return (v) => norm(v).endsWith(want);
    return (v) => norm(v).includes(want);
  }
  return undefined;
}

function headerFilter(h: unknown, field: string): AccessLogFilter {
  const hm = isObject(h) ? h : {};
  const name = String(hm.name ?? '').toLowerCase();
  const get = requestHeaderGetter(name);
  const invert = hm.invert_match === true;
  const missingAsEmpty = hm.treat_missing_header_as_empty === true;
  let test: ((v: string | undefined) => boolean) | undefined;
  const legacy: Record<string, string> = { exact_match: 'exact', prefix_match: 'prefix', suffix_match: 'suffix', contains_match: 'contains' };
  for (const [k, kind] of Object.entries(legacy)) {
    if (typeof hm[k] === 'string') {
      const sm = stringMatch({ [kind]: hm[k] })!;
      test = (v) => v !== undefined && sm(v);
    }
  }
  if (isObject(hm.string_match)) {
    const sm = stringMatch(hm.string_match);
    if (!sm) throw new AccessLogConfigError('header_filter: only exact, prefix, suffix and contains string matches are supported', `${field}.header.string_match`);
    test = (v) => v !== undefined && sm(v);
  }
  if (hm.present_match !== undefined) {
    const want = hm.present_match === true;
    test = (v) => (v !== undefined) === want;
  }
  if (isObject(hm.range_match)) {
    const start = Number(hm.range_match.start ?? 0);
    const end = Number(hm.range_match.end ?? 0);
    test = (v) => {
      if (v === undefined || v.trim() === '') return false;
      const n = Number(v);
      return Number.isInteger(n) && n >= start && n < end;
    };
  }
  if (hm.safe_regex_match !== undefined) throw new AccessLogConfigError('header_filter: regex matches are not supported by Meshdeck', `${field}.header.safe_regex_match`);
  const t = test ?? ((v: string | undefined) => v !== undefined);
  return (i) => {
    let v = get(i);
    if (v === undefined && missingAsEmpty) v = '';
    return t(v) !== invert;
  };
}

/** Compiles an AccessLogFilter (normalized config). Throws AccessLogConfigError, located under `field`. */
export function compileAccessLogFilter(f: unknown, field = 'filter', random: () => number = Math.random): AccessLogFilter {
  if (!isObject(f)) throw new AccessLogConfigError('an access-log filter must be an object', field);
  if (f.status_code_filter !== undefined) {
    const ok = comparison(isObject(f.status_code_filter) ? f.status_code_filter.comparison : undefined, `${field}.status_code_filter`);
    return (i) => ok(i.responseCode);
  }
  if (f.duration_filter !== undefined) {
    const ok = comparison(isObject(f.duration_filter) ? f.duration_filter.comparison : undefined, `${field}.duration_filter`);
    return (i) => ok(Math.floor((i.lastDownstreamTxMono || performance.now()) - i.startMono));
  }
  // Meshdeck has no health_check filter: no request is a health check.
  if (f.not_health_check_filter !== undefined) return () => true;
  // Without tracing no request is traceable.
  if (f.traceable_filter !== undefined) return () => false;
  if (f.runtime_filter !== undefined) {
    const rf = isObject(f.runtime_filter) ? f.runtime_filter : {};
    const ps = isObject(rf.percent_sampled) ? rf.percent_sampled : { numerator: 0 };
    const den = ps.denominator === 'TEN_THOUSAND' || ps.denominator === 1 ? 10_000 : ps.denominator === 'MILLION' || ps.denominator === 2 ? 1_000_000 : 100;
    const share = Number(ps.numerator ?? 0) / den;
    return () => random() < share;
  }
  if (f.and_filter !== undefined || f.or_filter !== undefined) {
    const and = f.and_filter !== undefined;
    const key = and ? 'and_filter' : 'or_filter';
    const spec = f[key];
    const list = isObject(spec) && Array.isArray(spec.filters) ? spec.filters : [];
    const subs = list.map((s, k) => compileAccessLogFilter(s, `${field}.${key}.filters[${k}]`, random));
    return and ? (i) => subs.every((s) => s(i)) : (i) => subs.some((s) => s(i));
  }
  if (f.header_filter !== undefined) return headerFilter(isObject(f.header_filter) ? f.header_filter.header : undefined, `${field}.header_filter`);
  if (f.response_flag_filter !== undefined) {
    const rf = isObject(f.response_flag_filter) ? f.response_flag_filter : {};
    const names = Array.isArray(rf.flags) ? rf.flags.map(String) : [];
    const mask = names.length ? parseResponseFlags(names.join(',')) : -1;
    return (i) => (i.responseFlags & mask) !== 0;
  }
  if (f.grpc_status_filter !== undefined) {
    const gf = isObject(f.grpc_status_filter) ? f.grpc_status_filter : {};
    const wanted = new Set((Array.isArray(gf.statuses) ? gf.statuses : []).map((s) => (typeof s === 'number' ? s : GRPC_STATUS_NAMES.indexOf(String(s)))));
    const exclude = gf.exclude === true;
    return (i) => {
      const s = grpcStatusOf(i);
      // Envoy: a request with no gRPC status matches only when excluding.
      if (s === undefined) return exclude;
      return wanted.has(s) !== exclude;
    };
  }
  if (f.log_type_filter !== undefined) {
    const lf = isObject(f.log_type_filter) ? f.log_type_filter : {};
    const types = (Array.isArray(lf.types) ? lf.types : []).map(String);
    const exclude = lf.exclude === true;
    // The connection manager logs once, when the stream ends.
    const hit = types.length === 0 || types.includes('DownstreamEnd');
    return () => hit !== exclude;
  }
  if (f.metadata_filter !== undefined) throw new AccessLogConfigError('metadata_filter is not supported by Meshdeck (it keeps no route or cluster metadata)', `${field}.metadata_filter`);
  if (f.extension_filter !== undefined) throw new AccessLogConfigError('extension access-log filters are not supported by Meshdeck', `${field}.extension_filter`);
  throw new AccessLogConfigError('an access-log filter needs one of its filter kinds', field);
}
