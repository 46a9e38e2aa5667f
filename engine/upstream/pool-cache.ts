// Keep-alive connection pools per upstream host, shared across config snapshots: a reload that
// keeps a host keeps its warm connections. A pool no snapshot references any more is closed
// gracefully (in-flight requests finish first). A cluster's TLS context and protocol are part of
// the pool's identity: https pools carry the UpstreamTlsContext's connect options, HTTP/2 pools
// speak h2 by ALPN over TLS and h2c (prior knowledge) in plain text.

import { buildConnector, Pool } from 'undici';
import type { Cluster, UpstreamTlsContext } from '../config/model';
import type { UpstreamPool } from './http1/handler';
import { Http1Pool } from './http1/pool';
import { upstreamTlsOptions } from './tls';

/** Idle upstream connections are kept this long unless the server's Keep-Alive hint says less. */
const KEEP_ALIVE_MS = 60_000;

export interface PoolOptions {
  connectTimeoutMs: number;
  maxConnections: number;
  /** Default HTTP1. */
  protocol?: Cluster['upstreamProtocol'];
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS we allow ourselves per connection (0 = 100). */
  maxConcurrentStreams?: number;
  tls?: UpstreamTlsContext;
  /** Names the cluster in errors about its TLS files. */
  where?: string;
}

interface Entry {
  pool: UpstreamPool;
  refs: number;
}

export class PoolCache {
  private readonly entries = new Map<string, Entry>();

  private static key(address: string, port: number, o: PoolOptions): string {
    const base = `${address}:${port}|${o.connectTimeoutMs}|${o.maxConnections}`;
    if (!o.tls && (o.protocol ?? 'HTTP1') === 'HTTP1') return base;
    return `${base}|${o.protocol}|${o.maxConcurrentStreams ?? 0}|${o.tls ? JSON.stringify(o.tls) : ''}`;
  }

  acquire(address: string, port: number, o: PoolOptions): UpstreamPool {
    const key = PoolCache.key(address, port, o);
    let e = this.entries.get(key);
    if (!e) {
      const pool = PoolCache.create(address, port, o);
      // An idle pool's socket errors must never become unhandled 'error' events.
      pool.on('connectionError', () => {});
      e = { pool, refs: 0 };
      this.entries.set(key, e);
    }
    e.refs++;
    return e.pool;
  }

  /** Plain-text HTTP/1.1 runs on Meshdeck's own pool; TLS and HTTP/2 on undici's. */
  private static create(address: string, port: number, o: PoolOptions): UpstreamPool {
    const protocol = o.protocol ?? 'HTTP1';
    if (!o.tls && protocol !== 'HTTP2') {
      return new Http1Pool({ address, port, connections: o.maxConnections, connectTimeoutMs: o.connectTimeoutMs, keepAliveMs: KEEP_ALIVE_MS });
    }
    const host = address.includes(':') ? `[${address}]` : address;
    // DOWNSTREAM (use_downstream_protocol_config) is run like AUTO: ALPN decides over TLS.
    const h2 = protocol === 'HTTP2' || (o.tls !== undefined && (protocol === 'AUTO' || protocol === 'DOWNSTREAM'));
    const streams = o.maxConcurrentStreams || 100;
    const pool = new Pool(`${o.tls ? 'https' : 'http'}://${host}:${port}`, {
      connections: o.maxConnections,
      connectTimeout: o.connectTimeoutMs,
      // The router enforces route and per-try timeouts itself; undici must not cut in first.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: 600_000,
      // HTTP/1.1 is never pipelined; an h2 connection carries up to `streams` requests at once.
      pipelining: protocol === 'HTTP2' ? streams : 1,
      ...(h2 ? { allowH2: true, maxConcurrentStreams: streams } : {}),
      // h2c: Pool builds its connector without useH2c, so it gets one that has it.
      ...(protocol === 'HTTP2' && !o.tls ? { connect: buildConnector({ useH2c: true, allowH2: true, timeout: o.connectTimeoutMs } as buildConnector.BuildOptions) } : {}),
      ...(o.tls ? { connect: upstreamTlsOptions(o.tls, o.where ?? `${address}:${port}`) } : {}),
    });
    // undici's Pool speaks the same dispatch-handler contract (engine/upstream/http1/handler.ts).
    return pool as unknown as UpstreamPool;
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
