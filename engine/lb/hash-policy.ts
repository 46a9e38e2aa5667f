// The request hash from a route's hash_policy list (Envoy's source/common/http/hash_policy.cc).
// Each policy may produce a 64-bit xxHash; they combine as hash = rotl64(previous, 1) XOR new (the
// rotation keeps two identical rules from cancelling out); a terminal policy stops the list once a
// hash exists. No hash at all → undefined, and the balancer picks randomly.
//
// - header: all values of the header, sorted, hashed in a chain (seed = xxh64(value, seed)) so value
//   order does not matter; one value → xxh64(value). An empty value still hashes.
// - cookie: the named cookie from the Cookie header(s), Envoy's parsing; absent or empty → no hash.
//   Meshdeck never generates the cookie (Envoy does when `ttl` is set): no hash then.
// - source_ip: the downstream IP without port; empty → no hash.
// - query_parameter: the first occurrence's value (present but empty still hashes).
// Per-list preparation (lower-cased header names) is cached on the list object, so the request path
// only reads headers and hashes.

import type { HashPolicy } from '../config/model';
import { xxhash64 } from './xxhash64';

/** What the hash needs from a request; header() must accept lower-case names. */
export interface HashRequest {
  /** The header's value(s); several when the header was repeated. */
  header(name: string): string | readonly string[] | undefined;
  /** Downstream IP address, no port ('' when unknown). */
  sourceIp: string;
  /** Value of the first occurrence of the query parameter, undefined when absent. */
  query(name: string): string | undefined;
}

const MASK = 0xffffffffffffffffn;

interface Step {
  readonly kind: HashPolicy['kind'];
  readonly name: string;
  readonly terminal: boolean;
}

const compiled = new WeakMap<readonly HashPolicy[], readonly Step[]>();

function steps(policies: readonly HashPolicy[]): readonly Step[] {
  let s = compiled.get(policies);
  if (s === undefined) {
    s = policies.map((p) => ({ kind: p.kind, name: p.kind === 'header' ? p.name.toLowerCase() : p.name, terminal: p.terminal }));
    compiled.set(policies, s);
  }
  return s;
}

export function computeHash(policies: readonly HashPolicy[], req: HashRequest): bigint | undefined {
  if (policies.length === 0) return undefined;
  let hash: bigint | undefined;
  for (const step of steps(policies)) {
    const h = evaluate(step, req);
    if (h !== undefined) hash = hash === undefined ? h : (((hash << 1n) | (hash >> 63n)) & MASK) ^ h;
    if (step.terminal && hash !== undefined) break;
  }
  return hash;
}

function evaluate(step: Step, req: HashRequest): bigint | undefined {
  switch (step.kind) {
    case 'header': {
      const v = req.header(step.name);
      if (v === undefined) return undefined;
      if (typeof v === 'string') return xxhash64(v);
      if (v.length === 0) return undefined;
      let seed = 0n;
      for (const value of [...v].sort()) seed = xxhash64(value, seed);
      return seed;
    }
    case 'cookie': {
      const value = cookieValue(req.header('cookie'), step.name);
      return value ? xxhash64(value) : undefined;
    }
    case 'source_ip':
      return req.sourceIp ? xxhash64(req.sourceIp) : undefined;
    case 'query_parameter': {
      const v = req.query(step.name);
      return v === undefined ? undefined : xxhash64(v);
    }
  }
}

/** Envoy's Http::Utility::parseCookieValue: first "name=value" whose name matches exactly. */
export function cookieValue(header: string | readonly string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string') {
    for (const h of header) {
      const v = cookieValue(h, name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end) {
      let k = start;
      while (k < eq && header.charCodeAt(k) === 32) k++; // leading spaces only, as Envoy
      if (eq - k === name.length && header.startsWith(name, k)) {
        let v = header.slice(eq + 1, end);
        if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
        return v;
      }
    }
    start = end + 1;
  }
  return undefined;
}
