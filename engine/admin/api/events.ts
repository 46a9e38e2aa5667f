// The live event stream: Server-Sent Events. SSE because the flow is one-way (engine → console),
// it is plain HTTP that the admin's token/Host/Origin checks already cover, EventSource reconnects
// by itself, and it needs no extra dependency; the console's actions go through the REST calls.
//
// Each subscriber gets metric ticks (1 s), access-log batches (every 200 ms, filtered on the
// server), config changes and health changes. A subscriber that does not read never grows the
// engine's memory: while its socket is backed up nothing more is written to it; what it missed
// is counted and the count is sent when it catches up.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessLogEntry, EngineEvent, HostHealthEvent } from '../contract';
import { compileLogFilter, filterFromQuery } from '../../observe/log-ring';
import { RETENTION_SECONDS } from '../../observe/timeseries';
import type { Engine } from '../../server';

/** Bytes we allow to sit in a subscriber's socket buffer before treating it as backed up. */
const HIGH_WATER = 256 * 1024;

export function streamEvents(engine: Engine, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const match = compileLogFilter(filterFromQuery(url.searchParams));
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.socket?.setNoDelay(true);
  let dropped = 0;
  let droppedTotal = 0;
  let closed = false;

  const backedUp = () => res.writableLength > HIGH_WATER || res.writableNeedDrain;
  const write = (e: EngineEvent): boolean => {
    if (closed) return false;
    res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    return true;
  };
  /** Ticks, config and health are small and rare: sent unless backed up, else counted as dropped. */
  const send = (e: EngineEvent, weight = 1) => {
    if (closed) return;
    if (backedUp()) {
      dropped += weight;
      droppedTotal += weight;
      return;
    }
    if (dropped) {
      write({ type: 'dropped', count: dropped, total: droppedTotal });
      dropped = 0;
    }
    write(e);
  };

  write({ type: 'hello', version: engine.snapshot?.version ?? 0, retentionSeconds: RETENTION_SECONDS });

  const offBatch = engine.observer.onBatch((entries: AccessLogEntry[]) => {
    const mine = entries.filter(match);
    if (mine.length) send({ type: 'log', entries: mine }, mine.length);
  });
  const offTick = engine.observer.onTick((t, points) => {
    const snap = engine.snapshot;
    if (!snap) return;
    const clusters = [...snap.clusters.values()].map((c) => {
      const cp = points.get(c.name);
      return {
        name: c.name,
        rps: cp?.rps ?? 0,
        errorsPerSec: cp?.errorsPerSec ?? 0,
        p50: cp?.p50 ?? null,
        p99: cp?.p99 ?? null,
        hosts: c.hosts.map((h) => {
          const hp = points.get(`${c.name}\u0000${h.key}`);
          return { address: h.key, rps: hp?.rps ?? 0, errorsPerSec: hp?.errorsPerSec ?? 0, p50: hp?.p50 ?? null, p99: hp?.p99 ?? null, healthy: h.healthy, inFlight: h.activeRequests };
        }),
      };
    });
    send({ type: 'tick', t, clusters }, 0);
  });
  const onConfig = (version: number) => send({ type: 'config', version }, 0);
  const onHealth = (cluster: string, host: string, healthy: boolean) => send({ type: 'health', cluster, host, healthy }, 0);
  // The details (why, for how long) the dashboard's health timeline draws.
  const onHostHealth = (event: HostHealthEvent) => send({ type: 'hostHealth', event }, 0);
  engine.events.on('config', onConfig);
  engine.events.on('health', onHealth);
  engine.events.on('hostHealth', onHostHealth);
  // Comments keep intermediaries and idle timers from closing a quiet stream.
  const keepAlive = setInterval(() => {
    if (!backedUp()) res.write(': keep-alive\n\n');
  }, 15_000);

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    offBatch();
    offTick();
    engine.events.off('config', onConfig);
    engine.events.off('health', onHealth);
    engine.events.off('hostHealth', onHostHealth);
  };
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
}
