// Shared pieces of the resilience tests: upstreams with a switchable /healthz, a cleanup list,
// and polling for a condition on real time.

import { after } from 'node:test';
import { startUpstream, type Upstream } from '../../helpers/upstream';
import { startEngine, type RunningEngine } from '../../helpers/engine';
import type { StreamInfo } from '../../../engine/observe/stream-info';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

export interface CheckedUpstream extends Upstream {
  /** What GET /healthz answers (default 200); 'hang' = never answers. */
  hc: number | 'hang';
  hcHits: number;
}

/** Upstreams whose /healthz answers `hc` and every other path 200 with their name (or as `behaviour` says). */
export async function checkedUpstreams(names: string[]): Promise<CheckedUpstream[]> {
  const out: CheckedUpstream[] = [];
  for (const n of names) {
    const u = (await startUpstream(n)) as CheckedUpstream;
    u.hc = 200;
    u.hcHits = 0;
    u.handler = (req, res) => {
      if (req.url !== '/healthz') return false;
      u.hits--; // health checks are not traffic
      u.hcHits++;
      if (u.hc === 'hang') return true;
      res.writeHead(u.hc, { 'content-length': 0 });
      res.end();
      return true;
    };
    out.push(u);
  }
  cleanups.push(async () => void (await Promise.all(out.map((u) => u.close()))));
  return out;
}

export async function engineFor(yaml: string, log?: StreamInfo[]): Promise<RunningEngine> {
  const e = await startEngine(yaml, { accessLog: log ? (i) => log.push({ ...i }) : undefined });
  cleanups.push(() => e.stop());
  return e;
}

export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Resolves with the elapsed ms once `cond()` holds; rejects after `maxMs`. */
export async function waitFor(cond: () => boolean, maxMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (cond()) return performance.now() - t0;
    if (performance.now() - t0 > maxMs) throw new Error(`timed out after ${maxMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
