// Envoy's access logging: formats compiled once per config (formatter.ts), the loggers of a
// connection manager (logger.ts), their buffered destinations by Envoy logger name (sinks.ts,
// writer.ts), filters (filter.ts) and the config-time check (check.ts).

export { DEFAULT_FORMAT, FormatError, compileTextFormat, compileJsonFormat, checkFormat, formatResponseFlagsLong, knownOperators } from './formatter';
export type { CompileOptions, JsonValue, LineFormatter } from './formatter';
export { AccessLogConfigError, compileLoggerFormat } from './config';
export type { FormatConfigOptions } from './config';
export { compileAccessLogFilter } from './filter';
export type { AccessLogFilter } from './filter';
export { buildAccessLogs, withTap } from './logger';
export type { AccessLogConfig, CompiledAccessLog, CompiledAccessLogs } from './logger';
export { ACCESS_LOG_SINKS, AccessLogWriters, closeAccessLogs } from './sinks';
export type { Sink, SinkFactory, WritersOptions } from './sinks';
export { BufferedWriter, DEFAULT_BUFFER_LIMIT, FdTarget, FileTarget } from './writer';
export type { WriteTarget, WriterStats } from './writer';
export { checkAccessLogs } from './check';
