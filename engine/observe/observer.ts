// The engine's own tap on finished requests: it turns each StreamInfo into the console's access-log
// entry, keeps the recent ones in a ring, feeds the per-second series, and hands batches to the
// live event stream. Everything here is bounded.

import type { AccessLogEntry, SeriesPoint } from '../admin/contract';
import type { StreamInfo } from './stream-info';
import { formatResponseFlags } from './response-flags';
import { refusingFilter } from '../filters/registry';
import { LogRing } from './log-ring';
import { TimeSeries, type KnownCluster } from './timeseries';

export type TickListener = (t: number, points: Map<string, SeriesPoint>) => void;
export type BatchListener = (entries: AccessLogEntry[]) => void;

/** Request headers kept per entry (for "copy as curl"), bounded in count and size. */
const MAX_HEADERS = 32;
const MAX_HEADER_VALUE = 512;

export class Observer {
  readonly ring: LogRing;
  readonly series: TimeSeries;
  private batch: AccessLogEntry[] = [];
  private readonly tickListeners = new Set<TickListener>();
  private readonly batchListeners = new Set<BatchListener>();
  private tickTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  /** Batches are bounded too: with no reader between flushes, the oldest entries go. */
  private static readonly MAX_BATCH = 5000;
  droppedFromBatches = 0;

  constructor(
    private readonly knownClusters: () => KnownCluster[],
    opts: { ringCapacity?: number; random?: () => number; batchIntervalMs?: number } = {},
  ) {
    this.ring = new LogRing(opts.ringCapacity ?? 20_000);
    this.series = new TimeSeries(opts.random);
    this.batchIntervalMs = opts.batchIntervalMs ?? 200;
  }
  private readonly batchIntervalMs: number;

  /** The engine's access-log tap. */
  readonly onRequest = (info: StreamInfo): void => {
    const e = toEntry(this.ring.nextId, info);
    this.ring.push(e);
    // A tcp_proxy connection (no protocol) has no status: it failed only if a flag says so (UF, UH, NC).
    const error = info.protocol === '' ? info.responseFlags !== 0 : e.status === 0 || e.status >= 500;
    this.series.record(e.cluster, e.upstreamHost, e.durationMs, e.upstreamMs, error);
    if (this.batchListeners.size) {
      this.batch.push(e);
      if (this.batch.length > Observer.MAX_BATCH) {
        this.batch.shift();
        this.droppedFromBatches++;
      }
    }
  };

  start(): void {
    if (this.tickTimer) return;
    // Align ticks just after each wall-clock second, so a point covers one whole second.
    const schedule = () => {
      const delay = 1000 - (Date.now() % 1000) + 5;
      this.tickTimer = setTimeout(() => {
        const t = Math.floor(Date.now() / 1000) - 1;
        const points = this.series.rollup(t, this.knownClusters());
        for (const l of this.tickListeners) l(t, points);
        schedule();
      }, delay);
      this.tickTimer.unref();
    };
    schedule();
    this.batchTimer = setInterval(() => this.flushBatch(), this.batchIntervalMs);
    this.batchTimer.unref();
  }

  stop(): void {
    clearTimeout(this.tickTimer);
    clearInterval(this.batchTimer);
    this.tickTimer = this.batchTimer = undefined;
  }

  onTick(l: TickListener): () => void {
    this.tickListeners.add(l);
    return () => this.tickListeners.delete(l);
  }

  onBatch(l: BatchListener): () => void {
    this.batchListeners.add(l);
    return () => {
      this.batchListeners.delete(l);
      if (this.batchListeners.size === 0) this.batch = [];
    };
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const b = this.batch;
    this.batch = [];
    for (const l of this.batchListeners) l(b);
  }
}

function toEntry(id: number, i: StreamInfo): AccessLogEntry {
  const end = i.lastDownstreamTxMono || performance.now();
  const headers: Record<string, string> = {};
  let n = 0;
  for (const k in i.requestHeaders) {
    if (n++ >= MAX_HEADERS) break;
    const v = i.requestHeaders[k];
    if (v === undefined) continue;
    const s = Array.isArray(v) ? v.join(', ') : v;
    headers[k] = s.length > MAX_HEADER_VALUE ? s.slice(0, MAX_HEADER_VALUE) : s;
  }
  const path = i.originalPath;
  const q = path.indexOf('?');
  return {
    id,
    startTime: i.startTimeMs,
    method: i.method,
    authority: i.authority,
    path: q < 0 ? path : path.slice(0, q),
    protocol: i.protocol,
    status: i.responseCode,
    flags: formatResponseFlags(i.responseFlags),
    responseCodeDetails: i.responseCodeDetails,
    durationMs: round(end - i.startMono),
    // The answering try only: retries and their back-off belong to the request, not the host.
    upstreamMs: i.upstreamServiceTimeMs >= 0 ? round(i.upstreamServiceTimeMs) : null,
    bytesReceived: i.bytesReceived,
    bytesSent: i.bytesSent,
    listener: i.listenerName,
    route: i.routeName,
    cluster: i.clusterName,
    upstreamHost: i.upstreamHost,
    downstreamRemoteAddress: i.downstreamRemoteAddress,
    requestId: i.requestId,
    userAgent: headers['user-agent'] ?? '',
    attempts: i.attemptCount,
    requestHeaders: headers,
    refusedBy: refusingFilter(i.responseCodeDetails),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
