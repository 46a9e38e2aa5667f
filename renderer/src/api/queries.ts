// Query options per resource ({queryKey, queryFn, …}), used by hooks and by the event stream alike.

import { queryOptions } from '@tanstack/react-query';
import type {
  AccessLogEntry,
  AccessLogFilter,
  AccessLogPage,
  ClustersResponse,
  ConfigResponse,
  EngineEvent,
  TimeSeriesResponse,
} from '../../../engine/admin/contract';
import { api } from './client';
import { clusterKeys, configKeys, logKeys, normalizeFilter, seriesKeys } from './keys';
import { newTail, type LogTail } from './log-ring';
import { applyTick, fromResponse, type SeriesData, type TickEvent } from './series';

export type LiveTick = Extract<EngineEvent, { type: 'tick' }>;

export const configQuery = () =>
  queryOptions({
    queryKey: configKeys.running(),
    queryFn: ({ signal }) => api.get<ConfigResponse>('/config', undefined, signal),
    staleTime: 30_000,
  });

export const clustersQuery = (windowSeconds = 10, refetchMs: number | false = 2000) =>
  queryOptions({
    queryKey: clusterKeys.list(windowSeconds),
    queryFn: ({ signal }) => api.get<ClustersResponse>('/clusters', { window: windowSeconds }, signal),
    refetchInterval: refetchMs,
    staleTime: 1000,
  });

/** Ticks that arrived while the history was being fetched; merged into it when it lands. */
const pendingTicks: TickEvent[] = [];
export function bufferTick(e: TickEvent): void {
  pendingTicks.push(e);
  if (pendingTicks.length > 10) pendingTicks.shift();
}

export const seriesQuery = () =>
  queryOptions({
    queryKey: seriesKeys.history(),
    queryFn: async ({ signal }): Promise<SeriesData> => {
      const r = await api.get<TimeSeriesResponse>('/timeseries', { since: 0 }, signal);
      let data = fromResponse(r);
      for (const t of pendingTicks.splice(0)) if (t.t > data.lastT) data = applyTick(data, t);
      return data;
    },
    // The stream keeps it fresh; it is refetched whole only after a reconnect.
    staleTime: Infinity,
    refetchOnReconnect: 'always',
    structuralSharing: false,
  });

/** The newest tick seen (the stream pushes it into the cache; a refetch just reads it back). */
let latestTick: LiveTick | null = null;
export function rememberTick(e: LiveTick): void {
  latestTick = e;
}

export const liveQuery = () =>
  queryOptions({
    queryKey: seriesKeys.live(),
    queryFn: async () => latestTick,
    staleTime: Infinity,
    structuralSharing: false,
  });

export const LOG_HISTORY = 1000;

/** Log entries from the stream that arrived before the history fetch answered (merged by id). */
const pendingLogs = new Map<string, AccessLogEntry[]>();
export function bufferLogs(filterKey: string, entries: AccessLogEntry[]): void {
  const list = pendingLogs.get(filterKey) ?? [];
  list.push(...entries);
  if (list.length > 20_000) list.splice(0, list.length - 20_000);
  pendingLogs.set(filterKey, list);
}
export const filterKeyOf = (f: AccessLogFilter) => JSON.stringify(normalizeFilter(f));

export const logTailQuery = (filter: AccessLogFilter) =>
  queryOptions({
    queryKey: logKeys.tail(filter),
    queryFn: async ({ signal }): Promise<LogTail> => {
      const f = normalizeFilter(filter);
      const page = await api.get<AccessLogPage>('/logs', { ...f, limit: LOG_HISTORY } as Record<string, string | number>, signal);
      const history = page.entries.slice().reverse();
      const tail = newTail(history, page.evicted);
      const lastId = history.length ? history[history.length - 1]!.id : -1;
      const key = filterKeyOf(filter);
      const pending = pendingLogs.get(key) ?? [];
      pendingLogs.delete(key);
      tail.ring.push(pending.filter((e) => e.id > lastId));
      return tail;
    },
    // Live from the stream: never refetched on its own (a refetch would throw away the tail).
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    structuralSharing: false,
    gcTime: 60_000,
  });
