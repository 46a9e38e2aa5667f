// Replay: recorded exchanges sent again to a target, open-loop. Each request has a due time —
// the recorded gaps (from startedDateTime, sorted, so out-of-order entries are not waited for)
// divided by a speed factor, or a fixed rate, or "now" (as fast as possible) — and is sent when
// due whatever the earlier ones are doing: a slow target makes requests wait for an answer, not
// leave later. Only the concurrency cap can hold a request back, and then its lateness is
// measured and reported (send delay = sent − due), as the load generator does (engine/sim/load.ts).
// Requests go out through one undici Pool with a dispatch handler per request (no stream or
// promise per request), bodies byte for byte.

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import type { ReplayMode, ReplayResultView, ReplaySummary } from '../admin/contract';
import type { RecordedBody, RecordedExchange } from './exchange';
import { headerValue, routeKey } from './exchange';
import { percentiles, round, tally } from './stats';

export class ReplayError extends Error {}

export interface ReplayOptions {
  /** Base URL of the target: http://host:port (a path prefix is prepended to every request path). */
  target: string;
  mode: ReplayMode;
  speed: number;
  rate: number;
  concurrency: number;
  loop: number;
  filter: { methods?: string[]; url?: string; status?: string };
  host?: string;
  dropHeaders: string[];
  setHeaders: Record<string, string>;
  timeoutMs: number;
  /** When set, every request carries x-request-id: PREFIX-<seq> (to find it in the target's own log). */
  requestIdPrefix?: string;
  /** Response body bytes kept per result (for HAR export); 0 = none. */
  keepResponseBodyBytes: number;
}

export type ReplayInput = Partial<Omit<ReplayOptions, 'target'>> & { target: string };

/** Checks and completes options; throws ReplayError naming the bad one. */
export function replayOptions(o: ReplayInput): ReplayOptions {
  const mode = o.mode ?? (o.rate !== undefined ? 'rate' : 'recorded');
  if (mode !== 'recorded' && mode !== 'rate' && mode !== 'asap') throw new ReplayError(`mode must be recorded, rate or asap, not '${mode}'`);
  const speed = o.speed ?? 1;
  if (!(typeof speed === 'number' && speed >= 0.1 && speed <= 100)) throw new ReplayError('speed must be between 0.1 and 100');
  const rate = o.rate ?? 0;
  if (mode === 'rate' && !(typeof rate === 'number' && rate > 0 && rate <= 1_000_000)) throw new ReplayError('rate must be a number of requests per second above 0');
  const concurrency = o.concurrency ?? (mode === 'asap' ? 64 : 256);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) throw new ReplayError('concurrency must be a whole number from 1 to 10000');
  const loop = o.loop ?? 1;
  if (!Number.isInteger(loop) || loop < 1 || loop > 1_000_000) throw new ReplayError('loop must be a whole number of 1 or more');
  let target: URL;
  try {
    target = new URL(o.target);
  } catch {
    throw new ReplayError(`target must be a URL like http://127.0.0.1:10000, not '${o.target}'`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new ReplayError('target must be an http:// or https:// URL');
  const filter = o.filter ?? {};
  if (filter.url) {
    try {
      new RegExp(filter.url);
    } catch (e) {
      throw new ReplayError(`filter url is not a regular expression: ${(e as Error).message}`);
    }
  }
  if (filter.status) statusPredicate(filter.status);
  const timeoutMs = o.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new ReplayError('timeoutMs must be above 0');
  return {
    target: o.target,
    mode,
    speed,
    rate,
    concurrency,
    loop,
    filter,
    host: o.host || undefined,
    dropHeaders: (o.dropHeaders ?? []).map((h) => h.toLowerCase()),
    setHeaders: o.setHeaders ?? {},
    timeoutMs,
    requestIdPrefix: o.requestIdPrefix,
    keepResponseBodyBytes: o.keepResponseBodyBytes ?? 0,
  };
}

/** "2xx,404,5xx" (0 = no response) → a test on a status. */
export function statusPredicate(spec: string): (status: number) => boolean {
  const tests = spec
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => {
      if (/^[1-5]xx$/.test(s)) {
        const c = Number(s[0]);
        return (x: number) => Math.floor(x / 100) === c;
      }
      if (/^\d{1,3}$/.test(s)) {
        const n = Number(s);
        return (x: number) => x === n;
      }
      throw new ReplayError(`filter status: '${s}' is not a status (404) or class (5xx)`);
    });
  return (x) => tests.some((t) => t(x));
}

/** The entries that pass the filter, in recorded start order (ties keep file order). */
export function selectEntries(all: readonly RecordedExchange[], filter: ReplayOptions['filter']): RecordedExchange[] {
  const methods = filter.methods?.length ? new Set(filter.methods.map((m) => m.toUpperCase())) : undefined;
  const url = filter.url ? new RegExp(filter.url) : undefined;
  const status = filter.status ? statusPredicate(filter.status) : undefined;
  const picked = all.filter((x) => (!methods || methods.has(x.method.toUpperCase())) && (!url || url.test(x.url)) && (!status || status(x.status)));
  return picked.map((x, i) => ({ x, i })).sort((a, b) => a.x.startedMs - b.x.startedMs || a.i - b.i).map((p) => p.x);
}

export interface PlanItem {
  x: RecordedExchange;
  loop: number;
  /** ms after the start of the run. */
  dueMs: number;
}

/** Due times: recorded gaps / speed, 1/rate apart, or all at once; loops follow each other. */
export function planSchedule(entries: readonly RecordedExchange[], o: Pick<ReplayOptions, 'mode' | 'speed' | 'rate' | 'loop'>): PlanItem[] {
  const out: PlanItem[] = [];
  const n = entries.length;
  if (n === 0) return out;
  const t0 = entries[0].startedMs;
  const span = entries[n - 1].startedMs - t0;
  // The next pass starts one mean gap after the last entry of the previous one.
  const passMs = span + (n > 1 ? span / (n - 1) : 0);
  let k = 0;
  for (let loop = 0; loop < o.loop; loop++) {
    for (const x of entries) {
      let due = 0;
      if (o.mode === 'recorded') due = (loop * passMs + (x.startedMs - t0)) / o.speed;
      else if (o.mode === 'rate') due = (k * 1000) / o.rate;
      out.push({ x, loop, dueMs: due });
      k++;
    }
  }
  return out;
}

// Never replayed: hop-by-hop (RFC 9110 §7.6.1), framing undici computes from the body, and
// what undici refuses to send. HTTP/2 and /3 pseudo-headers are mapped (":authority" → Host).
const NOT_SENT = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings', 'content-length', 'host', 'expect']);

/** The request as it will be sent: path (raw, from the recorded URL), flat headers, body. */
export function buildRequest(x: RecordedExchange, o: ReplayOptions, seq: number, prefix: string): { path: string; headers: string[]; body: Buffer | null } {
  const headers: string[] = [];
  const overridden = new Set(Object.keys(o.setHeaders).map((h) => h.toLowerCase()));
  if (o.requestIdPrefix) overridden.add('x-request-id');
  const host = o.host ?? headerValue(x.requestHeaders, 'host') ?? headerValue(x.requestHeaders, ':authority') ?? authorityOf(x.url);
  headers.push('host', host);
  for (const [name, value] of x.requestHeaders) {
    const n = name.toLowerCase();
    if (n.startsWith(':') || NOT_SENT.has(n) || overridden.has(n) || o.dropHeaders.includes(n)) continue;
    headers.push(name, value);
  }
  for (const [name, value] of Object.entries(o.setHeaders)) headers.push(name, fillTemplate(value, seq));
  if (o.requestIdPrefix) headers.push('x-request-id', `${o.requestIdPrefix}-${seq}`);
  const body = x.requestBody && x.requestBody.data.length ? x.requestBody.data : null;
  return { path: prefix + rawPath(x.url), headers, body };
}

function fillTemplate(v: string, seq: number): string {
  return v.includes('{{') ? v.replace(/\{\{\s*uuid\s*\}\}/g, () => randomUUID()).replace(/\{\{\s*seq\s*\}\}/g, String(seq)) : v;
}

/** The path and query exactly as recorded (no URL normalisation), fragment dropped. */
export function rawPath(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  const p = m ? m[1] : url;
  if (!p) return '/';
  return p.startsWith('/') ? p : `/${p}`;
}

function authorityOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
  return m ? m[1].replace(/^[^@]*@/, '') : '';
}

export interface ReplayResult extends ReplayResultView {
  responseHeaders: Array<[string, string]>;
  responseBody?: RecordedBody;
  /** The x-request-id sent (requestIdPrefix), to match the target's own log. */
  requestId?: string;
  startedMs: number;
  exchange: RecordedExchange;
}

export interface ReplayProgress {
  planned: number;
  sent: number;
  completed: number;
  inFlight: number;
}

/** One replay run. start() resolves when every request has an answer or an error (or on cancel). */
export class Replayer {
  readonly results: ReplayResult[] = [];
  private readonly plan: PlanItem[];
  private readonly pool: Pool;
  private readonly prefix: string;
  private next = 0;
  private inFlight = 0;
  private completed = 0;
  private t0 = 0;
  private firstSend = -1;
  private lastSend = 0;
  private lastDone = 0;
  private timer: NodeJS.Timeout | undefined;
  private finished: (() => void) | undefined;
  private cancelled = false;
  private readonly sendDelays: number[] = [];
  startedMs = 0;

  constructor(
    entries: readonly RecordedExchange[],
    readonly options: ReplayOptions,
    private readonly onResult?: (r: ReplayResult) => void,
  ) {
    this.plan = planSchedule(selectEntries(entries, options.filter), options);
    this.perRequest = Object.values(options.setHeaders).some((v) => v.includes('{{')) || !!options.requestIdPrefix;
    const t = new URL(options.target);
    this.prefix = t.pathname === '/' ? '' : t.pathname.replace(/\/$/, '');
    this.pool = new Pool(t.origin, {
      connections: options.concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { rejectUnauthorized: false },
    });
  }

  get progress(): ReplayProgress {
    return { planned: this.plan.length, sent: this.next, completed: this.completed, inFlight: this.inFlight };
  }

  get running(): boolean {
    return this.finished !== undefined;
  }

  async start(): Promise<void> {
    await warmUp();
    this.startedMs = Date.now();
    this.t0 = performance.now();
    const done = new Promise<void>((r) => (this.finished = r));
    this.pump();
    await done;
    this.finished = undefined;
    await this.pool.close().catch(() => {});
  }

  /** Stops sending; requests in flight are aborted and counted as errors. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    clearTimeout(this.timer);
    await this.pool.destroy().catch(() => {});
    this.checkDone();
  }

  private pump(): void {
    this.timer = undefined;
    if (this.cancelled) {
      this.checkDone();
      return;
    }
    const plan = this.plan;
    let now = performance.now() - this.t0;
    while (this.next < plan.length && this.inFlight < this.options.concurrency) {
      const item = plan[this.next];
      if (item.dueMs > now) {
        // Woken a little early by the timer's millisecond rounding: look again right away.
        if (item.dueMs - now < 0.05) {
          now = performance.now() - this.t0;
          continue;
        }
        break;
      }
      this.send(item, this.next, now);
      this.next++;
    }
    if (this.next < plan.length && this.inFlight < this.options.concurrency && !this.timer) {
      const wait = plan[this.next].dueMs - (performance.now() - this.t0);
      // At most 50 ms at a time: a long gap is re-measured rather than trusted to one timer.
      this.timer = setTimeout(() => this.pump(), Math.max(0, Math.min(wait, 50)));
    }
    this.checkDone();
  }

  private send(item: PlanItem, seq: number, now: number): void {
    const o = this.options;
    const delay = Math.max(0, now - item.dueMs);
    this.sendDelays.push(delay);
    if (this.firstSend < 0) this.firstSend = now;
    this.lastSend = now;
    const x = item.x;
    const req = this.requestFor(x, seq);
    const result: ReplayResult = {
      seq,
      index: x.index,
      loop: item.loop,
      method: x.method,
      url: x.url,
      route: this.routeOf(x),
      scheduledMs: round(item.dueMs),
      sendDelayMs: round(delay),
      status: 0,
      latencyMs: 0,
      upstreamHost: '',
      cluster: '',
      flags: '',
      upstreamServiceTimeMs: null,
      original: { status: x.status, timeMs: x.timeMs, upstreamHost: x.meshdeck?.upstreamHost ?? '', flags: x.meshdeck?.responseFlags ?? '' },
      responseHeaders: [],
      requestId: o.requestIdPrefix ? `${o.requestIdPrefix}-${seq}` : undefined,
      startedMs: Date.now(),
      exchange: x,
    };
    this.inFlight++;
    const handler = new ResponseHandler(result, o.keepResponseBodyBytes, performance.now(), () => this.onDone(result));
    try {
      this.pool.dispatch({ path: req.path, method: x.method as Dispatcher.HttpMethod, headers: req.headers, body: req.body }, handler);
    } catch (e) {
      handler.onError(e as Error);
    }
  }

  /** Built once per entry when nothing in it changes per request (no {{…}} templates, no request id). */
  private readonly built = new Map<RecordedExchange, ReturnType<typeof buildRequest>>();
  private perRequest = false;
  private requestFor(x: RecordedExchange, seq: number): ReturnType<typeof buildRequest> {
    if (this.perRequest) return buildRequest(x, this.options, seq, this.prefix);
    let r = this.built.get(x);
    if (!r) this.built.set(x, (r = buildRequest(x, this.options, seq, this.prefix)));
    return r;
  }

  private readonly routes = new Map<RecordedExchange, string>();
  /** Per entry, once (loops send the same entries again). */
  private routeOf(x: RecordedExchange): string {
    let r = this.routes.get(x);
    if (r === undefined) this.routes.set(x, (r = routeKey(x.method, x.url)));
    return r;
  }

  private onDone(r: ReplayResult): void {
    this.inFlight--;
    this.completed++;
    this.lastDone = performance.now() - this.t0;
    this.results.push(r);
    this.onResult?.(r);
    if (!this.timer) this.pump();
    else this.checkDone();
  }

  private checkDone(): void {
    if (!this.finished || this.inFlight > 0) return;
    if (this.cancelled || this.next >= this.plan.length) {
      clearTimeout(this.timer);
      this.finished();
    }
  }

  summary(): ReplaySummary {
    const results = this.results;
    let ok = 0;
    let mismatches = 0;
    const latencies: number[] = [];
    for (const r of results) {
      if (r.status > 0 && r.status < 500) ok++;
      if (r.original.status > 0 && r.status !== r.original.status) mismatches++;
      if (r.status > 0) latencies.push(r.latencyMs);
    }
    const window = (this.lastSend - this.firstSend) / 1000;
    const sent = this.next;
    return {
      planned: this.plan.length,
      sent,
      ok,
      failed: results.length - ok,
      statusMismatches: mismatches,
      durationMs: round(this.lastDone || performance.now() - this.t0),
      achievedRate: sent > 1 && window > 0 ? round(((sent - 1) / window), 1) : 0,
      sendDelayMs: percentiles(this.sendDelays),
      latencyMs: percentiles(latencies),
      byStatus: tally(results, (r) => String(r.status)),
    };
  }
}

const UST = 'x-envoy-upstream-service-time';

let warmed: Promise<void> | undefined;

/**
 * The first request through undici compiles its HTTP parser (WebAssembly) and its hot paths,
 * stalling the event loop for ~10–40 ms: every request due meanwhile would leave late. So, once
 * per process, before any schedule starts, one request goes to a throwaway server of our own
 * (never to the target).
 */
function warmUp(): Promise<void> {
  warmed ??= (async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    try {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as AddressInfo;
      // The same calls a replay makes: a Pool, dispatch with a handler, flat headers, a Buffer body.
      const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4, pipelining: 1 });
      const result = { status: 0, latencyMs: 0, responseHeaders: [], upstreamServiceTimeMs: null } as unknown as ReplayResult;
      for (let i = 0; i < 40; i++) {
        await Promise.all(
          [0, 1, 2, 3].map(
            (k) =>
              new Promise<void>((done) => {
                const h = new ResponseHandler(result, 16, performance.now(), done);
                pool.dispatch({ path: `/warm/${i}`, method: k % 2 ? 'GET' : 'POST', headers: ['host', 'warm', 'x-warm', String(i)], body: k % 2 ? null : Buffer.from('x') }, h);
              }),
          ),
        );
      }
      await pool.close();
    } catch {
      // Only a warm-up: the replay works without it.
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  })();
  return warmed;
}

/** One request's answer: status, headers, body (up to a cap), timing; errors become status 0. */
class ResponseHandler implements Dispatcher.DispatchHandler {
  private chunks: Buffer[] = [];
  private kept = 0;
  private size = 0;
  private ended = false;

  constructor(
    private readonly r: ReplayResult,
    private readonly cap: number,
    private readonly sentMono: number,
    private readonly done: () => void,
  ) {}

  onConnect(): void {}

  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true;
    this.r.status = status;
    // Header strings only when the response is kept (HAR export); else just the one header read.
    const keep = this.cap > 0;
    const h: Array<[string, string]> = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      if (keep) h.push([name.toString('latin1'), raw[i + 1].toString('latin1')]);
      if (name.length === UST.length && name.toString('latin1').toLowerCase() === UST) {
        const v = raw[i + 1].toString('latin1');
        if (/^\d+(\.\d+)?$/.test(v)) this.r.upstreamServiceTimeMs = Number(v);
      }
    }
    this.r.responseHeaders = h;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.kept < this.cap) {
      const part = chunk.subarray(0, this.cap - this.kept);
      this.chunks.push(Buffer.from(part));
      this.kept += part.length;
    }
    return true;
  }

  onComplete(): void {
    if (this.ended) return;
    this.ended = true;
    this.r.latencyMs = round(performance.now() - this.sentMono);
    if (this.size > 0 && this.cap > 0) {
      this.r.responseBody = { data: Buffer.concat(this.chunks, this.kept), size: this.size, truncated: this.size > this.kept, mimeType: headerValue(this.r.responseHeaders, 'content-type') ?? '' };
    }
    this.chunks = [];
    this.done();
  }

  onError(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.r.latencyMs = round(performance.now() - this.sentMono);
    // An answer cut short keeps its status; no answer at all is status 0.
    this.r.error = (err as NodeJS.ErrnoException).code ?? err.message;
    this.chunks = [];
    this.done();
  }
}

/** A finished replay as exchanges (for HAR export): what was sent and what came back. */
export function resultsAsExchanges(results: readonly ReplayResult[]): RecordedExchange[] {
  return [...results]
    .sort((a, b) => a.seq - b.seq)
    .map((r, i) => ({
      index: i,
      startedMs: r.startedMs,
      method: r.method,
      url: r.url,
      httpVersion: 'HTTP/1.1',
      requestHeaders: r.exchange.requestHeaders,
      requestBody: r.exchange.requestBody,
      status: r.status,
      statusText: '',
      responseHeaders: r.responseHeaders,
      responseBody: r.responseBody,
      timeMs: r.latencyMs,
      meshdeck: {
        listener: '',
        route: r.route,
        cluster: r.cluster,
        upstreamHost: r.upstreamHost,
        responseFlags: r.flags || '-',
        responseCodeDetails: r.error ?? '',
        requestId: r.requestId ?? '',
        attempts: 0,
        upstreamServiceTimeMs: r.upstreamServiceTimeMs ?? -1,
      },
    }));
}
