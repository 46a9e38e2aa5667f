// Query keys, one factory per resource (tkdodo's "Effective React Query Keys"): invalidating
// `clusterKeys.all` reaches every window's list, and so on.

import type { AccessLogFilter } from '../../../engine/admin/contract';

export const configKeys = {
  all: ['config'] as const,
  running: () => [...configKeys.all, 'running'] as const,
};

export const clusterKeys = {
  all: ['clusters'] as const,
  list: (windowSeconds: number) => [...clusterKeys.all, 'list', { windowSeconds }] as const,
};

export const seriesKeys = {
  all: ['timeseries'] as const,
  /** Every cluster's and host's per-second points for the engine's whole retention. */
  history: () => [...seriesKeys.all, 'history'] as const,
  /** The last tick: per host health and requests in flight right now. */
  live: () => [...seriesKeys.all, 'live'] as const,
};

export const logKeys = {
  all: ['logs'] as const,
  tail: (filter: AccessLogFilter) => [...logKeys.all, 'tail', normalizeFilter(filter)] as const,
};

/** Drops empty fields so `{}` and `{path: ''}` are the same key (and the same server query). */
export function normalizeFilter(f: AccessLogFilter): AccessLogFilter {
  const out: AccessLogFilter = {};
  for (const [k, v] of Object.entries(f) as Array<[keyof AccessLogFilter, unknown]>) {
    if (v === undefined || v === null || v === '' || (typeof v === 'number' && !Number.isFinite(v))) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
