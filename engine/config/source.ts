// Config text (YAML, or JSON, which is YAML) → plain JS values plus where each value sits in the
// text. Syntax problems (truncated files, bad indentation, duplicate keys, JSON typos) become
// Diagnostics with their line and column; this module never throws on any input.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import type { Diagnostic } from './model';

/** One step of a path into the parsed value: a map key as written, or a list index. */
export type Seg = string | number;

/** 1-based line and column. */
export interface Pos {
  line: number;
  column: number;
}

export interface SourceLoc {
  /** Where the key is (absent for list items and the root). */
  key?: Pos;
  /** Where the value starts. */
  value: Pos;
}

/** Value path (raw keys as written in the text) → position of its key and value. */
export class SourceMap {
  private readonly locs = new Map<string, SourceLoc>();

  static keyOf(segs: readonly Seg[]): string {
    return JSON.stringify(segs);
  }

  set(segs: readonly Seg[], loc: SourceLoc): void {
    const k = SourceMap.keyOf(segs);
    if (!this.locs.has(k)) this.locs.set(k, loc);
  }

  get(segs: readonly Seg[]): SourceLoc | undefined {
    return this.locs.get(SourceMap.keyOf(segs));
  }

  /** The position of `segs`, or of its nearest ancestor that has one. */
  nearest(segs: readonly Seg[]): SourceLoc | undefined {
    for (let n = segs.length; n >= 0; n--) {
      const loc = this.get(segs.slice(0, n));
      if (loc) return loc;
    }
    return undefined;
  }

  get size(): number {
    return this.locs.size;
  }
}

export type SourceFormat = 'yaml' | 'json';

export interface ParsedSource {
  format: SourceFormat;
  /** The document as plain JS (null for an empty document). */
  value: unknown;
  map: SourceMap;
  /** Syntax errors and warnings. */
  diagnostics: Diagnostic[];
}

/** JSON when asked, or when the name ends in .json, or when the text starts with '{' or '['. */
export function detectFormat(text: string, sourceName?: string, format?: SourceFormat): SourceFormat {
  if (format) return format;
  const name = (sourceName ?? '').toLowerCase();
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  return /^\uFEFF?\s*[{[]/.test(text) ? 'json' : 'yaml';
}

export function parseSource(text: string, opts: { sourceName?: string; format?: SourceFormat } = {}): ParsedSource {
  const format = detectFormat(text, opts.sourceName, opts.format);
  const map = new SourceMap();
  const diagnostics: Diagnostic[] = [];
  const lc = new LineCounter();
  const pos = (offset: number | undefined): Pos => {
    if (offset === undefined || offset < 0) return { line: 1, column: 1 };
    const lp = lc.linePos(Math.min(offset, text.length));
    return { line: lp.line, column: lp.col };
  };

  let doc: Document.Parsed | undefined;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  } catch (e) {
    diagnostics.push(syntax('error', 'yaml_syntax', `cannot parse the document: ${(e as Error).message}`, { line: 1, column: 1 }));
    return { format, value: null, map, diagnostics };
  }

  let jsonOk = true;
  if (format === 'json') {
    try {
      JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (e) {
      jsonOk = false;
      const msg = (e as Error).message;
      const at = /position (\d+)/.exec(msg);
      const lineCol = /line (\d+) column (\d+)/.exec(msg);
      const p = lineCol ? { line: Number(lineCol[1]), column: Number(lineCol[2]) } : at ? pos(Number(at[1])) : pos(text.length);
      diagnostics.push(syntax('error', 'json_syntax', `JSON syntax error: ${msg.replace(/\s*in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '')}`, p));
    }
  }

  const multiline = new Set(doc.errors.filter((e) => e.code === 'MULTILINE_IMPLICIT_KEY').map((e) => e.pos?.[0]));
  for (const err of doc.errors) {
    // JSON: JSON.parse above is the judge (valid JSON YAML dislikes, e.g. tab indentation, is fine).
    if (format === 'json') break;
    if (err.code === 'DUPLICATE_KEY') continue; // reported by the builder, with the key's name
    if (err.code === 'BLOCK_AS_IMPLICIT_KEY' && multiline.has(err.pos?.[0])) continue; // the same mistake, said better below
    if (err.code === 'MULTILINE_IMPLICIT_KEY' && err.pos) {
      // A line indented deeper than its siblings: YAML read it as the continuation of the value
      // above. Point at that line, which is where the mistake is.
      const end = pos(err.pos[1]);
      const lineText = text.split(/\r?\n/)[end.line - 1] ?? '';
      const column = (/^\s*/.exec(lineText)?.[0].length ?? 0) + 1;
      diagnostics.push({
        ...syntax('error', 'yaml_indentation', 'YAML syntax error: this line is indented deeper than the key before it, so YAML reads it as part of that value', { line: end.line, column }),
        suggestion: 'indent it like the other keys of its map',
      });
      continue;
    }
    diagnostics.push(fromYamlError(err, 'error', pos));
  }
  for (const warn of doc.warnings) {
    if (format === 'json' && jsonOk) continue;
    diagnostics.push(fromYamlError(warn, 'warning', pos));
  }

  let value: unknown = null;
  try {
    const builder = new Builder(doc, map, pos, diagnostics);
    value = builder.build(doc.contents, [], new Set());
    map.set([], { value: doc.contents?.range ? pos(doc.contents.range[0]) : { line: 1, column: 1 } });
  } catch (e) {
    diagnostics.push(syntax('error', 'yaml_syntax', `cannot read the document: ${(e as Error).message}`, { line: 1, column: 1 }));
  }
  return { format, value, map, diagnostics };
}

function syntax(severity: 'error' | 'warning', code: string, message: string, p: Pos): Diagnostic {
  return { severity, code, path: '', line: p.line, column: p.column, message };
}

const YAML_CODES: Record<string, string> = {
  DUPLICATE_KEY: 'duplicate_key',
  TAB_AS_INDENT: 'yaml_indentation',
  BAD_INDENT: 'yaml_indentation',
  BLOCK_AS_IMPLICIT_KEY: 'yaml_indentation',
  MULTILINE_IMPLICIT_KEY: 'yaml_indentation',
  MISSING_CHAR: 'yaml_syntax',
  MULTIPLE_DOCS: 'yaml_multiple_documents',
};

const YAML_MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (---): an Envoy config is one document',
};

function fromYamlError(err: YAMLError, severity: 'error' | 'warning', pos: (o: number | undefined) => Pos): Diagnostic {
  const code = YAML_CODES[err.code] ?? (severity === 'error' ? 'yaml_syntax' : 'yaml_warning');
  const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const p = pos(err.pos?.[0]);
  const message = YAML_MESSAGES[err.code] ?? `YAML ${severity === 'error' ? 'syntax error' : 'warning'}: ${first}`;
  const d = syntax(severity, code, message, p);
  if (code === 'yaml_indentation') d.suggestion = 'check the indentation here and on the line above: keys of one map start in the same column, with spaces (not tabs)';
  return d;
}

class Builder {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly map: SourceMap,
    private readonly pos: (o: number | undefined) => Pos,
    private readonly diagnostics: Diagnostic[],
  ) {}

  build(node: unknown, segs: Seg[], resolving: Set<unknown>): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target || resolving.has(target)) return null;
      resolving.add(target);
      try {
        return this.build(target, segs, resolving);
      } finally {
        resolving.delete(target);
      }
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v instanceof Date) return v.toISOString();
      return v === undefined ? null : v;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      node.items.forEach((item, i) => {
        const childSegs = [...segs, i];
        const r = (item as { range?: [number, number, number] } | null)?.range;
        this.map.set(childSegs, { value: this.pos(r?.[0]) });
        out.push(this.build(item, childSegs, resolving));
      });
      return out;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: unknown[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as { range?: [number, number, number]; value?: unknown } | null;
        const valueNode = pair.value as { range?: [number, number, number] } | null;
        let key: string;
        if (isScalar(keyNode)) key = keyNode.value === null || keyNode.value === undefined ? '' : String(keyNode.value);
        else if (keyNode === null || keyNode === undefined) key = '';
        else {
          this.diagnostics.push(syntax('error', 'yaml_syntax', 'YAML syntax error: only plain keys are allowed in an Envoy config', this.pos(keyNode.range?.[0])));
          continue;
        }
        if (key === '<<' && (isAlias(pair.value) || isMap(pair.value) || isSeq(pair.value))) {
          merges.push(pair.value);
          continue;
        }
        const childSegs = [...segs, key];
        if (Object.prototype.hasOwnProperty.call(out, key)) {
          const first = this.map.get(childSegs)?.key;
          const p = this.pos(keyNode?.range?.[0]);
          this.diagnostics.push({
            ...syntax('error', 'duplicate_key', `duplicate key "${key}"${first ? ` (first set at line ${first.line})` : ''}`, p),
            suggestion: 'remove one of them: YAML keys must be unique within a map',
          });
          continue; // the first one counts
        }
        this.map.set(childSegs, {
          key: this.pos(keyNode?.range?.[0]),
          value: this.pos(valueNode?.range?.[0] ?? keyNode?.range?.[1]),
        });
        define(out, key, this.build(pair.value, childSegs, resolving));
      }
      // YAML merge keys (`<<: *base`): merged entries never override explicit ones.
      for (const m of merges) {
        const sources = isSeq(m) ? m.items : [m];
        for (const s of sources) {
          const merged = this.build(s, segs, resolving);
          if (merged && typeof merged === 'object' && !Array.isArray(merged)) {
            for (const [k, v] of Object.entries(merged)) if (!Object.prototype.hasOwnProperty.call(out, k)) define(out, k, v);
          }
        }
      }
      return out;
    }
    return null;
  }
}

function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
