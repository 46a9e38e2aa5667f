// START_TIME(...) formats, compiled once: strftime's conversions as absl::FormatTime prints them
// (UTC unless a *_LOCAL operator asks for local time), plus Envoy's own `%s` (epoch seconds) and
// `%f` / `%1f`…`%9f` (the fraction of the second, truncated to that many digits; `%f` = 9) and
// absl's `%E#S` / `%E*S` / `%E#f` / `%E*f` / `%Ez` / `%E*z` / `%E4Y`. `%%` is a literal percent.
// With no format, Envoy's access-log default: `2018-03-28T23:35:58.000Z`.

/** Formats a time given in microseconds since the epoch. */
export type TimeFormatter = (epochUs: number) => string;

/** A broken-down time, computed once per formatted value. */
interface Parts {
  us: number; // µs since the epoch
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  yearDay: number; // 1-366
  offsetMin: number; // minutes east of UTC (0 for UTC)
}

type Piece = string | ((p: Parts) => string);

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
const space2 = (n: number): string => (n < 10 ? ` ${n}` : String(n));

/** The nanoseconds within the second, as 9 digits (µs precision: the last 3 are 0). */
function nanos9(us: number): string {
  const frac = ((us % 1e6) + 1e6) % 1e6;
  return `${String(Math.floor(frac)).padStart(6, '0')}000`;
}

function epochSeconds(us: number): string {
  return String(Math.floor(us / 1e6));
}

function offset(min: number, colon: boolean, seconds = false): string {
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  const hh = pad2(Math.floor(a / 60));
  const mm = pad2(a % 60);
  return colon ? `${sign}${hh}:${mm}${seconds ? ':00' : ''}` : `${sign}${hh}${mm}`;
}

function hour12(h: number): number {
  const r = h % 12;
  return r === 0 ? 12 : r;
}

/** Week of the year with weeks starting on `firstDay` (0 = Sunday for %U, 1 = Monday for %W). */
function weekOfYear(p: Parts, firstDay: number): number {
  const wd = (p.weekday - firstDay + 7) % 7;
  return Math.floor((p.yearDay - 1 - wd + 7) / 7);
}

/** ISO 8601 week number and week-based year. */
function isoWeek(p: Parts): { week: number; year: number } {
  const wd = p.weekday === 0 ? 7 : p.weekday; // Monday = 1 … Sunday = 7
  let week = Math.floor((p.yearDay - wd + 10) / 7);
  let year = p.year;
  if (week < 1) {
    year--;
    week = isoWeeksIn(year);
  } else if (week > isoWeeksIn(year)) {
    year++;
    week = 1;
  }
  return { week, year };
}

function isoWeeksIn(year: number): number {
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
}

/** Fraction of the second with `digits` digits (truncated). */
const fraction = (digits: number) => (p: Parts) => nanos9(p.us).slice(0, digits);

/** Fraction trimmed of trailing zeros (absl's `*` precision), '' when whole. */
function fullFraction(us: number): string {
  const digits = nanos9(us);
  let end = digits.length;
  while (end > 0 && digits[end - 1] === '0') end--;
  return digits.slice(0, end);
}

/**
 * The conversion for `spec` (the text after '%'), and how many characters it used; undefined when
 * it is not a conversion (printed as written, like glibc's strftime).
 */
function conversion(spec: string): { piece: Piece; used: number } | undefined {
  const c = spec[0];
  const one = (piece: Piece) => ({ piece, used: 1 });
  switch (c) {
    case 'a': return one((p) => DAYS[p.weekday].slice(0, 3));
    case 'A': return one((p) => DAYS[p.weekday]);
    case 'b':
    case 'h': return one((p) => MONTHS[p.month - 1].slice(0, 3));
    case 'B': return one((p) => MONTHS[p.month - 1]);
    case 'c': return one((p) => `${DAYS[p.weekday].slice(0, 3)} ${MONTHS[p.month - 1].slice(0, 3)} ${space2(p.day)} ${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)} ${p.year}`);
    case 'C': return one((p) => pad2(Math.floor(p.year / 100)));
    case 'd': return one((p) => pad2(p.day));
    case 'D':
    case 'x': return one((p) => `${pad2(p.month)}/${pad2(p.day)}/${pad2(p.year % 100)}`);
    case 'e': return one((p) => space2(p.day));
    case 'F': return one((p) => `${p.year}-${pad2(p.month)}-${pad2(p.day)}`);
    case 'g': return one((p) => pad2(isoWeek(p).year % 100));
    case 'G': return one((p) => String(isoWeek(p).year));
    case 'H': return one((p) => pad2(p.hour));
    case 'I': return one((p) => pad2(hour12(p.hour)));
    case 'j': return one((p) => pad3(p.yearDay));
    case 'k': return one((p) => space2(p.hour));
    case 'l': return one((p) => space2(hour12(p.hour)));
    case 'm': return one((p) => pad2(p.month));
    case 'M': return one((p) => pad2(p.minute));
    case 'p': return one((p) => (p.hour < 12 ? 'AM' : 'PM'));
    case 'r': return one((p) => `${pad2(hour12(p.hour))}:${pad2(p.minute)}:${pad2(p.second)} ${p.hour < 12 ? 'AM' : 'PM'}`);
    case 'R': return one((p) => `${pad2(p.hour)}:${pad2(p.minute)}`);
    case 's': return one((p) => epochSeconds(p.us));
    case 'S': return one((p) => pad2(p.second));
    case 't': return one('\t');
    case 'T':
    case 'X': return one((p) => `${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}`);
    case 'u': return one((p) => String(p.weekday === 0 ? 7 : p.weekday));
    case 'U': return one((p) => pad2(weekOfYear(p, 0)));
    case 'V': return one((p) => pad2(isoWeek(p).week));
    case 'w': return one((p) => String(p.weekday));
    case 'W': return one((p) => pad2(weekOfYear(p, 1)));
    case 'y': return one((p) => pad2(p.year % 100));
    case 'Y': return one((p) => String(p.year));
    case 'z': return one((p) => offset(p.offsetMin, false));
    case 'Z': return one((p) => (p.offsetMin === 0 ? 'UTC' : offset(p.offsetMin, false)));
    case 'f': return one(fraction(9));
    case '%': return one('%');
    default:
      break;
  }
  if (c >= '1' && c <= '9' && spec[1] === 'f') return { piece: fraction(Number(c)), used: 2 };
  if (c === 'E') {
    const rest = spec.slice(1);
    if (rest.startsWith('z')) return { piece: (p) => offset(p.offsetMin, true), used: 2 };
    if (rest.startsWith('*z')) return { piece: (p) => offset(p.offsetMin, true, true), used: 3 };
    if (rest.startsWith('4Y')) return { piece: (p) => String(p.year).padStart(4, '0'), used: 3 };
    if (rest.startsWith('*S')) {
      return { piece: (p) => { const f = fullFraction(p.us); return f ? `${pad2(p.second)}.${f}` : pad2(p.second); }, used: 3 };
    }
    if (rest.startsWith('*f')) return { piece: (p) => fullFraction(p.us), used: 3 };
    const m = /^(\d+)([Sf])/.exec(rest);
    if (m) {
      const digits = Math.min(Number(m[1]), 15);
      const frac = (p: Parts) => (nanos9(p.us) + '000000').slice(0, digits);
      const piece: Piece = m[2] === 'S' ? (p) => (digits ? `${pad2(p.second)}.${frac(p)}` : pad2(p.second)) : frac;
      return { piece, used: 1 + m[0].length };
    }
  }
  return undefined;
}

/** A newline conversion would break the log line; Envoy rejects it (`%n`, also with flags). */
export function hasNewlineConversion(format: string): boolean {
  return /%[-_0^#]*[1-9]*(E|O)?n/.test(format);
}

function compilePieces(format: string): Piece[] {
  const pieces: Piece[] = [];
  let lit = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (ch !== '%' || i === format.length - 1) {
      lit += ch;
      continue;
    }
    const conv = conversion(format.slice(i + 1, i + 8));
    if (!conv) {
      lit += ch;
      continue;
    }
    if (typeof conv.piece === 'string') lit += conv.piece;
    else {
      if (lit) pieces.push(lit);
      lit = '';
      pieces.push(conv.piece);
    }
    i += conv.used;
  }
  if (lit) pieces.push(lit);
  return pieces;
}

function breakDown(us: number, local: boolean): Parts {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  if (!local) {
    const year = d.getUTCFullYear();
    return {
      us,
      year,
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
      yearDay: Math.floor((ms - Date.UTC(year, 0, 1)) / 86_400_000) + 1,
      offsetMin: 0,
    };
  }
  const year = d.getFullYear();
  return {
    us,
    year,
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    weekday: d.getDay(),
    yearDay: Math.floor((Date.UTC(year, d.getMonth(), d.getDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1,
    offsetMin: -d.getTimezoneOffset(),
  };
}

/** Envoy's default START_TIME: `%Y-%m-%dT%H:%M:%E3SZ` (UTC) or with the local offset. */
function defaultFormatter(local: boolean): TimeFormatter {
  // The text up to the second changes once a second: keep the last one.
  let lastSecond = NaN;
  let head = '';
  let tail = 'Z';
  return (us) => {
    const second = Math.floor(us / 1e6);
    if (second !== lastSecond) {
      const p = breakDown(us, local);
      head = `${p.year}-${pad2(p.month)}-${pad2(p.day)}T${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}.`;
      tail = local ? offset(p.offsetMin, false) : 'Z';
      lastSecond = second;
    }
    return head + nanos9(us).slice(0, 3) + tail;
  };
}

/** Compiles a START_TIME argument ('' = Envoy's default format). */
export function compileTimeFormat(format: string, local = false): TimeFormatter {
  if (format === '') return defaultFormatter(local);
  const pieces = compilePieces(format);
  if (pieces.length === 1 && typeof pieces[0] === 'string') {
    const text = pieces[0];
    return () => text;
  }
  return (us) => {
    const p = breakDown(us, local);
    let out = '';
    for (const piece of pieces) out += typeof piece === 'string' ? piece : piece(p);
    return out;
  };
}
