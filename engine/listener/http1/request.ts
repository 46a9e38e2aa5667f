// The request side of an HTTP/1.1 exchange (see connection.ts).

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Http1Connection, Http1Headers } from './connection';

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

