// Envoy's substitution formatter (source/common/formatter/): a format string with `%COMMAND%`,
// `%COMMAND(ARG)%` and `%COMMAND(ARG):N%` operators, compiled once per config into an array of
// providers (closures over a StreamInfo). Formatting a request walks that array: no parsing, no
// regex. Text formats print '-' for an unset value (or nothing with omit_empty_values); JSON formats
// keep a value that is exactly one operator typed (numbers stay numbers, unset is null) and turn
// mixed text into a string, as Envoy's JsonFormatterImpl does. This file parses and assembles;
// the operator table is commands.ts and what each operator reads is providers.ts.

import type { StreamInfo } from '../stream-info';
import { literal, type JsonValue, type Provider } from './providers';
import { COMMAND_ONLY, COMMANDS, ENVOY_ONLY, LENGTH_ALLOWED, PARAMS_REQUIRED } from './commands';

export type { JsonValue } from './providers';
export { knownOperators } from './commands';
export { formatResponseFlagsLong } from './providers';

/** Envoy's default access-log format (SubstitutionFormatUtils::DEFAULT_FORMAT). */
export const DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ' +
  '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';


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

