// Shared by the admin tests: an engine in front of real upstreams with mixed traffic (2xx, 5xx,
// 404, route timeouts, connection failures), and admin requests with the token.

import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { bootstrap, startEngine, staticCluster, type RunningEngine } from '../../helpers/engine';
import { startUpstream, type Upstream } from '../../helpers/upstream';
import { get, hammer, type Reply } from '../../helpers/client';
import type { StreamInfo } from '../../../engine/observe/stream-info';

export const TOKEN = 'test-token';

export interface MixedSetup {
  e: RunningEngine;
  ok: Upstream;
  bad: Upstream;
  slow: Upstream;
  deadPort: number;
  /** Every finished request's facts, copied (the access-log tap). */
  log: StreamInfo[];
  stop(): Promise<void>;
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** payments (one host answering 200, one 503), slow (route timeout 50 ms), dead (connection refused). */
export async function mixedEngine(extraClusters = ''): Promise<MixedSetup> {
  const ok = await startUpstream('ok');
  const bad = await startUpstream('bad', { status: 503 });
  const slow = await startUpstream('slow', { delayMs: 400 });
  const deadPort = await closedPort();
  const log: StreamInfo[] = [];
  const e = await startEngine(
    bootstrap({
      routes: [
        '- match: { prefix: "/pay" }',
        '  route: { cluster: payments }',
        '- match: { prefix: "/slow" }',
        '  route: { cluster: slow, timeout: 0.05s }',
        '- match: { prefix: "/dead" }',
        '  route: { cluster: dead }',
      ].join('\n'),
      clusters: staticCluster('payments', [{ port: ok.port }, { port: bad.port }]) + staticCluster('slow', [{ port: slow.port }]) + staticCluster('dead', [{ port: deadPort }]) + extraClusters,
    }),
    { accessLog: (i) => log.push({ ...i }) },
  );
  return {
    e,
    ok,
    bad,
    slow,
    deadPort,
    log,
    stop: async () => {
      await e.stop();
      await Promise.all([ok.close(), bad.close(), slow.close()]);
    },
  };
}

/** The mixed traffic: n requests, 1 in 10 without a route (404), 1 in 10 timing out, 1 in 20 to a dead host, the rest split 200/503. */
export function mixedTraffic(e: RunningEngine, n: number, concurrency = 8): Promise<Reply[]> {
  return hammer(e.url(), n, concurrency, (i) => ({ path: i % 10 === 3 ? '/nowhere' : i % 10 === 7 ? '/slow' : i % 20 === 5 ? '/dead' : '/pay' }));
}

/** GET (or POST) an admin path with the token. */
export function admin(e: RunningEngine, path: string, method: 'GET' | 'POST' = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return get(e.engine.adminUrl + path, { authorization: `Bearer ${TOKEN}`, ...headers }, method);
}

/** A raw request with full control of Host and Origin (undici would set Host itself). */
export function rawAdmin(e: RunningEngine, path: string, opts: { method?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  const u = new URL(e.engine.adminUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: Number(u.port), path, method: opts.method ?? 'GET', headers: opts.headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The exact nearest-rank quantile of sorted samples: the ⌈q·N⌉-th smallest (the smallest for q = 0). */
export function exactQuantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length - 1e-9));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** |a - b| within 1% of b (and within 2 µs, the recording resolution, for tiny values). */
export function within1pct(actual: number, exact: number): boolean {
  return Math.abs(actual - exact) <= Math.max(0.01 * Math.abs(exact), 0.002);
}
