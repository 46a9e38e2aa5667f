// One upstream HTTP/1.1 connection: writes a request, parses the response with llhttp (the
// parser the downstream codec uses, in RESPONSE mode) and hands it to the router's handler.
// One request at a time (Envoy never pipelines upstream); the pool (pool.ts) decides reuse.

import { connect, type Socket } from 'node:net';
import { HTTPParser, kOnBody, kOnExecute, kOnHeaders, kOnHeadersComplete, kOnMessageComplete, type LlhttpParser } from '../../listener/http1/llhttp';
import { CONNECT_TIMEOUT, type UpstreamDispatch, type UpstreamHandler } from './handler';

/** Envoy's default max_response_headers_kb (60 KiB). */
const MAX_RESPONSE_HEAD = 60 * 1024;
/** Where every upstream connection's reads land (see the constructor). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** Methods whose requests carry a body by definition: sent with content-length: 0 when empty. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A request on its way through the pool, from dispatch to its response's end. */
export class Exchange {
  conn: UpstreamConnection | null = null;
  /** onConnect was called (it is called once, even if a stale connection makes us send again). */
  notified = false;
  aborted = false;
  done = false;
  /** Response bytes arrived (a request with none on a reused connection may be sent again). */
  answered = false;
  /** The whole request went out. */
  sent = false;
  informational = false;
  keepAlive = true;
  /** Sent a second time after a stale connection swallowed it (only once). */
  resent = false;
  readonly abort = (err?: Error) => this.conn?.abortExchange(this, err ?? new Error('request aborted'));

  constructor(
    readonly opts: UpstreamDispatch,
    readonly handler: UpstreamHandler,
  ) {}

  get streamed(): boolean {
    const b = this.opts.body;
    return b != null && typeof b !== 'string' && !Buffer.isBuffer(b);
  }

  /** Tell the handler, once. */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError?.(err);
  }
}

/** What a connection needs from its pool. */
export interface ConnectionOwner {
  readonly hostHeader: string;
  connectTimeoutMs: number;
  /** The connection is free for the next request. */
  released(conn: UpstreamConnection): void;
  /** The connection is gone; `retry` is a request it could not deliver that may be sent again. */
  closed(conn: UpstreamConnection, retry: Exchange | null): void;
  connected(conn: UpstreamConnection): void;
  connectFailed(err: Error): void;
}

export class UpstreamConnection {
  readonly socket: Socket;
  private readonly parser: LlhttpParser;
  private headerChunks: string[] = [];
  /** The exchange in flight; null while idle. */
  current: Exchange | null = null;
  isConnected = false;
  /** Requests completed on this connection (a reused one may have been closed by the server meanwhile). */
  served = 0;
  /** Monotonic ms this connection went idle. */
  idleSince = 0;
  /** How long it may stay idle: the server's `Keep-Alive: timeout=N` hint less a margin, else the pool's. */
  keepAliveMs: number;
  private paused = false;
  private error: Error | null = null;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly resumeFn = () => {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  };

  constructor(
    private readonly owner: ConnectionOwner,
    address: string,
    port: number,
    keepAliveMs: number,
    first: Exchange,
  ) {
    this.keepAliveMs = keepAliveMs;
    this.current = first;
    first.conn = this;
    const p = new HTTPParser();
    p.initialize(HTTPParser.RESPONSE, {}, MAX_RESPONSE_HEAD, HTTPParser.kLenientNone);
    p[kOnHeaders] = (headers: string[]) => {
      for (const h of headers) this.headerChunks.push(h);
    };
    p[kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[] | undefined,
      _method: unknown,
      _url: unknown,
      status: number,
      statusText: string,
      _upgrade: boolean,
      keepAlive: boolean,
    ) => this.onHead(headers, status, statusText, keepAlive);
    p[kOnBody] = (b: Buffer) => this.onBody(b);
    p[kOnMessageComplete] = () => this.onMessageComplete();
    p[kOnExecute] = () => {};
    this.parser = p;

    // Responses are read into one shared buffer and handed straight to llhttp (node's `onread`),
    // skipping the Readable machinery per read. Safe to share: reads run one at a time, the
    // parser copies header strings and gives body chunks as copies of their own.
    const s = (this.socket = connect({ port, host: address, onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => (this.onData(buf as Buffer, n), true) } }));
    s.setNoDelay(true);
    if (owner.connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => {
        const err = Object.assign(new Error('connect timeout'), { code: CONNECT_TIMEOUT });
        s.destroy(err);
      }, owner.connectTimeoutMs);
    }
    s.once('connect', () => this.onConnect());
    s.on('end', () => this.onEnd());
    s.on('error', (err) => (this.error ??= err));
    s.on('close', () => this.onClose());
  }

  private onConnect(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.isConnected = true;
    this.owner.connected(this);
    const ex = this.current;
    this.current = null;
    if (ex) this.assign(ex);
  }

  /** Send `ex` on this (connected, idle) connection. */
  assign(ex: Exchange): void {
    this.current = ex;
    ex.conn = this;
    ex.answered = ex.sent = ex.informational = false;
    if (!ex.notified) {
      ex.notified = true;
      ex.handler.onConnect?.(ex.abort);
    }
    if (ex.aborted) {
      // Cancelled before a byte went out: the connection is still good.
      this.current = null;
      this.owner.released(this);
      return;
    }
    this.writeRequest(ex);
  }

  private writeRequest(ex: Exchange): void {
    const o = ex.opts;
    const h = o.headers;
    let head = `${o.method} ${o.path} HTTP/1.1\r\n`;
    let hasHost = false;
    let declaredLength: string | undefined;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i];
      // Only two names matter here; their lengths (4, 14) spare a comparison per header.
      if (name.length === 4 && name === 'host') hasHost = true;
      else if (name.length === 14 && name === 'content-length') {
        declaredLength = h[i + 1];
        continue; // written below, from what is actually sent
      }
      head += `${name}: ${h[i + 1]}\r\n`;
    }
    if (!hasHost) head += `host: ${this.owner.hostHeader}\r\n`;
    const body = o.body;
    const s = this.socket;
    if (body == null) {
      if (declaredLength !== undefined || PAYLOAD_METHODS.has(o.method)) head += 'content-length: 0\r\n';
      s.write(head + '\r\n', 'latin1');
      this.requestSent(ex);
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      head += `content-length: ${len}\r\n\r\n`;
      if (len === 0) s.write(head, 'latin1');
      else {
        s.cork();
        s.write(head, 'latin1');
        s.write(body);
        s.uncork();
      }
      this.requestSent(ex);
    } else {
      const chunked = declaredLength === undefined;
      head += chunked ? 'transfer-encoding: chunked\r\n\r\n' : `content-length: ${declaredLength}\r\n\r\n`;
      s.write(head, 'latin1');
      this.streamBody(ex, body, chunked).catch((err: Error) => {
        // The downstream body broke off (client gone): the upstream request cannot be completed.
        if (this.current === ex && !ex.done) {
          ex.fail(err);
          this.socket.destroy();
        }
      });
    }
  }

  private async streamBody(ex: Exchange, body: AsyncIterable<Buffer | string>, chunked: boolean): Promise<void> {
    const s = this.socket;
    for await (const chunk of body) {
      if (ex.done || this.current !== ex) return;
      const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (len === 0) continue;
      let ok: boolean;
      if (chunked) {
        s.cork();
        s.write(`${len.toString(16)}\r\n`, 'latin1');
        s.write(chunk);
        ok = s.write('\r\n', 'latin1');
        s.uncork();
      } else ok = s.write(chunk);
      ex.handler.onBodySent?.(chunk);
      if (!ok && !s.destroyed) await new Promise<void>((resolve) => {
        const go = () => {
          s.off('drain', go);
          s.off('close', go);
          resolve();
        };
        s.on('drain', go);
        s.on('close', go);
      });
    }
    if (ex.done || this.current !== ex) return;
    if (chunked) s.write('0\r\n\r\n', 'latin1');
    this.requestSent(ex);
  }

  private requestSent(ex: Exchange): void {
    ex.sent = true;
    ex.handler.onRequestSent?.();
    // The response may have completed before the body finished (an early 4xx): now it can go back.
    if (ex.done && this.current === ex) this.finish(ex);
  }

  private onData(buf: Buffer, n: number): void {
    if (!this.current) {
      // Bytes nobody asked for: the connection is out of step, so it cannot be trusted again.
      this.socket.destroy();
      return;
    }
    const r = this.parser.execute(buf.subarray(0, n));
    if (r instanceof Error) this.protocolError(r);
  }

  private onHead(headers: string[] | undefined, status: number, statusText: string, keepAlive: boolean): number {
    if (headers === undefined) {
      headers = this.headerChunks;
      this.headerChunks = [];
    }
    const ex = this.current;
    if (!ex) return 0;
    ex.answered = true;
    if (status < 200) {
      // 1xx (100 Continue, 103 Early Hints): the final response follows on the same message stream.
      ex.informational = true;
      return 0;
    }
    ex.keepAlive = keepAlive;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name.length === 10 && name.toLowerCase() === 'keep-alive') this.readKeepAliveHint(headers[i + 1]);
    }
    if (ex.done) return 0;
    if (ex.handler.onHeaders?.(status, headers, this.resumeFn, statusText) === false) this.pause();
    // A response to HEAD has headers that describe a body it does not carry: tell llhttp to skip it.
    return ex.opts.method === 'HEAD' ? 1 : 0;
  }

  /** `Keep-Alive: timeout=5` (node's servers send it): reuse only well inside that window. */
  private readKeepAliveHint(v: string): void {
    const m = /timeout\s*=\s*(\d+)/i.exec(v);
    if (!m) return;
    const ms = Number(m[1]) * 1000;
    this.keepAliveMs = Math.min(this.keepAliveMs, ms > 2000 ? ms - 1000 : ms / 2);
  }

  private onBody(b: Buffer): void {
    const ex = this.current;
    if (!ex || ex.done) return;
    if (ex.handler.onData?.(b) === false) this.pause();
  }

  private onMessageComplete(): void {
    const ex = this.current;
    if (!ex) return;
    if (ex.informational) {
      ex.informational = false;
      return;
    }
    const trailers = this.headerChunks.length ? this.headerChunks : null;
    this.headerChunks = [];
    if (!ex.done) {
      ex.done = true;
      ex.handler.onComplete?.(trailers);
    }
    if (ex.sent) this.finish(ex);
    // else: the request body is still going out; requestSent() finishes the exchange.
  }

  /** The exchange is over: the connection is free again, or closes. */
  private finish(ex: Exchange): void {
    if (this.current !== ex) return;
    this.current = null;
    this.served++;
    this.resumeFn();
    if (!ex.keepAlive || this.socket.destroyed) this.socket.destroy();
    else this.owner.released(this);
  }

  /** The router gave up on this request: the connection carries its leftovers, so it closes. */
  abortExchange(ex: Exchange, err: Error): void {
    if (ex.aborted) return;
    ex.aborted = true;
    if (this.current !== ex) return;
    if (!ex.notified || ex.done) return;
    ex.fail(err);
    this.socket.destroy();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onEnd(): void {
    // A close-delimited body ends here.
    const r = this.parser.finish();
    if (r instanceof Error) this.protocolError(r);
    this.socket.destroy();
  }

  private protocolError(err: Error): void {
    this.error ??= Object.assign(new Error(`upstream sent a malformed response: ${(err as NodeJS.ErrnoException).code ?? err.message}`), { code: 'HPE_INVALID' });
    this.socket.destroy();
  }

  private onClose(): void {
    clearTimeout(this.connectTimer);
    const ex = this.current;
    this.current = null;
    this.parser.close();
    if (!this.isConnected) {
      const err = this.error ?? Object.assign(new Error('connection closed before it was established'), { code: 'ECONNRESET' });
      this.owner.connectFailed(err);
      if (ex) ex.fail(err);
      this.owner.closed(this, null);
      return;
    }
    let retry: Exchange | null = null;
    if (ex && !ex.done) {
      // The server closed a kept-alive connection as we sent on it (its idle timeout raced our
      // reuse): nothing reached it, so the request goes again on another connection, once.
      if (this.served > 0 && !ex.answered && !ex.aborted && !ex.resent && !ex.streamed && !this.error?.message.startsWith('upstream sent')) retry = ex;
      else ex.fail(this.error ?? Object.assign(new Error('upstream connection closed'), { code: 'ECONNRESET' }));
    }
    this.owner.closed(this, retry);
  }
}
