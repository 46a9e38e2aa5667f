// The traffic tools' part of the console API (/api/v1/traffic…), merged into the admin route
// table beside apiRoutes(). Types in ../admin/contract.ts.

import type { AdminRoute } from '../admin/routes';
import { HttpError, readJson, sendJson } from '../admin/api/http';
import { API_PREFIX } from '../admin/contract';
import type {
  ApiError,
  CaptureRequest,
  CaptureSessionView,
  ImportError,
  ImportRequest,
  ReplayComparison,
  ReplayRequest,
  ReplayRunDetail,
  ReplayRunResponse,
  TrafficOverview,
  TrafficSetResponse,
} from '../admin/contract';
import type { Engine } from '../server';
import { compareRuns, routeSummaries } from './compare';
import { HarError, toHar } from './har';
import { resultsAsExchanges } from './replay';
import { TrafficError, trafficFor } from './service';
import type { SessionInfo } from './capture';

/** A HAR upload may be large (bodies, base64). */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

function guarded(handle: AdminRoute['handle']): AdminRoute['handle'] {
  return async (r) => {
    try {
      await handle(r);
    } catch (e) {
      if (e instanceof HarError) sendJson(r.res, { error: e.message, entry: e.entry, field: e.field } satisfies ImportError, 422);
      else if (e instanceof HttpError || e instanceof TrafficError) sendJson(r.res, { error: e.message } satisfies ApiError, e.status);
      else throw e;
    }
  };
}

function sessionView(s: SessionInfo): CaptureSessionView {
  return {
    id: s.id,
    startedMs: s.startedMs,
    endedMs: s.endedMs,
    listeners: s.listeners,
    bodyCapBytes: s.bodyCapBytes,
    active: s.active,
    bytes: s.bytes,
    written: s.stats?.written,
    dropped: s.stats ? s.stats.droppedPending + s.stats.droppedRotated : undefined,
  };
}

function overview(engine: Engine): TrafficOverview {
  const t = trafficFor(engine);
  const capturing = new Set(t.capture.capturing);
  return {
    listeners: engine.boundListeners().map((l) => ({ name: l.name, address: l.address, capturing: capturing.has(l.name) })),
    bodyCapBytes: t.capture.bodyCapBytes,
    captureRoot: t.capture.root,
    sessions: t.capture.sessions().map(sessionView),
    sets: t.listSets(),
    runs: t.listRuns(),
  };
}

function sendHar(res: Parameters<AdminRoute['handle']>[0]['res'], har: unknown, name: string): void {
  const body = JSON.stringify(har, null, 1);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-disposition': `attachment; filename="${name.replace(/[^\w.-]/g, '_')}.har"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function param(url: URL, name: string): string {
  const v = url.searchParams.get(name);
  if (!v) throw new HttpError(400, `give ?${name}=`);
  return v;
}

export function trafficRoutes(): Map<string, AdminRoute> {
  const p = `${API_PREFIX}/traffic`;
  return new Map<string, AdminRoute>([
    [p, { method: 'GET', help: 'capture state, capture sessions, traffic sets and replay runs', handle: guarded(({ engine, res }) => sendJson(res, overview(engine))) }],
    [
      `${p}/capture`,
      {
        method: 'POST',
        help: 'switch capture on or off for a listener: {"listener", "enabled", "bodyCapBytes"?}',
        handle: guarded(async ({ engine, req, res }) => {
          const body = await readJson<CaptureRequest>(req);
          if (typeof body.listener !== 'string' || !engine.boundListeners().some((l) => l.name === body.listener)) throw new HttpError(400, `no listener '${String(body.listener)}'`);
          if (typeof body.enabled !== 'boolean') throw new HttpError(400, '"enabled" must be true or false');
          const t = trafficFor(engine);
          try {
            if (body.enabled) t.capture.enable(body.listener, body.bodyCapBytes);
            else await t.capture.disable(body.listener);
          } catch (e) {
            throw new HttpError(400, (e as Error).message);
          }
          sendJson(res, overview(engine));
        }),
      },
    ],
    [
      `${p}/import`,
      {
        method: 'POST',
        help: 'import a HAR file: {"har": TEXT, "name"?}',
        handle: guarded(async ({ engine, req, res }) => {
          const body = await readJson<ImportRequest>(req, { maxBytes: MAX_IMPORT_BYTES });
          if (typeof body.har !== 'string') throw new HttpError(400, '"har" must be the HAR file\'s text');
          const set = trafficFor(engine).importHar(body.har, typeof body.name === 'string' && body.name ? body.name : 'imported.har');
          sendJson(res, { set: set.view } satisfies TrafficSetResponse);
        }),
      },
    ],
    [
      `${p}/from-capture`,
      {
        method: 'POST',
        help: 'make a capture session replayable: {"session": ID}',
        handle: guarded(async ({ engine, req, res }) => {
          const body = await readJson<{ session?: unknown }>(req);
          if (typeof body.session !== 'string') throw new HttpError(400, '"session" must be a capture session id');
          const set = await trafficFor(engine).fromCapture(body.session);
          sendJson(res, { set: set.view } satisfies TrafficSetResponse);
        }),
      },
    ],
    [
      `${p}/export`,
      {
        method: 'GET',
        help: 'HAR 1.2 of a capture session, traffic set or replay run: ?session= | ?set= | ?run=',
        handle: guarded(async ({ engine, res, url }) => {
          const t = trafficFor(engine);
          const q = url.searchParams;
          if (q.get('session')) {
            const id = q.get('session')!;
            let read;
            try {
              read = await t.capture.read(id);
            } catch (e) {
              throw new HttpError(404, (e as Error).message);
            }
            sendHar(res, toHar(read.exchanges, { comment: `Meshdeck capture ${id}${read.torn ? ' (a cut-short last record was skipped)' : ''}` }), id);
          } else if (q.get('set')) {
            const s = t.getSet(q.get('set')!);
            sendHar(res, toHar(s.exchanges, { comment: `Meshdeck traffic set ${s.view.name}` }), s.view.name.replace(/\.har$/, ''));
          } else if (q.get('run')) {
            const r = t.getRun(q.get('run')!);
            sendHar(res, toHar(resultsAsExchanges(r.results), { comment: `Meshdeck replay ${r.view.label}` }), r.view.id);
          } else throw new HttpError(400, 'give ?session=, ?set= or ?run=');
        }),
      },
    ],
    [
      `${p}/replay`,
      {
        method: 'POST',
        help: 'replay a traffic set: {"set", "target"?, "mode"?: recorded|rate|asap, "speed"?, "rate"?, "concurrency"?, "loop"?, "filter"?, "host"?, "dropHeaders"?, "setHeaders"?}',
        handle: guarded(async ({ engine, req, res }) => {
          const body = await readJson<ReplayRequest>(req);
          const run = trafficFor(engine).replay(body);
          sendJson(res, { run: run.view } satisfies ReplayRunResponse);
        }),
      },
    ],
    [
      `${p}/run`,
      {
        method: 'GET',
        help: 'a replay run with per-route figures and its results: ?id=&offset=&limit=',
        handle: guarded(({ engine, res, url }) => {
          const run = trafficFor(engine).getRun(param(url, 'id'));
          const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
          const limit = Math.min(5000, Math.max(1, Number(url.searchParams.get('limit') ?? 500) || 500));
          const sorted = [...run.results].sort((a, b) => a.seq - b.seq);
          const detail: ReplayRunDetail = {
            run: run.view,
            routes: routeSummaries(run.results),
            // Views only: the bodies and the exchange stay in the engine.
            results: sorted.slice(offset, offset + limit).map(({ responseHeaders: _h, responseBody: _b, exchange: _x, requestId: _r, startedMs: _s, ...v }) => v),
            total: sorted.length,
          };
          sendJson(res, detail);
        }),
      },
    ],
    [
      `${p}/cancel`,
      {
        method: 'POST',
        help: 'stop a replay run: {"id"}',
        handle: guarded(async ({ engine, req, res }) => {
          const body = await readJson<{ id?: unknown }>(req);
          if (typeof body.id !== 'string') throw new HttpError(400, '"id" must be a run id');
          const run = await trafficFor(engine).cancel(body.id);
          sendJson(res, { run: run.view } satisfies ReplayRunResponse);
        }),
      },
    ],
    [
      `${p}/compare`,
      {
        method: 'GET',
        help: 'two replays of the same traffic side by side: ?a=RUN&b=RUN',
        handle: guarded(({ engine, res, url }) => {
          const t = trafficFor(engine);
          const a = t.getRun(param(url, 'a'));
          const b = t.getRun(param(url, 'b'));
          if (a.view.set !== b.view.set) throw new HttpError(400, `runs ${a.view.id} and ${b.view.id} replayed different traffic sets`);
          sendJson(res, compareRuns(a.view, a.results, b.view, b.results) satisfies ReplayComparison);
        }),
      },
    ],
  ]);
}
