// Envoy's router filter: forwards a routed request to its cluster, with the route's timeout,
// retry policy and circuit breakers, and streams the response back. One UpstreamRequest per try.

import type { UpstreamHandler } from '../upstream/http1/handler';
import type { RetryPolicy, RouteAction } from '../config/model';
import { ResponseFlag } from '../observe/response-flags';
import type { HttpStream } from '../listener/stream';
import type { ClusterRuntime, UpstreamHost } from '../upstream/cluster';
import { computeHash } from '../lb/hash-policy';
import type { CompiledRoute } from './route-table';
import { rawQueryValue } from './matchers';
import { pickWeightedCluster } from './route-table';
import { retryOnResponse, retryOnReset, backoffMs, type ResetKind } from './retry';
import type { HeaderMutator } from './headers';
import { tlsFailureReason } from '../upstream/tls';

const RESET_PREFIX = 'upstream connect error or disconnect/reset before headers. ';

// Hop-by-hop headers never cross the proxy (RFC 9110 §7.6.1), nor do Node's own framing ones.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

export interface RouterContext {
  clusters: ReadonlyMap<string, ClusterRuntime>;
  random: () => number;
}

/** Forwards the stream along `route` (a `route` action). */
export function forward(stream: HttpStream, compiled: CompiledRoute, ctx: RouterContext, body: Buffer | null | 'stream'): void {
  const action = compiled.route.action as RouteAction;
  const info = stream.info;
  let clusterName: string | undefined;
  if (compiled.weighted) clusterName = pickWeightedCluster(compiled.weighted, ctx.random());
  else if (action.cluster !== undefined) clusterName = action.cluster;
  else if (action.clusterHeader) {
    const v = stream.req.headers[action.clusterHeader.toLowerCase()];
    clusterName = Array.isArray(v) ? v[0] : v;
  }
  const cluster = clusterName === undefined ? undefined : ctx.clusters.get(clusterName);
  info.clusterName = clusterName ?? '';
  if (!cluster) {
    stream.hcm.stats.no_cluster.inc();
    stream.sendLocalReply(503, '', ResponseFlag.NoClusterFound, 'cluster_not_found');
    return;
  }
  new UpstreamRouting(stream, action, compiled, cluster, ctx, body).start();
}

class UpstreamRouting {
  private readonly retry: RetryPolicy | undefined;
  private retriesLeft: number;
  private globalTimer: NodeJS.Timeout | undefined;
  private current: UpstreamRequest | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  readonly headers: string[];
  private readonly hash: bigint | undefined;
  private finished = false;
  private attempt = 0;
  private holdingRetrySlot = false;

  constructor(
    readonly stream: HttpStream,
    readonly action: RouteAction,
    private readonly compiled: CompiledRoute,
    readonly cluster: ClusterRuntime,
    readonly ctx: RouterContext,
    readonly body: Buffer | null | 'stream',
  ) {
    this.retry = action.retryPolicy;
    // A streamed body cannot be sent twice: no retries for it (Envoy: the buffer limit was exceeded).
    this.retriesLeft = this.retry && body !== 'stream' ? this.retry.numRetries : 0;
    this.headers = this.buildHeaders();
    this.hash = action.hashPolicy.length
      ? computeHash(action.hashPolicy, {
          header: (n) => stream.req.headers[n],
          sourceIp: unmapIPv4(stream.req.socket.remoteAddress ?? ''),
          query: (n) => rawQueryValue(stream.query, n),
        })
      : undefined;
  }

  start(): void {
    const t = this.action.timeoutMs;
    if (t > 0) this.globalTimer = setTimeout(() => this.onGlobalTimeout(), t);
    this.stream.res.on('close', () => {
      if (!this.stream.res.writableFinished) {
        this.stream.downstreamGone = true;
        this.stream.info.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
        this.current?.abort();
        this.cleanup();
      }
    });
    this.tryOnce();
  }

  private buildHeaders(): string[] {
    const s = this.stream;
    const src = s.req.headers;
    const out: string[] = [];
    // Headers listed in Connection are hop-by-hop too.
    const conn = src.connection;
    // Only an unusual Connection header names extra hop-by-hop headers; skip the work for the usual ones.
    const plain = conn === undefined || conn === 'keep-alive' || conn === 'close' || conn === 'Keep-Alive';
    const extraHop = plain ? undefined : new Set(conn.toLowerCase().split(',').map((x) => x.trim()));
    // HTTP/2: pseudo-headers are not headers upstream; :authority becomes Host (as Envoy's codecs do).
    const h2 = s.req.httpVersionMajor === 2;
    if (h2 && src.host === undefined && typeof src[':authority'] === 'string') out.push('host', src[':authority']);
    for (const k in src) {
      if (HOP_BY_HOP.has(k) || (extraHop && extraHop.has(k)) || (h2 && k.charCodeAt(0) === 58)) {
        // gRPC needs "te: trailers" end to end; it is the one TE value HTTP/2 allows.
        if (k === 'te' && src.te === 'trailers') out.push('te', 'trailers');
        continue;
      }
      const v = src[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) out.push(k, one);
      else out.push(k, v);
    }
    const a = this.action;
    if (a.hostRewriteLiteral) setHeader(out, 'host', a.hostRewriteLiteral);
    const expected = a.retryPolicy?.perTryTimeoutMs || a.timeoutMs;
    if (expected > 0) setHeader(out, 'x-envoy-expected-rq-timeout-ms', String(expected));
    this.compiled.requestMutations(out, s);
    return out;
  }

  private upstreamPath(): string {
    const a = this.action;
    const s = this.stream;
    let path = s.path;
    if (a.prefixRewrite !== undefined) {
      // The matched prefix is replaced; a `path` match replaces the whole path.
      const m = this.compiled.route.match.path;
      if (m.kind === 'prefix' || m.kind === 'path_separated_prefix') path = a.prefixRewrite + path.slice(m.value.length);
      else if (m.kind === 'path') path = a.prefixRewrite;
    } else if (this.compiled.regexRewrite) {
      const rw = this.compiled.regexRewrite;
      path = path.replace(rw.re, rw.replacement);
    }
    return s.query ? `${path}?${s.query}` : path;
  }

  private tryOnce(): void {
    if (this.finished) return;
    const s = this.stream;
    const cb = this.cluster.config.circuitBreakers;
    // Envoy retries pick a host afresh but do not avoid the previous one (that takes a
    // retry_host_predicate), so hashing policies see attempt 0 on every try.
    const host = this.cluster.chooseHost({ hash: this.hash, attempt: 0 });
    if (!host) {
      this.finish();
      s.sendLocalReply(503, 'no healthy upstream', ResponseFlag.NoHealthyUpstream, 'no_healthy_upstream');
      return;
    }
    if (this.cluster.activeRequests >= cb.maxRequests || this.cluster.pendingRequests >= cb.maxPendingRequests) {
      this.cluster.stats.upstream_rq_pending_overflow.inc();
      this.finish();
      s.info.upstreamHost = host.key;
      s.sendLocalReply(503, `${RESET_PREFIX}reset reason: overflow`, ResponseFlag.UpstreamOverflow, 'upstream_reset_before_response_started{overflow}');
      return;
    }
    this.attempt++;
    s.info.attemptCount = this.attempt;
    s.info.upstreamHost = host.key;
    this.current = new UpstreamRequest(this, host);
    this.current.send(this.upstreamPath());
  }

  /** A try ended without a usable response. Retry if the policy allows, else answer locally. */
  onReset(req: UpstreamRequest, kind: ResetKind, reason: string, refusedStream = false): void {
    if (this.finished || req !== this.current) return;
    const s = this.stream;
    if (kind === 'per_try_timeout') this.cluster.stats.upstream_rq_per_try_timeout.inc();
    if (kind === 'connect_failure') this.cluster.stats.upstream_cx_connect_fail.inc();
    const flag =
      kind === 'connect_failure' ? ResponseFlag.UpstreamConnectionFailure
      : kind === 'per_try_timeout' ? ResponseFlag.UpstreamRequestTimeout
      : kind === 'remote_reset' ? ResponseFlag.UpstreamRemoteReset
      : ResponseFlag.UpstreamConnectionTermination;
    if (!s.headersSent && this.retry && retryOnReset(this.retry, kind, refusedStream)) {
      if (this.scheduleRetry()) return;
    }
    this.finish();
    if (s.headersSent) {
      s.info.responseFlags |= flag;
      s.res.destroy();
      return;
    }
    s.info.upstreamTransportFailureReason = kind === 'connect_failure' ? reason : '';
    this.cluster.stats.chargeLocalReply(kind === 'per_try_timeout' ? 504 : 503);
    if (kind === 'per_try_timeout') {
      s.sendLocalReply(504, 'upstream request timeout', flag, 'upstream_per_try_timeout');
      return;
    }
    const retried = this.attempt > 1 ? 'retried and the latest ' : '';
    const why =
      kind === 'connect_failure' ? `remote connection failure, transport failure reason: ${reason}`
      : kind === 'remote_reset' ? 'remote reset'
      : 'connection termination';
    const details =
      kind === 'connect_failure' ? `upstream_reset_before_response_started{remote_connection_failure,${reason}}`
      : `upstream_reset_before_response_started{${kind === 'remote_reset' ? 'remote_reset' : 'connection_termination'}}`;
    s.sendLocalReply(503, `${RESET_PREFIX}${retried}reset reason: ${why}`, flag, details);
  }

  /** Headers arrived. true = forward this response; false = it is being retried (drop its body). */
  onResponseHeaders(req: UpstreamRequest, status: number): boolean {
    if (this.finished || req !== this.current) return false;
    if (this.retry && retryOnResponse(this.retry, status)) {
      if (this.retriesLeft > 0) {
        if (this.scheduleRetry()) return false;
      } else {
        this.cluster.stats.upstream_rq_retry_limit_exceeded.inc();
        this.stream.info.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
      }
    }
    if (this.attempt > 1) this.cluster.stats.upstream_rq_retry_success.inc();
    return true;
  }

  /** The forwarded response is complete. */
  onResponseComplete(req: UpstreamRequest): void {
    if (req !== this.current) return;
    this.finish();
  }

  private scheduleRetry(): boolean {
    if (this.retriesLeft <= 0) {
      this.stream.info.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
      this.cluster.stats.upstream_rq_retry_limit_exceeded.inc();
      return false;
    }
    if (!this.holdingRetrySlot && this.cluster.activeRetries >= this.cluster.config.circuitBreakers.maxRetries) {
      this.cluster.stats.upstream_rq_retry_overflow.inc();
      this.stream.info.responseFlags |= ResponseFlag.UpstreamOverflow;
      return false;
    }
    if (!this.holdingRetrySlot) {
      this.holdingRetrySlot = true;
      this.cluster.activeRetries++;
    }
    this.retriesLeft--;
    this.cluster.stats.upstream_rq_retry.inc();
    this.current = undefined;
    const r = this.retry!;
    const wait = backoffMs(this.attempt, r.baseIntervalMs, r.maxIntervalMs, this.ctx.random);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.tryOnce();
    }, wait);
    return true;
  }

  private onGlobalTimeout(): void {
    if (this.finished) return;
    const s = this.stream;
    this.cluster.stats.upstream_rq_timeout.inc();
    this.current?.chargeTimeout();
    this.current?.abort();
    this.finish();
    if (s.headersSent) {
      s.info.responseFlags |= ResponseFlag.UpstreamRequestTimeout;
      s.res.destroy();
      return;
    }
    this.cluster.stats.chargeLocalReply(504);
    s.sendLocalReply(504, 'upstream request timeout', ResponseFlag.UpstreamRequestTimeout, 'upstream_response_timeout');
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
  }

  private cleanup(): void {
    this.finished = true;
    if (this.globalTimer) clearTimeout(this.globalTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.globalTimer = this.backoffTimer = undefined;
    if (this.holdingRetrySlot) {
      this.holdingRetrySlot = false;
      this.cluster.activeRetries--;
    }
  }

  get responseMutations(): HeaderMutator {
    return this.compiled.responseMutations;
  }
}

/** One try against one host: a dispatch handler (upstream/http1/handler.ts) that streams the response downstream. */
class UpstreamRequest implements UpstreamHandler {
  private abortFn: ((err?: Error) => void) | undefined;
  private aborted = false;
  private connected = false;
  private forwarding = false;
  private discarding = false;
  private ended = false;
  private perTryTimer: NodeJS.Timeout | undefined;
  private startMono = 0;
  private resume: (() => void) | undefined;
  private readonly onDrain = () => this.resume?.();

  constructor(
    private readonly routing: UpstreamRouting,
    readonly host: UpstreamHost,
  ) {}

  send(path: string): void {
    const r = this.routing;
    const s = r.stream;
    const cluster = r.cluster;
    cluster.activeRequests++;
    cluster.pendingRequests++;
    cluster.stats.upstream_rq_total.inc();
    cluster.stats.upstream_rq_active.inc();
    cluster.stats.upstream_rq_pending_active.inc();
    this.host.activeRequests++;
    this.host.stats.rq_total.inc();
    this.startMono = performance.now();
    if (!s.info.firstUpstreamTxMono) s.info.firstUpstreamTxMono = this.startMono;
    const perTry = r.action.retryPolicy?.perTryTimeoutMs ?? 0;
    if (perTry > 0) this.perTryTimer = setTimeout(() => this.onPerTryTimeout(), perTry);
    // A streamed body goes as the downstream request itself, an async iterable of its chunks.
    const body = r.body === 'stream' ? (s.req as unknown as AsyncIterable<Buffer>) : r.body;
    try {
      this.host.pool.dispatch({ path, method: s.info.method, headers: r.headers, body }, this);
    } catch (err) {
      this.fail('connection_termination', (err as Error).message);
    }
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.release();
    this.abortFn?.(new Error('aborted by router'));
  }

  /** The route timeout hit this try before its headers: Envoy charges the host a timeout (and, as a 504, an error). */
  chargeTimeout(): void {
    if (this.forwarding || this.ended) return;
    this.host.stats.rq_timeout.inc();
    this.host.stats.rq_error.inc();
    this.routing.cluster.observeFailure(this.host, 'timeout');
  }

  private onPerTryTimeout(): void {
    this.perTryTimer = undefined;
    if (this.forwarding || this.ended) return;
    this.host.stats.rq_timeout.inc();
    this.host.stats.rq_error.inc();
    this.routing.cluster.observeFailure(this.host, 'timeout');
    this.abort();
    this.routing.onReset(this, 'per_try_timeout', '');
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.aborted) {
      abort(new Error('aborted by router'));
      return;
    }
    this.connected = true;
    this.routing.cluster.pendingRequests--;
    this.routing.cluster.stats.upstream_rq_pending_active.dec();
  }

  // undici 7 passes the chunk itself (lib/core/request.js), though its typings say a size.
  onBodySent(chunk: Buffer | string | number): void {
    if (this.routing.body !== 'stream') return;
    this.routing.stream.info.bytesReceived += typeof chunk === 'number' ? chunk : chunk.length;
  }

  onHeaders(statusCode: number, rawHeaders: Array<Buffer | string>, resume: () => void): boolean {
    if (this.aborted) return false;
    if (statusCode < 200) return true; // 1xx informational: wait for the final response
    (statusCode >= 500 ? this.host.stats.rq_error : this.host.stats.rq_success).inc();
    const r = this.routing;
    r.cluster.observeResponse(this.host, statusCode);
    const s = r.stream;
    const now = performance.now();
    s.info.firstUpstreamRxMono = now;
    r.cluster.recordLatency(this.host, now - this.startMono);
    if (this.perTryTimer) {
      clearTimeout(this.perTryTimer);
      this.perTryTimer = undefined;
    }
    if (!r.onResponseHeaders(this, statusCode)) {
      this.discarding = true;
      return true;
    }
    this.forwarding = true;
    this.resume = resume;
    const headers: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      // Meshdeck's HTTP/1.1 pool gives strings; undici (TLS, HTTP/2) gives Buffers.
      const name = rawHeaders[i];
      const k = (typeof name === 'string' ? name : name.toString('latin1')).toLowerCase();
      if (HOP_BY_HOP.has(k)) continue;
      const v = rawHeaders[i + 1];
      headers.push(k, typeof v === 'string' ? v : v.toString('latin1'));
    }
    s.info.upstreamServiceTimeMs = now - this.startMono;
    setHeader(headers, 'x-envoy-upstream-service-time', String(Math.round(s.info.upstreamServiceTimeMs)));
    setHeader(headers, 'server', s.hcm.config.serverName);
    r.responseMutations(headers, s);
    s.info.responseCode = statusCode;
    s.info.responseCodeDetails = 'via_upstream';
    s.info.responseHeaderList = headers;
    if (s.downstreamGone) return false;
    s.res.writeHead(statusCode, headers);
    s.res.on('drain', this.onDrain);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding || this.aborted) return true;
    this.routing.stream.info.bytesSent += chunk.length;
    return this.routing.stream.res.write(chunk);
  }

  /** undici sent the whole request: for a streamed body, the last downstream byte has arrived. */
  onRequestSent(): void {
    const info = this.routing.stream.info;
    if (this.routing.body === 'stream' && !info.lastDownstreamRxMono) info.lastDownstreamRxMono = performance.now();
  }

  onComplete(trailers?: Array<Buffer | string> | Record<string, unknown> | null): void {
    if (this.ended) return;
    this.ended = true;
    const r = this.routing;
    // HTTP/1.1 trailers come as a flat array; undici's HTTP/2 client gives node's header object.
    if (trailers && !Array.isArray(trailers)) trailers = flattenTrailers(trailers);
    if (trailers && trailers.length && !this.discarding) {
      const list = (r.stream.info.responseTrailerList = trailers.map((t, k) => (k % 2 ? String(t) : String(t).toLowerCase())));
      // Trailers (gRPC's grpc-status, grpc-message) go on downstream: HTTP/2 sends them, chunked HTTP/1.1 too.
      const obj: Record<string, string> = {};
      for (let i = 0; i + 1 < list.length; i += 2) obj[list[i]] = list[i + 1];
      if (!r.stream.downstreamGone) r.stream.res.addTrailers(obj);
    }
    this.countStatus();
    const doneMono = performance.now();
    this.host.stats.rq_time.record(doneMono - this.startMono);
    if (!this.discarding) r.cluster.stats.upstream_rq_time.record(doneMono - Math.max(r.stream.info.lastDownstreamRxMono, r.stream.info.firstUpstreamTxMono));
    this.release();
    if (this.discarding) return; // a retry is already scheduled
    r.stream.res.off('drain', this.onDrain);
    r.stream.res.end();
    r.onResponseComplete(this);
  }

  onError(err: Error): void {
    if (this.ended) return;
    const wasForwarding = this.forwarding;
    this.release();
    if (this.aborted) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!this.connected || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED') {
      this.fail('connect_failure', transportFailure(err));
    } else {
      // An HTTP/2 upstream that answered RST_STREAM REFUSED_STREAM (7), as node (or undici) words it.
      const refused = (code === 'ERR_HTTP2_STREAM_ERROR' && err.message.includes('NGHTTP2_REFUSED_STREAM')) || (code === 'UND_ERR_INFO' && / code 7$/.test(err.message));
      this.fail(wasForwarding ? 'remote_reset' : refused ? 'remote_reset' : 'connection_termination', err.message, refused);
    }
  }

  private fail(kind: ResetKind, reason: string, refusedStream = false): void {
    this.host.stats.rq_error.inc();
    if (kind === 'connect_failure') this.host.stats.cx_connect_fail.inc();
    // Outlier detection counts these as 503s (or apart, with split_external_local_origin_errors).
    this.routing.cluster.observeFailure(this.host, kind === 'connect_failure' ? 'connect_failed' : 'reset');
    this.ended = true;
    this.release();
    this.routing.onReset(this, kind, reason, refusedStream);
  }

  private countStatus(): void {
    const st = this.routing.cluster.stats;
    const code = this.routing.stream.info.responseCode;
    st.upstream_rq_completed.inc();
    if (!this.forwarding) return;
    if (code >= 500) st.upstream_rq_5xx.inc();
    else if (code >= 400) st.upstream_rq_4xx.inc();
    else if (code >= 300) st.upstream_rq_3xx.inc();
    else if (code >= 200) st.upstream_rq_2xx.inc();
    st.upstreamRqCode(code).inc();
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.ended = true;
    if (this.perTryTimer) clearTimeout(this.perTryTimer);
    const c = this.routing.cluster;
    c.activeRequests--;
    c.stats.upstream_rq_active.dec();
    if (!this.connected) {
      c.pendingRequests--;
      c.stats.upstream_rq_pending_active.dec();
    }
    this.host.activeRequests--;
  }
}

function flattenTrailers(t: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k in t) {
    const v = t[k];
    if (Array.isArray(v)) for (const one of v) out.push(k, String(one));
    else if (v !== undefined) out.push(k, String(v));
  }
  return out;
}

function transportFailure(err: Error): string {
  const tls = tlsFailureReason(err);
  if (tls) return tls;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'delayed connect error: Connection refused';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timeout';
  return err.message;
}

function setHeader(flat: string[], name: string, value: string): void {
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i] === name) {
      flat[i + 1] = value;
      // Drop any further copies.
      for (let j = flat.length - 2; j > i; j -= 2) if (flat[j] === name) flat.splice(j, 2);
      return;
    }
  }
  flat.push(name, value);
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; Envoy sees a.b.c.d. */
function unmapIPv4(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
