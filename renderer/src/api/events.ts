// The event stream (SSE, GET /api/v1/events) applied to the query cache, so components read the
// same cache whether a value came from a fetch or a push:
//   tick    → appended to the time-series history, and the "live" snapshot (health, in flight)
//   log     → appended to the log tail of the current filter (a bounded ring)
//   dropped → counted on that tail ("the console fell behind")
//   config / health → the config and clusters queries are invalidated
//   hostHealth → merged into the /health query (the dashboard's health timeline)
// Losing the stream marks the engine unreachable (queries pause, a banner shows); EventSource
// retries by itself, and we retry ourselves when it gives up; on recovery everything refetches.

import { onlineManager, type QueryClient } from '@tanstack/react-query';
import type { AccessLogEntry, EngineEvent, TimeSeriesResponse } from '../../../engine/admin/contract';
import { api, ApiRequestError, eventsUrl, hasToken, type Query } from './client';
import { getConnection, isEngineReachable, setConnection, subscribeConnection } from './connection';
import { clusterKeys, configKeys, logKeys, seriesKeys } from './keys';
import { getLogFilter, subscribeLogFilter } from './log-filter';
import { appendToTail, type LogTail } from './log-ring';
import { bufferLogs, bufferTick, filterKeyOf, rememberTick, type LiveTick } from './queries';
import { fromResponse, mergeSeries, applyTick, type SeriesData } from './series';
import { applyHostHealth } from './health';

type Of<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

/** Every this many ticks, the last seconds are refetched whole (ticks carry no p90). */
const BACKFILL_EVERY = 5;

export function startEventStream(qc: QueryClient): () => void {
  let es: EventSource | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let attempts = 0;
  let stopped = false;
  let wasDown = false;
  let ticks = 0;

  // TanStack Query's idea of "online" follows the engine, not the network card.
  onlineManager.setEventListener((setOnline) => {
    setOnline(isEngineReachable());
    return subscribeConnection(() => setOnline(isEngineReachable(getConnection())));
  });

  if (!hasToken()) {
    setConnection({ kind: 'no-token' });
    return () => {};
  }

  const down = () => {
    const s = getConnection();
    wasDown = true;
    if (s.kind !== 'reconnecting') setConnection({ kind: 'reconnecting', since: Date.now(), attempts });
  };

  const onLog = (entries: AccessLogEntry[]) => {
    const f = getLogFilter();
    const key = logKeys.tail(f);
    let applied = false;
    qc.setQueryData<LogTail>(key, (old) => {
      if (!old) return undefined;
      applied = true;
      return appendToTail(old, entries);
    });
    if (!applied) bufferLogs(filterKeyOf(f), entries);
  };

  const backfill = async (t: number) => {
    if (!qc.getQueryData(seriesKeys.history())) return;
    try {
      const r = await api.get<TimeSeriesResponse>('/timeseries', { since: t - BACKFILL_EVERY - 2 });
      const more = fromResponse(r).series;
      qc.setQueryData<SeriesData>(seriesKeys.history(), (old) => (old ? mergeSeries(old, more) : old));
    } catch {
      /* the next one will do */
    }
  };

  const handlers: { [K in EngineEvent['type']]: (e: Of<K>) => void } = {
    hello: () => {},
    tick: (e) => {
      rememberTick(e as LiveTick);
      qc.setQueryData(seriesKeys.live(), e);
      let applied = false;
      qc.setQueryData<SeriesData>(seriesKeys.history(), (old) => {
        if (!old) return undefined;
        applied = true;
        return applyTick(old, e);
      });
      if (!applied) bufferTick(e);
      if (++ticks % BACKFILL_EVERY === 0) void backfill(e.t);
    },
    log: (e) => onLog(e.entries),
    dropped: (e) => {
      qc.setQueryData<LogTail>(logKeys.tail(getLogFilter()), (old) => (old ? { ...old, dropped: old.dropped + e.count, version: old.version + 1 } : old));
    },
    config: () => {
      void qc.invalidateQueries({ queryKey: configKeys.all });
      void qc.invalidateQueries({ queryKey: clusterKeys.all });
    },
    health: () => {
      void qc.invalidateQueries({ queryKey: clusterKeys.all });
    },
    hostHealth: (e) => applyHostHealth(qc, e.event),
  };

  const connect = () => {
    if (stopped) return;
    clearTimeout(retryTimer);
    const source = new EventSource(eventsUrl(getLogFilter() as Query));
    es = source;
    source.onopen = () => {
      if (es !== source) return;
      attempts = 0;
      setConnection({ kind: 'live', since: Date.now() });
      if (wasDown) {
        wasDown = false;
        // The engine may have restarted: its history, config and clusters are new. The log tail
        // keeps what it had and notes the gap.
        void qc.invalidateQueries({ queryKey: configKeys.all });
        void qc.invalidateQueries({ queryKey: clusterKeys.all });
        void qc.invalidateQueries({ queryKey: seriesKeys.all });
        qc.setQueryData<LogTail>(logKeys.tail(getLogFilter()), (old) => (old ? { ...old, gaps: old.gaps + 1, version: old.version + 1 } : old));
      }
    };
    source.onerror = () => {
      if (es !== source) return;
      down();
      if (source.readyState === EventSource.CLOSED) {
        // EventSource gives up on an HTTP error (e.g. 401 after a restart with a new token, or a
        // 503 while starting): find out which, and retry ourselves with back-off.
        attempts++;
        void api.get('/config').then(
          () => schedule(),
          (err: unknown) => {
            if (err instanceof ApiRequestError && err.status === 401) setConnection({ kind: 'unauthorized' });
            schedule();
          },
        );
      }
    };
    for (const type of Object.keys(handlers) as Array<EngineEvent['type']>) {
      source.addEventListener(type, (msg) => {
        if (es !== source) return;
        let data: EngineEvent;
        try {
          data = JSON.parse((msg as MessageEvent<string>).data) as EngineEvent;
        } catch {
          return;
        }
        (handlers[type] as (e: EngineEvent) => void)(data);
      });
    }
  };

  const schedule = () => {
    if (stopped) return;
    clearTimeout(retryTimer);
    es?.close();
    const delay = Math.min(5000, 500 * 2 ** Math.min(attempts, 4));
    retryTimer = setTimeout(connect, delay);
  };

  // A new log filter is a new server-side filter: reconnect the stream with it.
  const offFilter = subscribeLogFilter(() => {
    es?.close();
    connect();
  });

  connect();
  return () => {
    stopped = true;
    offFilter();
    clearTimeout(retryTimer);
    es?.close();
  };
}
