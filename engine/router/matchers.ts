// Compiled matchers for routes: built once per config snapshot, so a request only runs closures.

import type { HeaderMatcher, QueryParameterMatcher, RouteMatch, StringMatcher } from '../config/model';
import { checkRe2 } from '../config/regex';

export type Headers = Record<string, string | string[] | undefined>;

/** The parts of a request that route matching reads. */
export interface MatchInput {
  /** Path without the query string. */
  path: string;
  /** Raw query string without '?', '' if none. */
  query: string;
  headers: Headers;
}

/** Envoy's safe_regex is RE2 with full-match semantics; RE2-only syntax is mapped to JavaScript's. */
export function compileRegex(pattern: string, ignoreCase = false): RegExp {
  const re2 = checkRe2(pattern);
  // The config loader rejected patterns that fail this check, so this only guards direct use.
  if (!re2.ok) throw new Error(`invalid RE2 regex '${pattern}': ${re2.message}`);
  const flags = new Set(`${re2.flags}s${ignoreCase ? 'i' : ''}`);
  return new RegExp(`^(?:${re2.source})$`, [...flags].join(''));
}

export function compileStringMatcher(m: StringMatcher): (v: string) => boolean {
  const ic = m.ignoreCase;
  const want = ic ? m.value.toLowerCase() : m.value;
  switch (m.kind) {
    case 'exact':
      return ic ? (v) => v.toLowerCase() === want : (v) => v === want;
    case 'prefix':
      return ic ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
    case 'suffix':
      return ic ? (v) => v.toLowerCase().endsWith(want) : (v) => v.endsWith(want);
    case 'contains':
      return ic ? (v) => v.toLowerCase().includes(want) : (v) => v.includes(want);
    case 'safe_regex': {
      const re = compileRegex(m.value, ic);
      return (v) => re.test(v);
    }
  }
}

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  // Envoy matches multi-valued headers against the values joined with ','.
  return Array.isArray(v) ? v.join(',') : v;
}

export function compileHeaderMatcher(h: HeaderMatcher): (headers: Headers) => boolean {
  const name = h.name.toLowerCase();
  const pseudo = name === ':method' || name === ':path' || name === ':authority' || name === ':scheme';
  let test: (v: string | undefined) => boolean;
  if (h.stringMatch) {
    const sm = compileStringMatcher(h.stringMatch);
    test = (v) => v !== undefined && sm(v);
  } else if (h.rangeMatch) {
    const { start, end } = h.rangeMatch;
    test = (v) => {
      if (v === undefined || !/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  } else if (h.presentMatch !== undefined) {
    const want = h.presentMatch;
    test = (v) => (v !== undefined) === want;
  } else {
    test = (v) => v !== undefined;
  }
  const invert = h.invertMatch;
  const missingAsEmpty = h.treatMissingHeaderAsEmpty;
  return (headers) => {
    let v = pseudo ? (headers[name] as string | undefined) : headerValue(headers, name);
    if (v === undefined && missingAsEmpty) v = '';
    const r = test(v);
    return invert ? !r : r;
  };
}

export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!query) return out;
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawVal = eq < 0 ? '' : part.slice(eq + 1);
    let key = rawKey;
    let val = rawVal;
    try { key = decodeURIComponent(rawKey.replace(/\+/g, ' ')); } catch { /* keep raw */ }
    try { val = decodeURIComponent(rawVal.replace(/\+/g, ' ')); } catch { /* keep raw */ }
    if (!out.has(key)) out.set(key, val); // Envoy uses the first occurrence
  }
  return out;
}

/**
 * The first value of a query parameter, not percent-decoded (Envoy's hash_policy query_parameter
 * hashes the raw value; route matching uses parseQuery's decoded values).
 */
export function rawQueryValue(query: string, name: string): string | undefined {
  if (!query) return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

export function compileQueryMatcher(q: QueryParameterMatcher): (params: Map<string, string>) => boolean {
  const sm = q.stringMatch ? compileStringMatcher(q.stringMatch) : undefined;
  const present = q.presentMatch;
  return (params) => {
    const v = params.get(q.name);
    if (sm) return v !== undefined && sm(v);
    if (present !== undefined) return (v !== undefined) === present;
    return v !== undefined;
  };
}

/** The whole route match: path, then headers, then query parameters, all must hold. */
export function compileRouteMatch(m: RouteMatch): (input: MatchInput) => boolean {
  const cs = m.caseSensitive;
  const value = cs ? m.path.value : m.path.value.toLowerCase();
  let pathTest: (p: string) => boolean;
  switch (m.path.kind) {
    case 'prefix':
      pathTest = cs ? (p) => p.startsWith(value) : (p) => p.toLowerCase().startsWith(value);
      break;
    case 'path':
      pathTest = cs ? (p) => p === value : (p) => p.toLowerCase() === value;
      break;
    case 'path_separated_prefix':
      pathTest = (p) => {
        const s = cs ? p : p.toLowerCase();
        return s.startsWith(value) && (s.length === value.length || s.charCodeAt(value.length) === 47 /* / */);
      };
      break;
    case 'safe_regex': {
      const re = compileRegex(m.path.value);
      pathTest = (p) => re.test(p);
      break;
    }
  }
  const headerTests = m.headers.map(compileHeaderMatcher);
  const queryTests = m.queryParameters.map(compileQueryMatcher);
  if (headerTests.length === 0 && queryTests.length === 0) return (i) => pathTest(i.path);
  return (i) => {
    if (!pathTest(i.path)) return false;
    for (const t of headerTests) if (!t(i.headers)) return false;
    if (queryTests.length) {
      const params = parseQuery(i.query);
      for (const t of queryTests) if (!t(params)) return false;
    }
    return true;
  };
}
