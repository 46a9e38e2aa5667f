// One recorded HTTP exchange, whatever it came from (Meshdeck's capture journal or an imported
// HAR): the request exactly as sent (bytes, header order and case), what answered it, and the
// facts Meshdeck knows about it. Replay reads this; HAR export writes it.

export interface RecordedBody {
  /** The bytes kept (up to the capture cap). */
  data: Buffer;
  /** The body's full size in bytes (> data.length when truncated; -1 = unknown). */
  size: number;
  truncated: boolean;
  mimeType: string;
}

export interface RecordedExchange {
  /** Position in its source (HAR entry index or journal sequence). */
  index: number;
  /** Wall-clock start, ms since the epoch (fractional ms allowed). */
  startedMs: number;
  method: string;
  /** Absolute URL as the client addressed it. */
  url: string;
  /** "HTTP/1.1", "HTTP/2.0", "h3", … ('' when unknown). */
  httpVersion: string;
  /** Request headers in order, names as sent (HTTP/2 pseudo-headers included when the source had them). */
  requestHeaders: Array<[string, string]>;
  requestBody?: RecordedBody;
  /** 0 = no response (blocked, reset, aborted). */
  status: number;
  statusText: string;
  responseHeaders: Array<[string, string]>;
  responseBody?: RecordedBody;
  /** Total time, ms (HAR entry.time); -1 when unknown. */
  timeMs: number;
  meshdeck?: MeshdeckFacts;
}

/** What the engine knew about an exchange it proxied (HAR export: the entry's `_meshdeck`). */
export interface MeshdeckFacts {
  listener: string;
  route: string;
  cluster: string;
  upstreamHost: string;
  /** Envoy's RESPONSE_FLAGS text, '-' when none. */
  responseFlags: string;
  responseCodeDetails: string;
  requestId: string;
  attempts: number;
  /** The answering try's time to response headers (x-envoy-upstream-service-time), ms; -1 = none. */
  upstreamServiceTimeMs: number;
}

export function headerValue(headers: ReadonlyArray<[string, string]>, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === n) return v;
  return undefined;
}

/** True when the bytes read back unchanged as UTF-8 text (HAR then carries them as text, not base64). */
export function isUtf8Text(b: Buffer): boolean {
  if (b.length === 0) return true;
  // Control characters other than tab/CR/LF mark binary even when they are valid UTF-8.
  for (let i = 0; i < Math.min(b.length, 4096); i++) {
    const c = b[i];
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** A path with its volatile segments (numbers, UUIDs, long hex/base64 ids) folded, for per-route figures. */
export function routeKey(method: string, url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split('?')[0] ?? url;
  }
  const folded = path
    .split('/')
    .map((s) => (/^\d+$/.test(s) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) || (/^[A-Za-z0-9_-]{16,}$/.test(s) && /\d/.test(s)) ? ':id' : s))
    .join('/');
  return `${method} ${folded}`;
}
