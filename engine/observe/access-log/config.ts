// An access logger's typed_config → its compiled line formatter, as Envoy picks the format:
// FileAccessLog{format | json_format | typed_json_format | log_format}, Stdout/StderrAccessLog
// {log_format}; a SubstitutionFormatString is {text_format | json_format | text_format_source} with
// omit_empty_values. No format (or an empty legacy `format`) gives Envoy's default format. The
// config checker (check.ts) and the runtime (logger.ts) both go through here, so what loads is what runs.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { compileJsonFormat, compileTextFormat, DEFAULT_FORMAT, FormatError, type CompileOptions, type LineFormatter } from './formatter';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface FormatConfigOptions {
  /** Relative text_format_source filenames are read from here (default: the working directory, as Envoy). */
  baseDir?: string;
  env?: CompileOptions['env'];
  hostname?: string;
}

/** A format in a logger's config that cannot be used, located by its field path inside typed_config. */
export class AccessLogConfigError extends Error {
  constructor(
    message: string,
    /** Path below typed_config, e.g. `log_format.text_format_source.inline_string` or `log_format.json_format["status"]`. */
    readonly field: string,
    readonly formatError?: FormatError,
  ) {
    super(message);
    this.name = 'AccessLogConfigError';
  }
}

const jsonFieldPath = (base: string, at: ReadonlyArray<string | number>): string =>
  at.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}[${JSON.stringify(k)}]`), base);

function text(format: string, field: string, opts: CompileOptions): LineFormatter {
  try {
    return compileTextFormat(format, opts);
  } catch (e) {
    if (e instanceof FormatError) throw new AccessLogConfigError(e.message, field, e);
    throw e;
  }
}

function json(struct: Obj, field: string, opts: CompileOptions): LineFormatter {
  try {
    return compileJsonFormat(struct, opts);
  } catch (e) {
    if (e instanceof FormatError) throw new AccessLogConfigError(e.message, jsonFieldPath(field, e.jsonPath), e);
    throw e;
  }
}

/** A DataSource's text (inline_string, inline_bytes, filename, environment_variable). */
function dataSource(ds: Obj, field: string, opts: FormatConfigOptions): { text: string; field: string } {
  if (typeof ds.inline_string === 'string') return { text: ds.inline_string, field: `${field}.inline_string` };
  if (typeof ds.inline_bytes === 'string') return { text: Buffer.from(ds.inline_bytes, 'base64').toString('utf8'), field: `${field}.inline_bytes` };
  if (typeof ds.filename === 'string') {
    const file = isAbsolute(ds.filename) ? ds.filename : resolvePath(opts.baseDir ?? process.cwd(), ds.filename);
    try {
      return { text: readFileSync(file, 'utf8'), field: `${field}.filename` };
    } catch (e) {
      throw new AccessLogConfigError(`cannot read the access-log format file ${ds.filename}: ${(e as Error).message}`, `${field}.filename`);
    }
  }
  if (typeof ds.environment_variable === 'string') {
    const v = (opts.env ?? process.env)[ds.environment_variable];
    if (v === undefined) throw new AccessLogConfigError(`environment variable ${ds.environment_variable} is not set`, `${field}.environment_variable`);
    return { text: v, field: `${field}.environment_variable` };
  }
  return { text: '', field };
}

/** A SubstitutionFormatString (log_format). */
function substitutionFormat(sfs: Obj, field: string, opts: FormatConfigOptions): LineFormatter {
  const co: CompileOptions = { omitEmptyValues: sfs.omit_empty_values === true, env: opts.env, hostname: opts.hostname };
  if (typeof sfs.text_format === 'string') return text(sfs.text_format, `${field}.text_format`, co);
  if (isObject(sfs.json_format)) return json(sfs.json_format, `${field}.json_format`, co);
  if (isObject(sfs.text_format_source)) {
    const src = dataSource(sfs.text_format_source, `${field}.text_format_source`, opts);
    return text(src.text, src.field, co);
  }
  return text(DEFAULT_FORMAT, field, co);
}

/**
 * The formatter an access logger's typed_config asks for (fields normalized: snake_case). Throws
 * AccessLogConfigError when a format cannot be compiled.
 */
export function compileLoggerFormat(config: Obj, opts: FormatConfigOptions = {}): LineFormatter {
  const co: CompileOptions = { env: opts.env, hostname: opts.hostname };
  if (isObject(config.log_format)) return substitutionFormat(config.log_format, 'log_format', opts);
  // FileAccessLog's deprecated forms.
  if (typeof config.format === 'string' && config.format !== '') return text(config.format, 'format', co);
  if (isObject(config.json_format)) return json(config.json_format, 'json_format', co);
  if (isObject(config.typed_json_format)) return json(config.typed_json_format, 'typed_json_format', co);
  return compileTextFormat(DEFAULT_FORMAT, co);
}
