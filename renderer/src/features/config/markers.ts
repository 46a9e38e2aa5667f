// The engine's diagnostics as editor markers (pure: no Monaco import, so it is unit-tested in
// Node). A diagnostic points at the first character of a key or value; the marker underlines
// that token, so an unknown key or a wrong value is marked where it is, not the whole line.

import type { Diagnostic } from '../../../../engine/admin/contract';

/** Monaco's MarkerSeverity values (kept here so this module needs no Monaco). */
export const SEVERITY = { Hint: 1, Info: 2, Warning: 4, Error: 8 } as const;

/** The marker owner of the engine's validation (monaco-yaml's is "yaml"). */
export const ENGINE_OWNER = 'meshdeck';

export interface MarkerLike {
  severity: number;
  message: string;
  source: string;
  code: string;
  startLineNumber: number;
  startColumn: number;
  endLineNumber: number;
  endColumn: number;
}

/** Where the YAML token starting at `column` (1-based) ends: before `:` + space, a flow separator, a comment, or the end. */
export function tokenEnd(lineText: string, column: number): number {
  let i = Math.max(0, column - 1);
  const quote = lineText[i];
  if (quote === '"' || quote === "'") {
    const close = lineText.indexOf(quote, i + 1);
    return close < 0 ? lineText.length + 1 : close + 2;
  }
  for (; i < lineText.length; i++) {
    const c = lineText[i]!;
    if (c === ',' || c === '}' || c === ']' || c === '{' || c === '[') break;
    if (c === ':' && (i + 1 === lineText.length || lineText[i + 1] === ' ')) break;
    if (c === '#' && i > 0 && lineText[i - 1] === ' ') break;
  }
  while (i > column - 1 && lineText[i - 1] === ' ') i--;
  return i + 1;
}

/**
 * A marker for one diagnostic over the text's lines. Line 0 (no position) marks the first line;
 * positions past the end are clamped.
 */
export function diagnosticToMarker(d: Diagnostic, lines: readonly string[]): MarkerLike {
  const line = Math.min(Math.max(d.line || 1, 1), Math.max(lines.length, 1));
  const text = lines[line - 1] ?? '';
  const firstNonBlank = text.search(/\S/) + 1 || 1;
  let start = d.column >= 1 ? Math.min(d.column, text.length + 1) : firstNonBlank;
  let end = tokenEnd(text, start);
  if (end <= start) {
    start = firstNonBlank;
    end = text.length + 1;
  }
  return {
    severity: d.severity === 'error' ? SEVERITY.Error : SEVERITY.Warning,
    message: d.suggestion ? `${d.message}\n→ ${d.suggestion}` : d.message,
    source: 'Meshdeck',
    code: d.code,
    startLineNumber: line,
    startColumn: start,
    endLineNumber: line,
    endColumn: Math.max(end, start + 1),
  };
}

/** A one-line summary of a diagnostics list, e.g. "2 errors, 1 warning". */
export function countText(diags: readonly { severity: 'error' | 'warning' }[]): string {
  const e = diags.filter((d) => d.severity === 'error').length;
  const w = diags.length - e;
  const part = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (!e && !w) return 'no problems';
  return [e ? part(e, 'error') : '', w ? part(w, 'warning') : ''].filter(Boolean).join(', ');
}
