// The one entry into config loading: text → located diagnostics, the normalized Envoy config and
// the runtime model. Parse (source.ts) → validate against Envoy's protos (validate.ts) → what
// Meshdeck runs (support.ts) → Envoy's cross-field rules (semantic.ts) → defaults and the model
// (resolve.ts). Every problem is collected; nothing here throws, whatever the input.

import type { Bootstrap, Diagnostic } from './model';
import { getEnvoyRoot } from './protos';
import { Reporter } from './report';
import { resolveBootstrap } from './resolve';
import { checkSemantics } from './semantic';
import { parseSource, type SourceFormat } from './source';
import { checkSupport } from './support';
import { validateBootstrap } from './validate';

export interface LoadOptions {
  /** Shown in diagnostics (a file name, or e.g. "--config-yaml"); its extension picks the format. */
  sourceName: string;
  format?: SourceFormat;
  /** Where relative file names in the config (direct_response bodies) are read from; default: the working directory, as in Envoy. */
  baseDir?: string;
}

export interface LoadResult {
  /** No error-severity diagnostics: the config can be run. */
  ok: boolean;
  /** The runtime model (only when ok). */
  bootstrap?: Bootstrap;
  /** The config as Envoy reads it: snake_case fields, canonical enums, durations in ms. */
  normalized?: unknown;
  /** Every problem found, in document order. */
  diagnostics: Diagnostic[];
}

export async function loadConfig(text: string, opts: LoadOptions): Promise<LoadResult> {
  const diagnostics: Diagnostic[] = [];
  try {
    if (typeof text !== 'string') {
      return { ok: false, diagnostics: [internal('', 'the config text is not a string')] };
    }
    const src = parseSource(text, { sourceName: opts.sourceName, format: opts.format });
    diagnostics.push(...src.diagnostics);
    const partial = src.diagnostics.some((d) => d.severity === 'error');
    if (!partial && (src.value === null || src.value === undefined)) {
      diagnostics.push({ severity: 'error', code: 'empty_config', path: '', line: 1, column: 1, message: 'the config is empty', suggestion: 'an Envoy bootstrap starts with static_resources: {listeners: [...], clusters: [...]}' });
      return { ok: false, diagnostics };
    }
    try {
      getEnvoyRoot();
    } catch (e) {
      diagnostics.push({ ...internal('', `cannot load Envoy's API protos: ${(e as Error).message}`), code: 'schema_unavailable' });
      return { ok: false, diagnostics };
    }
    const rep = new Reporter(src.map);
    const validated = validateBootstrap(src.value, rep, { partial });
    checkSupport(validated, rep);
    if (!partial) checkSemantics(validated, rep, { baseDir: opts.baseDir });
    let bootstrap: Bootstrap | undefined;
    if (!partial && rep.errorCount === 0 && validated.value) {
      bootstrap = await resolveBootstrap(validated.value, rep, { baseDir: opts.baseDir });
    }
    // After a syntax error the parsed structure is unreliable: keep only what was found well
    // before it, so a misplaced line does not also show up as a list of schema errors.
    const firstSyntax = Math.min(...src.diagnostics.filter((d) => d.severity === 'error').map((d) => d.line));
    diagnostics.push(...(partial ? rep.diagnostics.filter((d) => d.line > 0 && d.line < firstSyntax - 1) : rep.diagnostics));
    sortByPosition(diagnostics);
    const ok = !diagnostics.some((d) => d.severity === 'error');
    const result: LoadResult = { ok, normalized: validated.value, diagnostics };
    if (ok && bootstrap) result.bootstrap = bootstrap;
    return result;
  } catch (e) {
    diagnostics.push(internal('', `internal error while loading the config: ${(e as Error)?.stack ?? String(e)}`));
    return { ok: false, diagnostics };
  }
}

function internal(path: string, message: string): Diagnostic {
  return { severity: 'error', code: 'internal_error', path, line: 0, column: 0, message };
}

function sortByPosition(ds: Diagnostic[]): void {
  const indexed = ds.map((d, i) => ({ d, i }));
  indexed.sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i);
  indexed.forEach((x, i) => (ds[i] = x.d));
}

/**
 * Compiler-style text, so editors and terminals can link to the spot:
 * `envoy.yaml:12:7: error: static_resources.clusters[0].lb_policy: invalid value "LEAST_CONN" [invalid_enum]`
 * followed by `  → did you mean "LEAST_REQUEST"?` when there is a suggestion.
 */
export function formatDiagnostic(d: Diagnostic, sourceName: string): string {
  const where = d.line > 0 ? `${sourceName}:${d.line}:${d.column}` : sourceName;
  const head = `${where}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message} [${d.code}]`;
  return d.suggestion ? `${head}\n  → ${d.suggestion}` : head;
}

export function formatDiagnostics(ds: readonly Diagnostic[], sourceName: string): string {
  return ds.map((d) => formatDiagnostic(d, sourceName)).join('\n');
}
