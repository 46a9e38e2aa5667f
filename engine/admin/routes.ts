// Admin endpoints by path. Envoy's own formats where Envoy has the endpoint.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../server';

export interface AdminRequest {
  engine: Engine;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export interface AdminRoute {
  method: 'GET' | 'POST';
  handle(r: AdminRequest): void | Promise<void>;
}

function text(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function json(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(value, null, 2));
}

const started = Date.now();

export function adminRoutes(): Map<string, AdminRoute> {
  return new Map<string, AdminRoute>([
    ['/ready', { method: 'GET', handle: ({ res, engine }) => (engine.healthCheckFailed ? text(res, 'DRAINING\n', 503) : text(res, 'LIVE\n')) }],
    [
      '/server_info',
      {
        method: 'GET',
        handle: ({ res, engine }) =>
          json(res, {
            version: 'meshdeck/0.1.0',
            state: engine.healthCheckFailed ? 'DRAINING' : 'LIVE',
            uptime_current_epoch: `${Math.floor((Date.now() - started) / 1000)}s`,
            config_version: engine.snapshot?.version ?? 0,
          }),
      },
    ],
    [
      '/stats',
      {
        method: 'GET',
        handle: ({ res, engine, url }) => {
          const filter = url.searchParams.get('filter');
          const re = filter ? new RegExp(filter) : undefined;
          const used = url.searchParams.has('usedonly');
          const rows = engine.stats.snapshot().filter(([n, v]) => (!re || re.test(n)) && (!used || v !== 0));
          if (url.searchParams.get('format') === 'json') json(res, { stats: rows.map(([name, value]) => ({ name, value })) });
          else text(res, rows.map(([n, v]) => `${n}: ${v}\n`).join(''));
        },
      },
    ],
    [
      '/clusters',
      {
        method: 'GET',
        handle: ({ res, engine }) => {
          const lines: string[] = [];
          for (const c of engine.snapshot?.clusters.values() ?? []) {
            for (const h of c.hosts) {
              const p = `${c.name}::${h.key}::`;
              lines.push(`${p}rq_active::${h.activeRequests}`, `${p}weight::${h.weight}`, `${p}health_flags::${h.healthy ? 'healthy' : '/failed_active_hc'}`, `${p}priority::${h.priority}`);
            }
          }
          text(res, lines.map((l) => `${l}\n`).join(''));
        },
      },
    ],
    ['/healthcheck/fail', { method: 'POST', handle: ({ res, engine }) => ((engine.healthCheckFailed = true), text(res, 'OK\n')) }],
    ['/healthcheck/ok', { method: 'POST', handle: ({ res, engine }) => ((engine.healthCheckFailed = false), text(res, 'OK\n')) }],
  ]);
}
