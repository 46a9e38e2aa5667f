// An HTTP connection manager's access_log list, compiled once per config snapshot into one sink the
// connection manager calls when a request is over: for each logger, its filter (if any), its
// precompiled formatter and its buffered destination. Per request that is a few closure calls and an
// array push per logger; nothing waits for a disk.

import type { TypedExtension } from '../../config/model';
import type { StreamInfo } from '../stream-info';
import { compileLoggerFormat, type FormatConfigOptions } from './config';
import { compileAccessLogFilter, type AccessLogFilter } from './filter';
import type { LineFormatter } from './formatter';
import { ACCESS_LOG_SINKS, type AccessLogWriters, type Sink } from './sinks';

/** An access_log entry as the model carries it; `filter` is the AccessLog's filter (normalized), when the model passes it. */
export type AccessLogConfig = TypedExtension & { filter?: unknown };

export interface CompiledAccessLog {
  /** Envoy logger name (envoy.access_loggers.file, ...). */
  name: string;
  format: LineFormatter;
  filter: AccessLogFilter | undefined;
  sink: Sink;
}

export interface CompiledAccessLogs {
  loggers: CompiledAccessLog[];
  /** Logs one finished request to every logger; undefined when there are none. */
  log: ((info: StreamInfo) => void) | undefined;
  /** The config is gone: let go of the files. */
  release(): void;
}

/**
 * Compiles `configs` (an HCM's access_log). Loggers of a type Meshdeck does not run are left out
 * (the config loader warned about them). Throws AccessLogConfigError for a format or filter that
 * cannot be compiled — the config loader reports those first, so a loaded config does not throw.
 */
export function buildAccessLogs(configs: readonly AccessLogConfig[], writers: AccessLogWriters, opts: FormatConfigOptions = {}): CompiledAccessLogs {
  const loggers: CompiledAccessLog[] = [];
  try {
    for (const c of configs) {
      const factory = ACCESS_LOG_SINKS[c.name];
      if (!factory) continue;
      const format = compileLoggerFormat(c.config, opts);
      const filter = c.filter === undefined ? undefined : compileAccessLogFilter(c.filter);
      loggers.push({ name: c.name, format, filter, sink: factory(c.config, writers) });
    }
  } catch (e) {
    for (const l of loggers) l.sink.release();
    throw e;
  }
  const release = () => {
    for (const l of loggers) l.sink.release();
  };
  return { loggers, log: combine(loggers), release };
}

function one(l: CompiledAccessLog): (info: StreamInfo) => void {
  const { format, filter, sink } = l;
  return filter
    ? (info) => {
        if (filter(info)) sink.write(format(info));
      }
    : (info) => sink.write(format(info));
}

function combine(loggers: CompiledAccessLog[]): ((info: StreamInfo) => void) | undefined {
  if (loggers.length === 0) return undefined;
  const fns = loggers.map(one);
  // A logger must never break the request that is finishing: a failure loses that line only.
  if (fns.length === 1) {
    const f = fns[0];
    return (info) => {
      try {
        f(info);
      } catch {
        // dropped
      }
    };
  }
  return (info) => {
    for (const f of fns) {
      try {
        f(info);
      } catch {
        // dropped
      }
    }
  };
}

/** The engine's own tap (console, tests) and the config's loggers as one sink. */
export function withTap(tap: ((info: StreamInfo) => void) | undefined, log: ((info: StreamInfo) => void) | undefined): ((info: StreamInfo) => void) | undefined {
  if (!tap) return log;
  if (!log) return tap;
  return (info) => {
    tap(info);
    log(info);
  };
}
