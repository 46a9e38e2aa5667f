// Host health (active health checks, outlier ejections): the /health query and the merge of the
// stream's `hostHealth` events into it, so the dashboard's timeline moves without a refetch.

import { queryOptions, type QueryClient } from '@tanstack/react-query';
import type { HostHealthEvent, HostHealthResponse, SimListResponse, SimRunResponse, SimIncidentRequest } from '../../../engine/admin/contract';
import { api } from './client';

/** Events kept per host in the cache (the engine keeps 200). */
const KEEP = 200;

export const healthKeys = {
  all: ['health'] as const,
  hosts: () => [...healthKeys.all, 'hosts'] as const,
};

export const simKeys = {
  all: ['sim'] as const,
  runs: () => [...simKeys.all, 'runs'] as const,
};

export const hostHealthQuery = () =>
  queryOptions({
    queryKey: healthKeys.hosts(),
    queryFn: ({ signal }) => api.get<HostHealthResponse>('/health', undefined, signal),
    // The stream pushes every change; a slow refetch covers reloads and reconnects.
    refetchInterval: 15_000,
    staleTime: 5_000,
  });

export const simRunsQuery = () =>
  queryOptions({
    queryKey: simKeys.runs(),
    queryFn: ({ signal }) => api.get<SimListResponse>('/sim', undefined, signal),
    refetchInterval: 3_000,
    staleTime: 1_000,
  });

/** A pushed event, applied to the cached /health answer (a host not known yet → refetch). */
export function applyHostHealth(qc: QueryClient, e: HostHealthEvent): void {
  let known = false;
  qc.setQueryData<HostHealthResponse>(healthKeys.hosts(), (old) => {
    if (!old) return old;
    return {
      clusters: old.clusters.map((c) => {
        if (c.name !== e.cluster) return c;
        return {
          ...c,
          hosts: c.hosts.map((h) => {
            if (h.address !== e.host) return h;
            known = true;
            const events = [...h.events, e].slice(-KEEP);
            return { ...h, healthy: e.healthy, flags: e.flags, ejections: h.ejections + (e.kind === 'ejected' ? 1 : 0), events };
          }),
        };
      }),
    };
  });
  if (!known) void qc.invalidateQueries({ queryKey: healthKeys.all });
}

/** "Break this host": an ad-hoc simulator incident on the instance behind a host. */
export function startIncident(req: SimIncidentRequest): Promise<SimRunResponse> {
  return api.post<SimRunResponse>('/sim/incident', req);
}
