// Meshdeck's downstream HTTP/1.1 codec: llhttp (the parser inside node:http, reached through
// `_http_common`) on a plain socket, with just the request/response surface the connection
// manager uses. Why not node:http: its IncomingMessage/ServerResponse streams, header objects
// and per-response bookkeeping cost about a third of the proxy's CPU per request (measured:
// ~69 µs → ~43 µs per proxied request for a bare proxy on this codec), and the HTTP/1 front end
// is the hot path of every benchmark. Framing follows RFC 9112 as node:http and Envoy do:
// Content-Length when known, chunked otherwise on HTTP/1.1, close-delimited on HTTP/1.0.
//
// One request is served at a time per connection; pipelined requests wait, parsed, in order.

import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  pause(): void;
  resume(): void;
  close(): void;
  remove?(): void;
  [k: number]: unknown;
}
interface LlhttpModule {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
    kLenientNone: number;
  };
  methods: string[];
}

// `_http_common` is node's own module for its HTTP parser (stable across Node 18–22); it is the
// same llhttp build that node:http runs, so what is malformed for node:http is malformed here.
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as LlhttpModule;
const kOnHeaders = HTTPParser.kOnHeaders | 0;
const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
const kOnBody = HTTPParser.kOnBody | 0;
const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
const kOnExecute = HTTPParser.kOnExecute | 0;

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

/** Bodies up to this size go out in one latin1 string write with the head. */
const SMALL_BODY = 16 * 1024;
/** The request-body high-water mark: beyond it, reading from the socket pauses. */
const BODY_HWM = 64 * 1024;

/** The request side of one exchange: head fields plus the body as events or an async iterable. */
export class Http1Request extends EventEmitter {
  method = 'GET';
  url = '/';
  headers: Http1Headers = {};
  /** As received: [name, value, …] with the client's spelling. */
  rawHeaders: string[] = [];
  httpVersionMajor = 1;
  httpVersionMinor = 1;
  /** True once the whole body has arrived. */
  complete = false;
  /** Body chunks that arrived before anyone read them. */
  private pending: Buffer[] | null = null;
  private pendingBytes = 0;
  private flowing = false;
  private ended = false;
  private waiter: (() => void) | null = null;

  constructor(
    readonly socket: Socket,
    private readonly conn: Http1Connection,
  ) {
    super();
  }

  get httpVersion(): string {
    return `${this.httpVersionMajor}.${this.httpVersionMinor}`;
  }

  /** Starts the flow of 'data' events (and 'end'), as a Readable does when read. */
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'data') this.resume();
    return this;
  }

  /** Read (or discard) the body: buffered chunks are delivered on the next tick, then live ones. */
  resume(): this {
    if (this.flowing) return this;
    this.flowing = true;
    process.nextTick(() => this.flush());
    return this;
  }

  /** The parser delivers body bytes here (a capture tap may wrap it); false = reading paused. */
  push(chunk: Buffer): boolean {
    if (this.flowing && !this.pending) {
      this.emit('data', chunk);
      return true;
    }
    (this.pending ??= []).push(chunk);
    this.pendingBytes += chunk.length;
    this.waiter?.();
    if (this.pendingBytes > BODY_HWM) {
      this.conn.pauseReading();
      return false;
    }
    return true;
  }

  /** @internal the parser saw the end of the body. */
  _end(): void {
    this.complete = true;
    if (this.flowing && !this.pending) this.emitEnd();
    else this.waiter?.();
  }

  private flush(): void {
    const chunks = this.pending;
    if (chunks) {
      this.pending = null;
      this.pendingBytes = 0;
      for (const c of chunks) this.emit('data', c);
      this.conn.resumeReading();
    }
    if (this.complete) this.emitEnd();
  }

  private emitEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }

  /** The body as an async iterable (undici streams a request body from it), with backpressure. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    this.flowing = true; // nobody else reads: 'data' events stay silent, chunks queue below
    this.pending ??= [];
    for (;;) {
      const chunks = this.pending;
      if (chunks && chunks.length) {
        this.pending = [];
        this.pendingBytes = 0;
        this.conn.resumeReading();
        for (const c of chunks) yield c;
        continue;
      }
      if (this.complete) {
        this.ended = true;
        return;
      }
      if (this.conn.closed) throw Object.assign(new Error('downstream connection closed'), { code: 'ECONNRESET' });
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }

  /** @internal the connection went away before the body ended. */
  _abort(): void {
    if (!this.complete) {
      this.emit('aborted');
      // As IncomingMessage: an 'error' only for whoever listens for one.
      if (this.listenerCount('error') > 0) this.emit('error', Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    }
    this.waiter?.();
  }
}

const enum Framing {
  None,
  Length,
  Chunked,
  Close,
}

let dateCache = '';
let dateSecond = 0;
/** RFC 9110 IMF-fixdate, built once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

/** The response side of one exchange, with the few ServerResponse members the engine uses. */
export class Http1Response extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableFinished = false;
  writableEnded = false;
  /** Set to false to close the connection after this response (draining, HTTP/1.0…). */
  shouldKeepAlive: boolean;
  private head = '';
  private trailers = '';
  private framing = Framing.None;
  private noBody = false;
  private closed = false;

  constructor(
    private readonly conn: Http1Connection,
    private readonly req: Http1Request,
    keepAlive: boolean,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
  }

  /**
   * Status and headers as a flat [name, value, …] list (values may be string arrays) or an
   * object. Nothing is written yet: the head goes out with the first body bytes, so a small
   * response is one write.
   */
  writeHead(status: number, headers?: readonly (string | readonly string[])[] | Record<string, string | number | readonly string[] | undefined>): this {
    if (this.headersSent) throw new Error('headers already sent');
    this.statusCode = status;
    this.headersSent = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let length = -1;
    let chunked = false;
    let hasDate = false;
    let close = false;
    const add = (name: string, value: string | number | readonly string[] | undefined) => {
      if (value === undefined) return;
      // Only four names matter to framing; their lengths (14, 17, 10, 4) spare a toLowerCase per header.
      const n = name.length;
      const lower = n === 14 || n === 17 || n === 10 || n === 4 ? name.toLowerCase() : '';
      if (lower === 'content-length') length = Number(value);
      else if (lower === 'transfer-encoding') {
        chunked = true;
        return; // framing is this codec's decision
      } else if (lower === 'connection') {
        if (String(value).toLowerCase().includes('close')) close = true;
        return;
      } else if (lower === 'date') hasDate = true;
      if (typeof value === 'object') for (const v of value) head += `${name}: ${v}\r\n`;
      else head += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i] as string, headers[i + 1]);
    } else if (headers) {
      for (const k of Object.keys(headers)) add(k, (headers as Record<string, string | number | readonly string[] | undefined>)[k]);
    }
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    this.noBody = this.req.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (close) this.shouldKeepAlive = false;
    if (this.noBody) this.framing = Framing.None;
    else if (length >= 0 && !chunked) this.framing = Framing.Length;
    else if (this.req.httpVersionMinor >= 1) this.framing = Framing.Chunked;
    else {
      this.framing = Framing.Close;
      this.shouldKeepAlive = false;
    }
    this.head = head;
    return this;
  }

  private finishHead(): string {
    let head = this.head;
    if (this.framing === Framing.Chunked) head += 'transfer-encoding: chunked\r\n';
    if (!this.shouldKeepAlive || !this.conn.keepAlive) head += 'connection: close\r\n';
    this.head = '';
    return head + '\r\n';
  }

  /** Body bytes; false = the socket is backed up, wait for 'drain'. */
  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.closed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const sock = this.conn.socket;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.head) {
      if (this.framing === Framing.Length && data.length <= SMALL_BODY) {
        // Head and a small first chunk in one write: one syscall, no writev (the usual proxied response).
        return sock.write(this.finishHead() + data.toString('latin1'), 'latin1');
      }
      this.conn.cork();
      sock.write(this.finishHead(), 'latin1');
    }
    if (this.noBody || data.length === 0) return !sock.writableNeedDrain;
    if (this.framing === Framing.Chunked) {
      this.conn.cork();
      sock.write(`${data.length.toString(16)}\r\n`, 'latin1');
      sock.write(data);
      return sock.write('\r\n', 'latin1');
    }
    return sock.write(data);
  }

  /** The last body bytes, if any; the response is complete. */
  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.closed) return this;
    if (!this.headersSent) {
      // The whole body is known before the head went out: frame it with Content-Length.
      const len = chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      const s = this.statusCode;
      this.writeHead(s, s === 204 || s === 304 || s < 200 ? [] : ['content-length', String(len)]);
    }
    this.writableEnded = true;
    const sock = this.conn.socket;
    const data = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const done = () => this.conn.responseFinished(this);
    if (this.head && this.framing === Framing.Chunked && this.trailers) {
      // Trailers need the chunked framing even for a body known in full.
      this.conn.cork();
      sock.write(this.finishHead(), 'latin1');
      if (data && data.length) {
        sock.write(`${data.length.toString(16)}\r\n`, 'latin1');
        sock.write(data);
        sock.write('\r\n', 'latin1');
      }
      sock.write(`0\r\n${this.trailers}\r\n`, 'latin1', done);
      return this;
    }
    if (this.head) {
      if (this.framing === Framing.Chunked) {
        // The whole body is here before the head went out: Content-Length instead of chunks.
        this.framing = Framing.Length;
        this.head += `content-length: ${data ? data.length : 0}\r\n`;
      }
      const head = this.finishHead();
      if (this.noBody || !data || data.length === 0) {
        sock.write(head, 'latin1', done);
      } else if (data.length <= SMALL_BODY) {
        // One write for the common small response; latin1 maps bytes one to one.
        sock.write(head + data.toString('latin1'), 'latin1', done);
      } else {
        this.conn.cork();
        sock.write(head, 'latin1');
        sock.write(data, done);
      }
      return this;
    }
    if (this.framing === Framing.Chunked) {
      if (data && data.length && !this.noBody) {
        this.conn.cork();
        sock.write(`${data.length.toString(16)}\r\n`, 'latin1');
        sock.write(data);
        sock.write(`\r\n0\r\n${this.trailers}\r\n`, 'latin1', done);
      } else sock.write(`0\r\n${this.trailers}\r\n`, 'latin1', done);
    } else {
      if (data && data.length && !this.noBody) sock.write(data);
      // 'finish' once the last bytes are queued on the socket: a callback per write would cost an
      // extra (empty) write whenever the body went out before end().
      process.nextTick(done);
    }
    return this;
  }

  /** Trailers go in the last chunk of a chunked body; a Content-Length body cannot carry them. */
  addTrailers(trailers: Record<string, string>): void {
    for (const k of Object.keys(trailers)) this.trailers += `${k}: ${trailers[k]}\r\n`;
  }

  /** Abort the exchange: the connection is reset (Envoy resets a stream it cannot finish). */
  destroy(): this {
    this.conn.socket.destroy();
    return this;
  }

  /** @internal */
  _finished(): void {
    this.writableFinished = true;
    this.emit('finish');
    this._close();
  }

  /** @internal 'close' once, when finished or when the connection went away. */
  _close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

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
