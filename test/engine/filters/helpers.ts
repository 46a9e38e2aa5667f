// Engines for the HTTP filter tests: one listener whose connection manager runs the given
// http_filters (YAML list, router appended) in front of a real upstream.

import { after } from 'node:test';
import { bootstrap, staticCluster, startEngine, type RunningEngine } from '../../helpers/engine';
import { startUpstream, type Upstream } from '../../helpers/upstream';
import type { StreamInfo } from '../../../engine/observe/stream-info';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export async function upstream(name = 'app'): Promise<Upstream> {
  const u = await startUpstream(name, {}, { record: true });
  cleanups.push(() => u.close());
  return u;
}

export interface FilterConfig {
  /** http_filters entries before the router, as a YAML list. */
  filters: string;
  /** Routes of the single virtual host (YAML list); default: everything to the upstream. */
  routes?: string;
  port: number;
  hcmExtra?: string;
  /** The listener's filter chain `transport_socket` and anything else on the chain (YAML). */
  chainExtra?: string;
}

export function filterYaml(c: FilterConfig): string {
  return bootstrap({
    routes: c.routes ?? `- match: { prefix: "/" }\n  route: { cluster: app }`,
    clusters: staticCluster('app', [{ port: c.port }]),
    hcmExtra: c.hcmExtra,
    httpFilters: c.filters,
    chainExtra: c.chainExtra,
  });
}

export async function filterEngine(c: FilterConfig, log?: StreamInfo[]): Promise<RunningEngine> {
  const e = await startEngine(filterYaml(c), { accessLog: log ? (i) => log.push({ ...i }) : undefined });
  cleanups.push(() => e.stop());
  return e;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
