// The console API (/api/v1). Types in ../contract.ts; every handler answers JSON.

import type { ServerResponse } from 'node:http';
import { loadConfig } from '../../config/load';
import { editWeights, EditError } from '../../config/edit';
import { envoyJsonSchemaETag, envoyJsonSchemaText } from '../../config/json-schema';
import { compileLogFilter, filterFromQuery } from '../../observe/log-ring';
import type { AdminRoute } from '../routes';
import type {
  AccessLogPage,
  ApiError,
  ApplyRequest,
  ApplyResponse,
  ClustersResponse,
  ClusterView,
  ConfigResponse,
  HostView,
  TimeSeriesResponse,
  ValidateRequest,
  ValidateResponse,
  WeightsRequest,
} from '../contract';
import { API_PREFIX } from '../contract';
import { RETENTION_SECONDS } from '../../observe/timeseries';
import type { Engine } from '../../server';
import { streamEvents } from './events';
import { securityRoutes } from './security';
import { HttpError, readJson, sendJson } from './http';
import { hostHealth } from './health';

function requireString(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new HttpError(400, `'${name}' must be a string`);
  return v;
}

function guarded(handle: AdminRoute['handle']): AdminRoute['handle'] {
  return async (r) => {
    try {
      await handle(r);
    } catch (e) {
      if (e instanceof HttpError) sendJson(r.res, { error: e.message } satisfies ApiError, e.status);
      else if (e instanceof EditError) sendJson(r.res, { error: e.message } satisfies ApiError, 422);
      else throw e;
    }
  };
}

async function applyText(engine: Engine, yaml: string, baseVersion: number | undefined, res: ServerResponse): Promise<void> {
  const snap = engine.snapshot;
  if (baseVersion !== undefined && snap && baseVersion !== snap.version) {
    throw new HttpError(409, `the running config is version ${snap.version}, not ${baseVersion}: reload it and apply again`);
  }
  const r = await engine.apply(yaml, snap?.sourceName ?? 'console');
  const body: ApplyResponse = { ok: r.ok, version: r.version, diagnostics: r.diagnostics, yaml: engine.snapshot?.text ?? '' };
  sendJson(res, body, r.ok ? 200 : 422);
}

function clustersView(engine: Engine, windowSeconds: number): ClustersResponse {
  const snap = engine.snapshot;
  const series = engine.observer.series;
  const clusters: ClusterView[] = [];
  for (const c of snap?.clusters.values() ?? []) {
    const cw = series.window(c.name, undefined, windowSeconds);
    // Expected share: weight over the healthy weight of the host's priority (Envoy balances
    // within a priority; spill-over to lower priorities shows up in the observed share).
    const healthyWeight = new Map<number, number>();
    for (const h of c.hosts) if (h.healthy) healthyWeight.set(h.priority, (healthyWeight.get(h.priority) ?? 0) + h.weight);
    const hosts: HostView[] = c.hosts.map((h) => {
      const hw = series.window(c.name, h.key, windowSeconds);
      const total = healthyWeight.get(h.priority) ?? 0;
      return {
        address: h.key,
        weight: h.weight,
        priority: h.priority,
        locality: h.locality,
        healthy: h.healthy,
        expectedShare: h.healthy && total > 0 ? h.weight / total : 0,
        observedShare: cw.count > 0 ? hw.count / cw.count : 0,
        requestsInWindow: hw.count,
        inFlight: h.activeRequests,
        latencyMs: hw.latency,
      };
    });
    clusters.push({
      name: c.name,
      lbPolicy: c.config.lbPolicy,
      type: c.config.type,
      hosts,
      requestsInWindow: cw.count,
      errorsInWindow: cw.errors,
      latencyMs: cw.latency,
    });
  }
  return { windowSeconds, clusters };
}

export function apiRoutes(): Map<string, AdminRoute> {
  const p = API_PREFIX;
  return new Map<string, AdminRoute>([
    [
      `${p}/config`,
      {
        method: 'GET',
        handle: guarded(({ engine, res }) => {
          const s = engine.snapshot;
          const body: ConfigResponse = { version: s?.version ?? 0, yaml: s?.text ?? '', sourceName: s?.sourceName ?? '', warnings: s?.warnings ?? [] };
          sendJson(res, body);
        }),
      },
    ],
    [
      `${p}/config/schema`,
      {
        method: 'GET',
        // The editor's JSON Schema (config/json-schema.ts): built once per process, revalidated by ETag.
        handle: guarded(({ req, res }) => {
          const etag = envoyJsonSchemaETag();
          const headers = { etag, 'cache-control': 'private, no-cache', 'x-content-type-options': 'nosniff' };
          if (req.headers['if-none-match'] === etag) {
            res.writeHead(304, headers);
            res.end();
            return;
          }
          const body = envoyJsonSchemaText();
          res.writeHead(200, { ...headers, 'content-type': 'application/schema+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        }),
      },
    ],
    [
      `${p}/config/validate`,
      {
        method: 'POST',
        handle: guarded(async ({ req, res, engine }) => {
          const body = await readJson<ValidateRequest>(req);
          const r = await loadConfig(requireString(body.yaml, 'yaml'), { sourceName: engine.snapshot?.sourceName ?? 'console' });
          sendJson(res, { ok: r.ok, diagnostics: r.diagnostics } satisfies ValidateResponse);
        }),
      },
    ],
    [
      `${p}/config/apply`,
      {
        method: 'POST',
        handle: guarded(async ({ req, res, engine }) => {
          const body = await readJson<ApplyRequest>(req);
          await applyText(engine, requireString(body.yaml, 'yaml'), body.baseVersion, res);
        }),
      },
    ],
    [
      `${p}/weights`,
      {
        method: 'POST',
        handle: guarded(async ({ req, res, engine }) => {
          const body = await readJson<WeightsRequest>(req);
          if (!Array.isArray(body.edits) || body.edits.length === 0) throw new HttpError(400, "'edits' must be a non-empty list");
          const text = engine.snapshot?.text ?? '';
          await applyText(engine, editWeights(text, body.edits), body.baseVersion, res);
        }),
      },
    ],
    [
      `${p}/clusters`,
      {
        method: 'GET',
        handle: guarded(({ engine, res, url }) => {
          const w = Number(url.searchParams.get('window') ?? 10);
          if (!Number.isFinite(w) || w < 1 || w > 60) throw new HttpError(400, 'window must be 1 to 60 seconds');
          sendJson(res, clustersView(engine, Math.floor(w)));
        }),
      },
    ],
    [
      `${p}/timeseries`,
      {
        method: 'GET',
        handle: guarded(({ engine, res, url }) => {
          const since = Number(url.searchParams.get('since') ?? 0);
          const cluster = url.searchParams.get('cluster') ?? undefined;
          const body: TimeSeriesResponse = { retentionSeconds: RETENTION_SECONDS, series: engine.observer.series.series(Number.isFinite(since) ? since : 0, cluster) };
          sendJson(res, body);
        }),
      },
    ],
    [
      `${p}/health`,
      // Host health and its recent history (engine/admin/api/health.ts).
      { method: 'GET', handle: guarded(({ engine, res }) => sendJson(res, hostHealth(engine))) },
    ],
    [
      `${p}/logs`,
      {
        method: 'GET',
        handle: guarded(({ engine, res, url }) => {
          const q = url.searchParams;
          const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 200) || 200));
          const cursorText = q.get('cursor');
          const cursor = cursorText === null || cursorText === '' ? undefined : Number(cursorText);
          if (cursor !== undefined && !Number.isInteger(cursor)) throw new HttpError(400, 'cursor must be an entry id');
          const ring = engine.observer.ring;
          const page = ring.page(compileLogFilter(filterFromQuery(q)), cursor, limit);
          sendJson(res, { ...page, evicted: ring.evicted } satisfies AccessLogPage);
        }),
      },
    ],
    [`${p}/events`, { method: 'GET', handle: ({ engine, req, res, url }) => streamEvents(engine, req, res, url) }],
    ...securityRoutes(),
  ]);
}
