// Collects Diagnostics and places them in the source text. Stages name things by Envoy-style
// paths (`static_resources.clusters[0].lb_policy`, snake_case field names); the validator binds
// each such path to the raw path in the document (which may spell the key in camelCase), and the
// reporter turns a path into the line and column of its key or value, falling back to the
// nearest enclosing thing that has a position.

import type { Diagnostic, Severity } from './model';
import type { Pos, Seg, SourceMap } from './source';

export const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const entry = (path: string, key: string): string => `${path}[${JSON.stringify(key)}]`;

export interface ReportOptions {
  suggestion?: string;
  /** Point at the key (default for field-level problems) or at the value (default). */
  at?: 'key' | 'value';
  /** Locate by this raw document path instead of the display path's binding (e.g. the second of two keys naming one field). */
  segs?: readonly Seg[];
}

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly raw = new Map<string, readonly Seg[]>();
  private readonly seen = new Set<string>();

  constructor(readonly map: SourceMap) {}

  /** Record that display path `path` is `segs` in the document. The first binding wins. */
  bind(path: string, segs: readonly Seg[]): void {
    if (!this.raw.has(path)) this.raw.set(path, segs);
  }

  isBound(path: string): boolean {
    return this.raw.has(path);
  }

  /** Line and column for a path: its own position, else its nearest bound ancestor's key. */
  where(path: string, at: 'key' | 'value' = 'value'): Pos {
    const own = this.raw.get(path);
    if (own) {
      const loc = this.map.get(own) ?? this.map.nearest(own);
      if (loc) return at === 'key' ? (loc.key ?? loc.value) : loc.value;
    }
    for (let i = path.length - 1; i > 0; i--) {
      const ch = path[i];
      if (ch !== '.' && ch !== '[') continue;
      const segs = this.raw.get(path.slice(0, i));
      if (!segs) continue;
      const loc = this.map.get(segs) ?? this.map.nearest(segs);
      if (loc) return loc.key ?? loc.value;
    }
    const root = this.map.get([]);
    return root ? root.value : { line: 0, column: 0 };
  }

  add(severity: Severity, code: string, path: string, message: string, opts: ReportOptions = {}): void {
    const key = `${severity}|${code}|${path}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const loc = opts.segs ? this.map.get(opts.segs) : undefined;
    const p = loc ? ((opts.at ?? 'value') === 'key' ? (loc.key ?? loc.value) : loc.value) : this.where(path, opts.at ?? 'value');
    const d: Diagnostic = { severity, code, path, line: p.line, column: p.column, message };
    if (opts.suggestion) d.suggestion = opts.suggestion;
    this.diagnostics.push(d);
  }

  error(code: string, path: string, message: string, opts?: ReportOptions): void {
    this.add('error', code, path, message, opts);
  }

  warn(code: string, path: string, message: string, opts?: ReportOptions): void {
    this.add('warning', code, path, message, opts);
  }

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }
}
