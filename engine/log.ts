// The engine's own log (not the access log): Envoy's levels and a line format close to Envoy's
// default `[%Y-%m-%d %T.%e][%t][%l][%n] %v`, on stderr so stdout stays machine-readable.

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parseLogLevel(text: string): LogLevel | undefined {
  const t = text.toLowerCase();
  if (t === 'warn') return 'warning';
  return (LOG_LEVELS as readonly string[]).includes(t) ? (t as LogLevel) : undefined;
}

export interface Logger {
  level: LogLevel;
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  critical(msg: string): void;
}

function stamp(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l);
  const logger: Logger = {
    level,
    trace: (m) => emit('trace', m),
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warning', m),
    error: (m) => emit('error', m),
    critical: (m) => emit('critical', m),
  };
  function emit(l: LogLevel, m: string): void {
    if (logger.level === 'off' || rank(l) < rank(logger.level)) return;
    write(`[${stamp()}][${process.pid}][${l}][main] ${m}\n`);
  }
  return logger;
}
