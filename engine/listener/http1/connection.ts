// Meshdeck's downstream HTTP/1.1 codec: llhttp (the parser inside node:http, reached through
// `_http_common`) on a plain socket, with just the request/response surface the connection
// manager uses. Why not node:http: its IncomingMessage/ServerResponse streams, header objects
// and per-response bookkeeping cost about a third of the proxy's CPU per request (measured:
// ~69 µs → ~43 µs per proxied request for a bare proxy on this codec), and the HTTP/1 front end
// is the hot path of every benchmark. Framing follows RFC 9112 as node:http and Envoy do:
// Content-Length when known, chunked otherwise on HTTP/1.1, close-delimited on HTTP/1.0.
//
// One request is served at a time per connection; pipelined requests wait, parsed, in order.

import type { Socket } from 'node:net';
import { HTTPParser, kOnBody, kOnExecute, kOnHeaders, kOnHeadersComplete, kOnMessageComplete, type LlhttpParser, methods } from './llhttp';
import { Http1Request } from './request';
import { Http1Response } from './response';

export type Http1Headers = Record<string, string | undefined>;

export interface Http1Options {
  /** Largest request head in bytes (431 beyond it). */
  maxHeaderSize: number;
  /** Close a connection with no request in flight after this long (0 = never). */
  idleTimeoutMs: number;
  /** Time allowed to receive a whole request, head and body (0 = unlimited); 408 after it. */
  requestTimeoutMs: number;
}

export type RequestHandler = (req: Http1Request, res: Http1Response) => void;
/** A request that cannot be parsed: the connection is answered by the caller and closed. */
export type ProtocolErrorHandler = (err: NodeJS.ErrnoException, socket: Socket) => void;

interface Exchange {
  req: Http1Request;
  res: Http1Response;
  /** The request head was handed to the handler. */
  started: boolean;
}

/** One downstream connection: parser, the exchange in progress and those pipelined behind it. */
export class Http1Connection {
  private readonly parser: LlhttpParser;
  private headerChunks: string[] = [];
  private urlChunks = '';
  /** The exchange whose request the parser is reading. */
  private parsing: Exchange | null = null;
  /** Exchanges in order; the first is the one being answered. */
  private readonly queue: Exchange[] = [];
  private readPaused = false;
  private requestTimer: NodeJS.Timeout | undefined;
  private corked = false;
  /** False once the connection will close after the current response. */
  keepAlive = true;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly opts: Http1Options,
    private readonly onRequest: RequestHandler,
    private readonly onProtocolError: ProtocolErrorHandler,
  ) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, opts.maxHeaderSize, HTTPParser.kLenientNone);
    p[kOnHeaders] = (headers: string[], url: string) => {
      for (const h of headers) this.headerChunks.push(h);
      this.urlChunks += url;
    };
    p[kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[] | undefined,
      method: number,
      url: string | undefined,
      _status: unknown,
      _statusMessage: unknown,
      upgrade: boolean,
      keepAlive: boolean,
    ) => this.onHead(major, minor, headers, method, url, upgrade, keepAlive);
    p[kOnBody] = (b: Buffer) => this.parsing?.req.push(b);
    p[kOnMessageComplete] = () => this.onMessageComplete();
    p[kOnExecute] = () => {};
    this.parser = p;

    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.queue[0]?.res.emit('drain'));
    socket.on('error', () => {}); // a reset is a close; never an unhandled error
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs, () => {
        // Envoy's idle_timeout: only a connection with no request in flight is idle.
        if (this.queue.length === 0 && !this.parsing) socket.destroy();
      });
    }
  }

  /** Nothing in flight and nothing half-parsed: safe to close (draining). */
  get idle(): boolean {
    return this.queue.length === 0 && !this.parsing;
  }

  /** Close after the response in flight, or now if there is none. */
  closeWhenIdle(): void {
    this.keepAlive = false;
    if (this.idle) this.socket.end();
  }

  cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  pauseReading(): void {
    if (!this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  resumeReading(): void {
    if (this.readPaused && this.queue.length < 8) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private onData(d: Buffer): void {
    const r = this.parser.execute(d);
    if (r instanceof Error) this.protocolError(r as NodeJS.ErrnoException);
  }

  private onHead(
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    if (headers === undefined) {
      headers = this.headerChunks;
      this.headerChunks = [];
    }
    if (url === undefined) {
      url = this.urlChunks;
      this.urlChunks = '';
    }
    const req = new Http1Request(this.socket, this);
    req.method = methods[method] ?? 'GET';
    req.url = url;
    req.httpVersionMajor = major;
    req.httpVersionMinor = minor;
    req.rawHeaders = headers;
    req.headers = joinHeaders(headers);
    // An upgrade (WebSocket…) is not proxied: answer it as a plain request, then close.
    if (upgrade || !keepAlive) this.keepAlive = false;
    const res = new Http1Response(this, req, keepAlive && !upgrade);
    const ex: Exchange = { req, res, started: false };
    this.parsing = ex;
    this.queue.push(ex);
    if (this.opts.requestTimeoutMs > 0 && !this.requestTimer) {
      this.requestTimer = setTimeout(() => this.requestTimedOut(), this.opts.requestTimeoutMs);
    }
    if (this.queue.length === 1) this.start(ex);
    else if (this.queue.length >= 8) this.pauseReading();
    return 0;
  }

  private start(ex: Exchange): void {
    ex.started = true;
    const req = ex.req;
    // Envoy answers `Expect: 100-continue` itself (proxy_100_continue off) and does not forward it.
    if (req.headers.expect !== undefined && req.httpVersionMinor >= 1 && req.headers.expect.toLowerCase() === '100-continue' && !req.complete) {
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    if (req.headers.expect !== undefined) delete req.headers.expect;
    try {
      this.onRequest(req, ex.res);
    } catch (err) {
      // A bug in a handler must not leave the client hanging or take the engine down.
      if (!ex.res.headersSent) ex.res.writeHead(500, ['content-length', '0']).end();
      else ex.res.destroy();
      throw err;
    }
  }

  private onMessageComplete(): void {
    const ex = this.parsing;
    this.parsing = null;
    if (this.requestTimer) {
      clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
    }
    ex?.req._end();
  }

  /** @internal the response's last byte was handed to the socket. */
  responseFinished(res: Http1Response): void {
    const ex = this.queue[0];
    if (!ex || ex.res !== res) return;
    this.queue.shift();
    res._finished();
    if (!res.shouldKeepAlive || !this.keepAlive) {
      this.keepAlive = false;
      this.socket.end();
      return;
    }
    const next = this.queue[0];
    if (next) this.start(next);
    this.resumeReading();
  }

  private onEnd(): void {
    const r = this.parser.finish();
    if (r instanceof Error) {
      this.protocolError(r as NodeJS.ErrnoException);
      return;
    }
    // Envoy's connection manager does not half-close HTTP connections: a FIN from the client
    // resets what is in flight (as node:http does by default), and an idle one just closes.
    if (this.queue.length === 0) this.socket.end();
    else this.socket.destroy();
  }

  private requestTimedOut(): void {
    this.requestTimer = undefined;
    const ex = this.parsing;
    if (!ex) return;
    this.keepAlive = false;
    if (ex === this.queue[0] && ex.res.headersSent) {
      this.socket.destroy();
      return;
    }
    // Envoy's request_timeout: 408 with its body, then close.
    this.socket.end('HTTP/1.1 408 Request Timeout\r\ncontent-length: 15\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nrequest timeout', 'latin1');
    this.socket.destroySoon?.();
  }

  private protocolError(err: NodeJS.ErrnoException): void {
    this.keepAlive = false;
    const only = this.queue.length === 1 ? this.queue[0] : undefined;
    if (only && only === this.parsing && !only.res.headersSent) {
      // A broken body (bad chunk size…) before any response: the request is aborted (the router
      // stops sending it upstream) and the client gets Envoy's 400, as for a broken head.
      this.parsing = null;
      this.queue.length = 0;
      only.req._abort();
      only.res._close();
      this.onProtocolError(err, this.socket);
      return;
    }
    if (this.queue.length > 0) {
      // The bad bytes came after a request the handler already has (a broken body, a bad
      // request pipelined behind it): reset the connection, as Envoy resets the stream.
      this.socket.destroy();
      return;
    }
    this.parsing = null;
    this.onProtocolError(err, this.socket);
  }

  private onClose(): void {
    this.closed = true;
    if (this.requestTimer) clearTimeout(this.requestTimer);
    const pending = this.queue.splice(0);
    for (const ex of pending) {
      ex.req._abort();
      ex.res._close();
    }
    this.parsing?.req._abort();
    this.parsing = null;
    this.parser.close();
  }
}

/**
 * Header lines → one object with lower-case names, repeated fields joined as node:http's
 * joinDuplicateHeaders does (`, `; cookies with `; `), which is how Envoy folds them too.
 */
function joinHeaders(raw: readonly string[]): Http1Headers {
  const h: Http1Headers = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    const prev = h[name];
    h[name] = prev === undefined ? value : `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return h;
}

