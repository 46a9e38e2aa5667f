// The response side of an HTTP/1.1 exchange: framing, one write for head + small body, trailers.

import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Http1Connection } from './connection';
import type { Http1Request } from './request';

/** Bodies up to this size go out in one latin1 string write with the head. */
const SMALL_BODY = 16 * 1024;

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

