// google.protobuf.Duration as Envoy configs write it: a string of seconds with a trailing "s"
// ("5s", "0.25s", "1.5s"), or {seconds, nanos}. Normalized to milliseconds. Common mistakes
// ("250ms", "1m", a bare number) get a corrected spelling as a suggestion.

export type DurationResult =
  | { ok: true; ms: number }
  | { ok: false; message: string; suggestion?: string };

const MAX_SECONDS = 315_576_000_000; // protobuf's Duration range: ±10,000 years

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  sec: 1,
  secs: 1,
  m: 60,
  min: 60,
  mins: 60,
  h: 3600,
  hr: 3600,
  d: 86400,
};

/** Seconds as Envoy prints them: no exponent, at most 9 decimals, trailing zeros dropped. */
export function formatSeconds(seconds: number): string {
  let s = seconds.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  if (s === '-0') s = '0';
  return `${s}s`;
}

export function parseDuration(raw: unknown): DurationResult {
  if (typeof raw === 'string') {
    const text = raw.trim();
    const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
    if (m) {
      const seconds = Number(m[2]);
      if (seconds > MAX_SECONDS) return { ok: false, message: `duration "${raw}" is out of range` };
      const frac = m[3] ? Number(m[3].padEnd(9, '0')) / 1e9 : 0;
      const ms = (seconds + frac) * 1000 * (m[1] ? -1 : 1);
      return { ok: true, ms: roundMs(ms) };
    }
    const loose = /^(-?\d+(?:\.\d+)?|\.\d+)\s*([a-zµ]*)$/i.exec(text);
    if (loose) {
      const unit = loose[2].toLowerCase();
      const factor = unit === '' ? 1 : UNIT_SECONDS[unit];
      if (factor !== undefined) {
        return {
          ok: false,
          message: `invalid duration "${raw}": Envoy durations are seconds with a trailing "s"`,
          suggestion: `write "${formatSeconds(Number(loose[1]) * factor)}"`,
        };
      }
    }
    return { ok: false, message: `invalid duration "${raw}": expected seconds with a trailing "s", e.g. "0.25s" or "5s"` };
  }
  if (typeof raw === 'number') {
    return {
      ok: false,
      message: `invalid duration ${raw}: a duration is a string of seconds with a trailing "s"`,
      suggestion: `write "${formatSeconds(raw)}"`,
    };
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'seconds' && k !== 'nanos');
    const seconds = toInt(o.seconds ?? 0);
    const nanos = toInt(o.nanos ?? 0);
    if (extra.length === 0 && seconds !== undefined && nanos !== undefined && Math.abs(nanos) < 1e9 && Math.abs(seconds) <= MAX_SECONDS) {
      return { ok: true, ms: roundMs(seconds * 1000 + nanos / 1e6) };
    }
    return { ok: false, message: 'invalid duration: expected {seconds, nanos} with integer values (nanos below 1e9), or a string such as "5s"' };
  }
  return { ok: false, message: `invalid duration ${JSON.stringify(raw)}: expected a string such as "5s"` };
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** Keep sub-millisecond precision but drop float noise (0.1s → 100, not 100.00000000000001). */
function roundMs(ms: number): number {
  return Math.round(ms * 1e6) / 1e6;
}

/** PGV duration bounds ({seconds, nanos} objects) → milliseconds. */
export function boundMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object') return undefined;
  const o = v as { seconds?: unknown; nanos?: unknown };
  const s = Number(o.seconds ?? 0);
  const n = Number(o.nanos ?? 0);
  return Number.isFinite(s) && Number.isFinite(n) ? s * 1000 + n / 1e6 : undefined;
}
