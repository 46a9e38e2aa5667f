// The simulation's part of the console API (/api/v1/sim…), merged into the admin route table
// beside apiRoutes(). Types in ../admin/contract.ts.

import type { IncomingMessage } from 'node:http';
import type { AdminRoute } from '../admin/routes';
import { sendJson, HttpError, readJson as readBody } from '../admin/api/http';
import { API_PREFIX } from '../admin/contract';
import type { ApiError, SimIncidentRequest, SimListResponse, SimRateRequest, SimRunRequest, SimRunResponse, SimStartRequest, SimStartResponse } from '../admin/contract';
import { loadScenario } from './scenario';
import { scenarioJsonSchema } from './scenario-schema';
import { SimError, simManagerFor, type SimRun } from './manager';

const MAX_BODY = 1024 * 1024;
const readJson = <T>(req: IncomingMessage) => readBody<T>(req, { maxBytes: MAX_BODY, emptyAsObject: true });

function optionalId(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, '"id" must be a string');
  return v;
}

function guarded(handle: AdminRoute['handle']): AdminRoute['handle'] {
  return async (r) => {
    try {
      await handle(r);
    } catch (e) {
      if (e instanceof HttpError || e instanceof SimError) sendJson(r.res, { error: e.message } satisfies ApiError, e.status);
      else throw e;
    }
  };
}

async function runResponse(run: SimRun): Promise<SimRunResponse> {
  return { run: await run.view() };
}

export function simRoutes(): Map<string, AdminRoute> {
  const p = `${API_PREFIX}/sim`;
  const action = (help: string, act: (body: SimRunRequest & Record<string, unknown>, r: Parameters<AdminRoute['handle']>[0]) => Promise<SimRun>): AdminRoute => ({
    method: 'POST',
    help,
    handle: guarded(async (r) => {
      const body = await readJson<SimRunRequest & Record<string, unknown>>(r.req);
      const run = await act(body, r);
      sendJson(r.res, await runResponse(run));
    }),
  });
  return new Map<string, AdminRoute>([
    [
      p,
      {
        method: 'GET',
        help: 'simulation runs (mocks, incidents, load): state and live figures',
        handle: guarded(async ({ engine, res }) => {
          const runs = await Promise.all(simManagerFor(engine).list().map((x) => x.view()));
          sendJson(res, { runs } satisfies SimListResponse);
        }),
      },
    ],
    [
      `${p}/schema`,
      {
        method: 'GET',
        help: 'the JSON Schema of scenario files',
        handle: guarded(({ res }) => sendJson(res, scenarioJsonSchema())),
      },
    ],
    [
      `${p}/start`,
      {
        method: 'POST',
        help: 'start a scenario: {"yaml": "…"} or a stopped run again: {"id": "sim-1"}',
        handle: guarded(async ({ engine, req, res }) => {
          const body = await readJson<SimStartRequest>(req);
          const manager = simManagerFor(engine);
          let result;
          if (body.yaml !== undefined) {
            if (typeof body.yaml !== 'string') throw new HttpError(400, '"yaml" must be a string');
            const sourceName = typeof body.sourceName === 'string' ? body.sourceName : 'scenario.yaml';
            result = await manager.start(loadScenario(body.yaml, { sourceName, baseDir: process.cwd() }));
          } else if (body.id !== undefined) {
            result = await manager.restart(optionalId(body.id)!);
          } else throw new HttpError(400, 'give "yaml" (a scenario) or "id" (a stopped run)');
          const answer: SimStartResponse = {
            ok: result.ok,
            run: result.run ? await result.run.view() : undefined,
            // A problem in the Envoy config names that file in its message.
            diagnostics: result.problems.map((x) => (x.source === (result.run?.scenario.sourceName ?? x.source) || x.source === 'scenario' ? x.diagnostic : { ...x.diagnostic, message: `${x.source}: ${x.diagnostic.message}` })),
          };
          sendJson(res, answer, result.ok ? 200 : 422);
        }),
      },
    ],
    [`${p}/stop`, action('stop a run: {"id"}', (b, { engine }) => simManagerFor(engine).stop(optionalId(b.id)))],
    [`${p}/pause`, action('pause a run (load and timeline): {"id"}', (b, { engine }) => simManagerFor(engine).pause(optionalId(b.id)))],
    [`${p}/resume`, action('resume a paused run: {"id"}', (b, { engine }) => simManagerFor(engine).resume(optionalId(b.id)))],
    [
      `${p}/rate`,
      action('set the load rate: {"id", "rate": req/s}', (b, { engine }) => {
        const rate = (b as unknown as SimRateRequest).rate;
        if (typeof rate !== 'number') throw new HttpError(400, '"rate" must be a number');
        return simManagerFor(engine).setRate(rate, optionalId(b.id));
      }),
    ],
    [
      `${p}/incident`,
      action('trigger an incident now: {"id", "incident": NAME} or {"id", "service", "instance", "type", "duration", …}', (b, { engine }) => {
        optionalId(b.id);
        return simManagerFor(engine).trigger(b as unknown as SimIncidentRequest);
      }),
    ],
  ]);
}
