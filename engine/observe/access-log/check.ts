// Config-time check of an HTTP connection manager's access_log entries (called by
// config/semantic.ts): every format the runtime would compile is compiled here, so an unknown
// operator or a malformed one is a config error at the format's path, line and column, with
// Envoy's message — never a surprise when the snapshot is built.

import type { Reporter } from '../../config/report';
import { child, index } from '../../config/report';
import type { TypedNode } from '../../config/validate';
import { ACCESS_LOGGERS } from '../../config/registry';
import { nearest } from '../../config/suggest';
import { AccessLogConfigError, compileLoggerFormat, type FormatConfigOptions } from './config';
import { knownOperators } from './formatter';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `hcm.access_log[*]` of one HttpConnectionManager node. */
export function checkAccessLogs(rep: Reporter, hcm: TypedNode, opts: FormatConfigOptions = {}): void {
  const list = Array.isArray(hcm.value.access_log) ? hcm.value.access_log : [];
  list.forEach((a, k) => {
    if (!isObject(a)) return;
    const entry = ACCESS_LOGGERS.find(a.name, a.typed_config);
    if (!entry || entry.level !== 'supported') return; // support.ts warned: not run
    const apath = index(child(hcm.path, 'access_log'), k);
    const tpath = child(apath, 'typed_config');
    const tc = isObject(a.typed_config) ? a.typed_config : {};
    try {
      compileLoggerFormat(tc, opts);
    } catch (e) {
      if (!(e instanceof AccessLogConfigError)) throw e;
      const lf = isObject(tc.log_format) ? tc.log_format : {};
      report(rep, tpath, e, Array.isArray(lf.formatters) && lf.formatters.length > 0);
    }
    // `filter` is not run yet (support.ts warns; config/model.ts does not carry it). When it is,
    // check it here too: compileAccessLogFilter(a.filter, 'filter') → report(rep, apath, e).
  });
}

function report(rep: Reporter, base: string, e: AccessLogConfigError, withFormatters = false): void {
  const path = joinField(base, e.field);
  const fe = e.formatError;
  if (!fe) {
    rep.error('invalid_access_log', path, e.message);
    return;
  }
  const op = fe.operator;
  const unknown = op !== undefined && fe.message.startsWith('Not supported field in StreamInfo');
  const near = unknown ? nearest(op, knownOperators()) : undefined;
  let suggestion: string | undefined;
  if (unknown && withFormatters) suggestion = `%${op}% may come from one of log_format.formatters: formatter extensions are not run by Meshdeck`;
  else if (near) suggestion = `did you mean %${near}%?`;
  else if (unknown) suggestion = 'see the command operators of Envoy’s access-log docs (usage.rst)';
  rep.error('invalid_access_log_format', path, `${fe.message} (at offset ${fe.offset} of the format${op ? `, operator %${op}%` : ''})`, { suggestion });
}

/** `base` + a field path like `log_format.json_format["a"][0]`. */
function joinField(base: string, field: string): string {
  if (!field) return base;
  return field.startsWith('[') ? `${base}${field}` : `${base}.${field}`;
}
