// protoc-gen-validate rules, read generically from the `(validate.rules)` options Envoy's protos
// carry on their fields (`port_value` lte 65535, `stat_prefix` min_len 1, `domains` min_items 1,
// ...). Each check returns the violations it finds; the validator turns them into Diagnostics.

import type { Field, OneOf } from 'protobufjs';
import { boundMs, formatSeconds } from './durations';

/** The `(validate.rules)` of a field, merged, e.g. `{uint32: {lte: 65535}}`. */
export type Rules = Record<string, Record<string, unknown> | undefined>;

export interface Violation {
  code: string;
  message: string;
}

const ruleCache = new WeakMap<Field, Rules | null>();

export function fieldRules(field: Field): Rules | undefined {
  const cached = ruleCache.get(field);
  if (cached !== undefined) return cached ?? undefined;
  let merged: Rules | null = null;
  for (const opt of (field.parsedOptions ?? []) as Record<string, unknown>[]) {
    const r = opt?.['(validate.rules)'];
    if (r && typeof r === 'object') merged = deepMerge(merged ?? {}, r as Record<string, unknown>) as Rules;
  }
  ruleCache.set(field, merged);
  return merged ?? undefined;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      prev && v && typeof prev === 'object' && typeof v === 'object' && !Array.isArray(prev) && !Array.isArray(v)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** `(validate.required)` on a oneof: exactly one member must be set. */
export function oneofRequired(oneof: OneOf): boolean {
  if (oneof.options?.['(validate.required)'] === true) return true;
  return ((oneof.parsedOptions ?? []) as Record<string, unknown>[]).some((o) => o?.['(validate.required)'] === true);
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const num = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));

/** Numeric bounds: const, gt/gte/lt/lte (including PGV's "outside the range" form), in, not_in. */
export function checkNumber(r: Record<string, unknown> | undefined, value: number, show: (n: number) => string = String): Violation[] {
  if (!r) return [];
  if (r.ignore_empty === true && value === 0) return [];
  const out: Violation[] = [];
  const c = num(r.const);
  if (c !== undefined && value !== c) out.push({ code: 'invalid_value', message: `must be exactly ${show(c)}, got ${show(value)}` });
  const gt = num(r.gt);
  const gte = num(r.gte);
  const lt = num(r.lt);
  const lte = num(r.lte);
  const lower = gt ?? gte;
  const upper = lt ?? lte;
  const lowerOk = gt !== undefined ? value > gt : gte !== undefined ? value >= gte : true;
  const upperOk = lt !== undefined ? value < lt : lte !== undefined ? value <= lte : true;
  const lowerText = gt !== undefined ? `greater than ${show(gt)}` : gte !== undefined ? `at least ${show(gte)}` : '';
  const upperText = lt !== undefined ? `less than ${show(lt)}` : lte !== undefined ? `at most ${show(lte)}` : '';
  if (lower !== undefined && upper !== undefined && lower > upper) {
    // PGV: an inverted range means "outside (upper, lower)".
    if (!lowerOk && !upperOk) out.push({ code: 'out_of_range', message: `must be ${upperText} or ${lowerText}, got ${show(value)}` });
  } else if (!lowerOk || !upperOk) {
    const both = lowerText && upperText ? `${lowerText} and ${upperText}` : lowerText || upperText;
    out.push({ code: 'out_of_range', message: `must be ${both}, got ${show(value)}` });
  }
  const inList = list(r.in).map(Number);
  if (inList.length > 0 && !inList.includes(value)) out.push({ code: 'invalid_value', message: `must be one of ${inList.map(show).join(', ')}, got ${show(value)}` });
  const notIn = list(r.not_in).map(Number);
  if (notIn.includes(value)) out.push({ code: 'invalid_value', message: `must not be ${show(value)}` });
  return out;
}

export function checkDuration(r: Record<string, unknown> | undefined, ms: number): Violation[] {
  if (!r) return [];
  const show = (n: number) => formatSeconds(n / 1000);
  const bounds: Record<string, unknown> = {};
  for (const k of ['const', 'gt', 'gte', 'lt', 'lte'] as const) {
    const b = boundMs(r[k]);
    if (b !== undefined) bounds[k] = b;
  }
  if (r.in !== undefined) bounds.in = list(r.in).map(boundMs);
  if (r.not_in !== undefined) bounds.not_in = list(r.not_in).map(boundMs);
  return checkNumber(bounds, ms, show);
}

const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

export function checkString(r: Record<string, unknown> | undefined, s: string): Violation[] {
  if (!r) return [];
  if (r.ignore_empty === true && s === '') return [];
  const out: Violation[] = [];
  const chars = [...s].length;
  const bytes = Buffer.byteLength(s, 'utf8');
  const len = num(r.len);
  const minLen = num(r.min_len);
  const maxLen = num(r.max_len);
  const minBytes = num(r.min_bytes);
  const maxBytes = num(r.max_bytes);
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (len !== undefined && chars !== len) out.push({ code: 'invalid_length', message: `must be exactly ${plural(len, 'character')} long` });
  if (minLen !== undefined && chars < minLen)
    out.push({ code: 'invalid_length', message: minLen === 1 ? 'must not be empty' : `must be at least ${plural(minLen, 'character')} long` });
  if (maxLen !== undefined && chars > maxLen) out.push({ code: 'invalid_length', message: `must be at most ${plural(maxLen, 'character')} long, got ${chars}` });
  if (minBytes !== undefined && bytes < minBytes)
    out.push({ code: 'invalid_length', message: minBytes === 1 ? 'must not be empty' : `must be at least ${plural(minBytes, 'byte')} long` });
  if (maxBytes !== undefined && bytes > maxBytes) out.push({ code: 'invalid_length', message: `must be at most ${plural(maxBytes, 'byte')} long, got ${bytes}` });
  if (typeof r.const === 'string' && s !== r.const) out.push({ code: 'invalid_value', message: `must be "${r.const}"` });
  if (typeof r.prefix === 'string' && !s.startsWith(r.prefix)) out.push({ code: 'invalid_value', message: `must start with "${r.prefix}"` });
  if (typeof r.suffix === 'string' && !s.endsWith(r.suffix)) out.push({ code: 'invalid_value', message: `must end with "${r.suffix}"` });
  if (typeof r.contains === 'string' && !s.includes(r.contains)) out.push({ code: 'invalid_value', message: `must contain "${r.contains}"` });
  if (typeof r.not_contains === 'string' && s.includes(r.not_contains)) out.push({ code: 'invalid_value', message: `must not contain "${r.not_contains}"` });
  const inList = list(r.in).map(String);
  if (inList.length > 0 && !inList.includes(s)) out.push({ code: 'invalid_value', message: `must be one of ${inList.map((x) => `"${x}"`).join(', ')}` });
  if (list(r.not_in).map(String).includes(s)) out.push({ code: 'invalid_value', message: `must not be "${s}"` });
  if (typeof r.pattern === 'string') {
    try {
      if (!new RegExp(r.pattern, 'u').test(s)) out.push({ code: 'invalid_value', message: `must match the pattern ${r.pattern}` });
    } catch {
      // a pattern JS cannot compile: not checked
    }
  }
  const wk = r.well_known_regex;
  if (wk === 'HTTP_HEADER_NAME' || wk === 'HTTP_HEADER_VALUE') {
    const strict = r.strict !== false;
    const re = !strict ? HEADER_LOOSE : wk === 'HTTP_HEADER_NAME' ? HEADER_NAME_STRICT : HEADER_VALUE_STRICT;
    if (!re.test(s)) out.push({ code: 'invalid_value', message: wk === 'HTTP_HEADER_NAME' ? 'is not a valid HTTP header name' : 'is not a valid HTTP header value' });
  }
  return out;
}

export function checkCount(r: Record<string, unknown> | undefined, n: number, what: 'item' | 'entry'): Violation[] {
  if (!r) return [];
  if (r.ignore_empty === true && n === 0) return [];
  const out: Violation[] = [];
  const min = num(what === 'item' ? r.min_items : r.min_pairs);
  const max = num(what === 'item' ? r.max_items : r.max_pairs);
  const words = what === 'item' ? ['item', 'items'] : ['entry', 'entries'];
  const count = (k: number) => `${k} ${k === 1 ? words[0] : words[1]}`;
  if (min !== undefined && n < min) out.push({ code: 'too_few_items', message: `needs at least ${count(min)}, got ${n}` });
  if (max !== undefined && n > max) out.push({ code: 'too_many_items', message: `allows at most ${count(max)}, got ${n}` });
  return out;
}
