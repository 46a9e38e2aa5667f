// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) in and out.
// Import is tolerant of what browsers and proxies really write (a byte-order mark, base64 bodies,
// HTTP/2 and HTTP/3 entries with pseudo-headers, status 0, optional fields left out, extra `_`
// fields); a file that is really broken gets an error naming the entry and the field.
// Export writes valid HAR 1.2 with Meshdeck's own facts in `_`-prefixed fields, as the spec allows.

import { parseDocument } from 'yaml';
import type { MeshdeckFacts, RecordedBody, RecordedExchange } from './exchange';
import { headerValue, isUtf8Text } from './exchange';

export class HarError extends Error {
  constructor(
    message: string,
    /** Entry index in log.entries, when the problem is in one entry. */
    readonly entry?: number,
    /** The field's path inside the entry (or the file), e.g. "request.url". */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HarError';
  }
}

export interface ImportedHar {
  creator: string;
  exchanges: RecordedExchange[];
  /** Things tolerated on the way (located), e.g. a missing startedDateTime. */
  warnings: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses HAR text (a Buffer is read as UTF-8; a BOM is dropped). Throws HarError. */
export function parseHar(input: string | Buffer): ImportedHar {
  let text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new HarError(`not JSON: ${locateJsonError(text, (e as Error).message)}`);
  }
  if (!isObj(doc) || !isObj(doc.log)) throw new HarError('not a HAR file: no "log" object at the top', undefined, 'log');
  const log = doc.log;
  if (!Array.isArray(log.entries)) throw new HarError('not a HAR file: "log.entries" is not a list', undefined, 'log.entries');
  const creator = isObj(log.creator) ? `${str(log.creator.name)} ${str(log.creator.version)}`.trim() : '';
  const warnings: string[] = [];
  const exchanges: RecordedExchange[] = [];
  let lastStart = 0;
  log.entries.forEach((raw, i) => {
    const x = readEntry(raw, i, warnings, lastStart);
    lastStart = x.startedMs;
    exchanges.push(x);
  });
  return { creator, exchanges, warnings };
}

function readEntry(raw: unknown, i: number, warnings: string[], previousStart: number): RecordedExchange {
  const fail = (field: string, why: string): never => {
    throw new HarError(`entry ${i} (log.entries[${i}]): ${field}: ${why}`, i, field);
  };
  if (!isObj(raw)) fail('', 'not an object');
  const e = raw as Obj;
  if (!isObj(e.request)) fail('request', 'missing');
  const req = e.request as Obj;
  if (typeof req.method !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(req.method)) fail('request.method', `not an HTTP method: ${JSON.stringify(req.method)}`);
  if (typeof req.url !== 'string') fail('request.url', 'missing');
  try {
    new URL(req.url as string);
  } catch {
    return fail('request.url', `not an absolute URL: ${JSON.stringify(req.url)}`);
  }
  let startedMs: number;
  if (e.startedDateTime === undefined) {
    warnings.push(`entry ${i}: no startedDateTime; scheduled with the entry before it`);
    startedMs = previousStart;
  } else {
    startedMs = typeof e.startedDateTime === 'string' ? Date.parse(e.startedDateTime) : NaN;
    if (!Number.isFinite(startedMs)) fail('startedDateTime', `not an ISO 8601 date: ${JSON.stringify(e.startedDateTime)}`);
    // Date.parse keeps milliseconds only; browsers write microseconds (".123456Z"): keep them.
    const frac = /\.(\d{4,})(?:Z|[+-]\d\d:?\d\d)$/.exec(e.startedDateTime as string);
    if (frac) startedMs += Number(`0.${frac[1].slice(3)}`);
  }
  const requestHeaders = readHeaders(req.headers, `request.headers`, fail);
  const requestBody = readPostData(req.postData, requestHeaders, fail);
  const res = isObj(e.response) ? e.response : undefined;
  if (e.response !== undefined && !res) fail('response', 'not an object');
  let status = 0;
  if (res && res.status !== undefined) {
    status = typeof res.status === 'number' ? res.status : Number(res.status);
    if (!Number.isInteger(status) || status < 0 || status > 999) fail('response.status', `not a status code: ${JSON.stringify(res.status)}`);
  }
  const responseHeaders = res ? readHeaders(res.headers, 'response.headers', fail) : [];
  const responseBody = res ? readContent(res.content, fail) : undefined;
  const time = typeof e.time === 'number' && Number.isFinite(e.time) ? e.time : -1;
  const x: RecordedExchange = {
    index: i,
    startedMs,
    method: req.method as string,
    // As written: replay sends the path byte for byte (URL parsing would normalise it).
    url: req.url as string,
    httpVersion: str(req.httpVersion) || str(res?.httpVersion),
    requestHeaders,
    requestBody,
    status,
    statusText: str(res?.statusText),
    responseHeaders,
    responseBody,
    timeMs: time,
  };
  const m = readMeshdeck(e._meshdeck);
  if (m) x.meshdeck = m;
  return x;
}

function readHeaders(v: unknown, field: string, fail: (f: string, why: string) => never): Array<[string, string]> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(field, 'not a list');
  const out: Array<[string, string]> = [];
  v.forEach((h, k) => {
    if (!isObj(h) || typeof h.name !== 'string') fail(`${field}[${k}]`, 'not a {name, value} object');
    const o = h as Obj;
    out.push([o.name as string, o.value === undefined || o.value === null ? '' : String(o.value)]);
  });
  return out;
}

function readPostData(v: unknown, headers: Array<[string, string]>, fail: (f: string, why: string) => never): RecordedBody | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail('request.postData', 'not an object');
  const mimeType = str(v.mimeType) || headerValue(headers, 'content-type') || '';
  let data: Buffer;
  if (typeof v.text === 'string') {
    // HAR 1.2 postData has no encoding; Meshdeck writes `_encoding`, some tools `encoding`.
    const enc = v._encoding ?? v.encoding;
    data = enc === 'base64' ? decodeBase64(v.text, 'request.postData.text', fail) : Buffer.from(v.text, 'utf8');
  } else if (Array.isArray(v.params) && v.params.length) {
    const form = new URLSearchParams();
    v.params.forEach((p, k) => {
      if (!isObj(p) || typeof p.name !== 'string') fail(`request.postData.params[${k}]`, 'not a {name, value} object');
      form.append((p as Obj).name as string, str((p as Obj).value));
    });
    data = Buffer.from(form.toString(), 'utf8');
  } else {
    // An empty postData (Insomnia writes one on a GET): no body.
    if (v.text === undefined) return undefined;
    return fail('request.postData.text', 'not a string');
  }
  const size = typeof v._size === 'number' ? v._size : data.length;
  return { data, size, truncated: v._truncated === true, mimeType };
}

function readContent(v: unknown, fail: (f: string, why: string) => never): RecordedBody | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail('response.content', 'not an object');
  const mimeType = str(v.mimeType);
  if (v.text === undefined || v.text === null) {
    // Bodies omitted by the exporter (chrome-har, "save without content"): only the size is known.
    return undefined;
  }
  if (typeof v.text !== 'string') return fail('response.content.text', 'not a string');
  const data = v.encoding === 'base64' ? decodeBase64(v.text, 'response.content.text', fail) : Buffer.from(v.text, 'utf8');
  const size = typeof v.size === 'number' && v.size >= 0 ? v.size : data.length;
  return { data, size: Math.max(size, data.length), truncated: v._truncated === true, mimeType };
}

function decodeBase64(text: string, field: string, fail: (f: string, why: string) => never): Buffer {
  const t = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(t)) return fail(field, 'encoding is base64 but the text is not base64');
  return Buffer.from(t, 'base64');
}

function readMeshdeck(v: unknown): MeshdeckFacts | undefined {
  if (!isObj(v)) return undefined;
  return {
    listener: str(v.listener),
    route: str(v.route),
    cluster: str(v.cluster),
    upstreamHost: str(v.upstreamHost),
    responseFlags: str(v.responseFlags) || '-',
    responseCodeDetails: str(v.responseCodeDetails),
    requestId: str(v.requestId),
    attempts: typeof v.attempts === 'number' ? v.attempts : 0,
    upstreamServiceTimeMs: typeof v.upstreamServiceTimeMs === 'number' ? v.upstreamServiceTimeMs : -1,
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** JSON.parse's message, with a line and column (Node 20's message has none: YAML's parser, a JSON superset, locates it). */
function locateJsonError(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${before.split('\n').length}, column ${pos - before.lastIndexOf('\n')}`;
  }
  const err = parseDocument(text).errors[0];
  const at = err?.linePos?.[0];
  return at ? `${message.replace(/, ".*" is not valid JSON$/, '')} at line ${at.line}, column ${at.col}` : message;
}

// ---------------------------------------------------------------------------------------------
// Export

export interface HarExportOptions {
  creator?: { name: string; version: string };
  comment?: string;
}

/** A HAR 1.2 document (as a plain object) for these exchanges, in their order. */
export function toHar(exchanges: Iterable<RecordedExchange>, opts: HarExportOptions = {}): Obj {
  const entries: Obj[] = [];
  for (const x of exchanges) entries.push(toEntry(x));
  const log: Obj = {
    version: '1.2',
    creator: opts.creator ?? { name: 'Meshdeck', version: '0.1.0' },
    entries,
  };
  if (opts.comment) log.comment = opts.comment;
  return { log };
}

function toEntry(x: RecordedExchange): Obj {
  const url = safeUrl(x.url);
  const request: Obj = {
    method: x.method,
    url: x.url,
    httpVersion: x.httpVersion || 'HTTP/1.1',
    cookies: [],
    headers: x.requestHeaders.map(([name, value]) => ({ name, value })),
    queryString: url ? [...url.searchParams].map(([name, value]) => ({ name, value })) : [],
    headersSize: -1,
    bodySize: x.requestBody ? x.requestBody.size : 0,
  };
  if (x.requestBody) {
    const b = x.requestBody;
    const text = isUtf8Text(b.data);
    const post: Obj = { mimeType: b.mimeType, text: text ? b.data.toString('utf8') : b.data.toString('base64') };
    if (!text) post._encoding = 'base64';
    if (b.truncated) {
      post._truncated = true;
      post._size = b.size;
    }
    request.postData = post;
  }
  const content: Obj = { size: x.responseBody ? x.responseBody.size : 0, mimeType: x.responseBody?.mimeType || headerValue(x.responseHeaders, 'content-type') || '' };
  if (x.responseBody) {
    const b = x.responseBody;
    if (isUtf8Text(b.data)) content.text = b.data.toString('utf8');
    else {
      content.text = b.data.toString('base64');
      content.encoding = 'base64';
    }
    if (b.truncated) content._truncated = true;
  }
  const response: Obj = {
    status: x.status,
    statusText: x.statusText,
    httpVersion: x.httpVersion || 'HTTP/1.1',
    cookies: [],
    headers: x.responseHeaders.map(([name, value]) => ({ name, value })),
    content,
    redirectURL: headerValue(x.responseHeaders, 'location') ?? '',
    headersSize: -1,
    bodySize: x.responseBody ? x.responseBody.size : x.status ? 0 : -1,
  };
  const time = Math.max(0, x.timeMs);
  const wait = x.meshdeck && x.meshdeck.upstreamServiceTimeMs >= 0 ? Math.min(time, x.meshdeck.upstreamServiceTimeMs) : time;
  const entry: Obj = {
    startedDateTime: isoMicros(x.startedMs),
    time,
    request,
    response,
    cache: {},
    timings: { send: 0, wait, receive: Math.max(0, time - wait) },
  };
  if (x.meshdeck) {
    entry._meshdeck = { ...x.meshdeck };
    const host = x.meshdeck.upstreamHost;
    const colon = host.lastIndexOf(':');
    if (colon > 0) entry.serverIPAddress = host.slice(0, colon).replace(/^\[|\]$/g, '');
  }
  return entry;
}

function safeUrl(u: string): URL | undefined {
  try {
    return new URL(u);
  } catch {
    return undefined;
  }
}

/** ISO 8601 with microseconds, as browsers write startedDateTime. */
function isoMicros(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.round((ms - whole) * 1000));
  const iso = new Date(whole).toISOString(); // …T12:00:00.123Z
  return micros > 0 ? `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z` : iso;
}
