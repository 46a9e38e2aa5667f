// Meshdeck's keep-alive pool of HTTP/1.1 connections to one upstream host, on the same llhttp
// codec as the downstream side. Why not undici here: undici's per-request machinery (Request
// objects, its wasm parser's callbacks, a generic dispatcher chain) cost about a fifth of the
// engine's CPU per proxied request, and plain-text HTTP/1.1 is what local payment stacks and
// every benchmark run. undici still carries TLS and HTTP/2 upstreams (pool-cache.ts).
//
// As Envoy's HTTP/1 pool: one request per connection at a time, up to `connections`
// connections (max_connections), then requests wait in order for one to come free. Idle
// connections are reused newest first and dropped when the server's Keep-Alive hint, or ours,
// says they are too old.

import { EventEmitter } from 'node:events';
import { Exchange, UpstreamConnection, type ConnectionOwner } from './connection';
import type { UpstreamDispatch, UpstreamHandler, UpstreamPool } from './handler';

export interface Http1PoolOptions {
  address: string;
  port: number;
  /** max_connections; 0 = no limit. */
  connections: number;
  connectTimeoutMs: number;
  /** How long an idle connection is kept without a hint from the server. */
  keepAliveMs: number;
}

export class Http1Pool extends EventEmitter implements UpstreamPool, ConnectionOwner {
  readonly hostHeader: string;
  connectTimeoutMs: number;
  private readonly all = new Set<UpstreamConnection>();
  /** Idle connections, newest last. */
  private readonly free: UpstreamConnection[] = [];
  /** Requests waiting for a connection, in arrival order. */
  private readonly queue: Exchange[] = [];
  private connectedCount = 0;
  private closing = false;
  private destroyed = false;
  private closeWaiters: Array<() => void> = [];
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: Http1PoolOptions) {
    super();
    this.connectTimeoutMs = o.connectTimeoutMs;
    this.hostHeader = `${o.address.includes(':') ? `[${o.address}]` : o.address}:${o.port}`;
  }

  get stats(): { connected: number; free: number; pending: number; size: number } {
    return { connected: this.connectedCount, free: this.free.length, pending: this.queue.length, size: this.all.size };
  }

  dispatch(opts: UpstreamDispatch, handler: UpstreamHandler): boolean {
    if (this.closing || this.destroyed) throw Object.assign(new Error('the upstream connection pool is closed'), { code: 'UND_ERR_CLOSED' });
    this.send(new Exchange(opts, handler), false);
    return true;
  }

  private send(ex: Exchange, fresh: boolean): void {
    if (!fresh) {
      const c = this.takeFree();
      if (c) return c.assign(ex);
    }
    if (fresh || this.o.connections <= 0 || this.all.size < this.o.connections) this.open(ex);
    else this.queue.push(ex);
  }

  private takeFree(): UpstreamConnection | undefined {
    const now = performance.now();
    while (this.free.length) {
      const c = this.free.pop()!;
      if (now - c.idleSince < c.keepAliveMs && !c.socket.destroyed) return c;
      c.socket.destroy(); // too old to trust: its 'close' removes it
    }
    return undefined;
  }

  private open(ex: Exchange): void {
    this.all.add(new UpstreamConnection(this, this.o.address, this.o.port, this.o.keepAliveMs, ex));
  }

  released(c: UpstreamConnection): void {
    const next = this.queue.shift();
    if (next) return c.assign(next);
    if (this.closing || this.destroyed) {
      c.socket.destroy();
      return;
    }
    c.idleSince = performance.now();
    this.free.push(c);
    this.sweepTimer ??= setInterval(() => this.sweep(), 1000).unref();
  }

  closed(c: UpstreamConnection, retry: Exchange | null): void {
    this.all.delete(c);
    const i = this.free.indexOf(c);
    if (i >= 0) this.free.splice(i, 1);
    if (c.isConnected) {
      this.connectedCount--;
      this.emit('disconnect');
    }
    if (retry) {
      retry.resent = true;
      if (this.destroyed) retry.fail(Object.assign(new Error('upstream connection pool destroyed'), { code: 'UND_ERR_DESTROYED' }));
      else this.send(retry, true);
    }
    // A connection slot opened: start one for the oldest waiting request.
    while (this.queue.length && (this.o.connections <= 0 || this.all.size < this.o.connections)) this.open(this.queue.shift()!);
    this.checkClosed();
  }

  connected(): void {
    this.connectedCount++;
    this.emit('connect');
  }

  connectFailed(err: Error): void {
    this.emit('connectionError', err);
  }

  /** Drop idle connections past their keep-alive window, so none is held open for nothing. */
  private sweep(): void {
    const now = performance.now();
    for (const c of [...this.free]) if (now - c.idleSince >= c.keepAliveMs) c.socket.destroy();
    if (this.free.length === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  close(): Promise<void> {
    this.closing = true;
    for (const c of this.free.splice(0)) c.socket.destroy();
    return this.whenEmpty();
  }

  destroy(): Promise<void> {
    this.closing = this.destroyed = true;
    const err = Object.assign(new Error('upstream connection pool destroyed'), { code: 'UND_ERR_DESTROYED' });
    for (const ex of this.queue.splice(0)) ex.fail(err);
    for (const c of this.all) c.socket.destroy(err);
    return this.whenEmpty();
  }

  private whenEmpty(): Promise<void> {
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.checkClosed();
    });
  }

  private checkClosed(): void {
    if (!this.closing || this.all.size || this.queue.length) return;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const w of this.closeWaiters.splice(0)) w();
  }
}
