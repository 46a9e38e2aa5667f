// Keep-alive connection pools per upstream host, shared across config snapshots: a reload that
// keeps a host keeps its warm connections. A pool no snapshot references any more is closed
// gracefully (in-flight requests finish first).

import { Pool } from 'undici';

export interface PoolOptions {
  connectTimeoutMs: number;
  maxConnections: number;
}

interface Entry {
  pool: Pool;
  refs: number;
}

export class PoolCache {
  private readonly entries = new Map<string, Entry>();

  private static key(address: string, port: number, o: PoolOptions): string {
    return `${address}:${port}|${o.connectTimeoutMs}|${o.maxConnections}`;
  }

  acquire(address: string, port: number, o: PoolOptions): Pool {
    const key = PoolCache.key(address, port, o);
    let e = this.entries.get(key);
    if (!e) {
      const host = address.includes(':') ? `[${address}]` : address;
      const pool = new Pool(`http://${host}:${port}`, {
        connections: o.maxConnections,
        connectTimeout: o.connectTimeoutMs,
        // The router enforces route and per-try timeouts itself; undici must not cut in first.
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
        pipelining: 1,
      });
      // An idle pool's socket errors must never become unhandled 'error' events.
      pool.on('connectionError', () => {});
      e = { pool, refs: 0 };
      this.entries.set(key, e);
    }
    e.refs++;
    return e.pool;
  }

  release(address: string, port: number, o: PoolOptions): void {
    const key = PoolCache.key(address, port, o);
    const e = this.entries.get(key);
    if (!e) return;
    if (--e.refs <= 0) {
      this.entries.delete(key);
      e.pool.close().catch(() => {});
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.pool.close().catch(() => {})));
  }

  async destroyAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => {})));
  }

  get size(): number {
    return this.entries.size;
  }
}
