// Latency histograms, kept as Envoy keeps them: a cumulative histogram since start, and an
// interval histogram that the stats flush (StatsStore.flush, each second) closes and resets.
// Quantiles come from HdrHistogram (hdr-histogram-js, WebAssembly mode: no native build, ~30 ns
// a record) at 3 significant digits, i.e. within 0.1% of the exact sample quantile for values
// of 2 µs and more. Values are milliseconds, recorded with microsecond resolution (Envoy records
// whole milliseconds; finer is free here and keeps sub-millisecond latencies readable).
// Envoy's Prometheus bucket counts are kept exactly, alongside, with the sum.

import * as hdr from 'hdr-histogram-js';

/** Envoy's supported quantiles (source/common/stats/histogram_impl.cc), as fractions. */
export const SUPPORTED_QUANTILES: readonly number[] = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

/** Envoy's default histogram bucket upper bounds (ms), used for Prometheus `le` and the bucket views. */
export const BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** Summary of one histogram (cumulative, or one interval). Quantile values are ms; NaN when count is 0. */
export interface HistogramStatistics {
  count: number;
  /** Sum of the recorded values, ms. */
  sum: number;
  mean: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  /** Values at SUPPORTED_QUANTILES, in that order. */
  quantiles: number[];
}

/** One closed interval: what was recorded between startMs and endMs (wall clock). */
export interface IntervalSnapshot extends HistogramStatistics {
  startMs: number;
  endMs: number;
}

let wasm = false;
try {
  hdr.initWebAssemblySync();
  wasm = true;
} catch {
  // The JS build computes the same; it only records slower (~200 ns).
}

function buildHdr(): hdr.Histogram {
  return hdr.build({
    useWebAssembly: wasm,
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000, // 10 s in µs; grows on demand
    numberOfSignificantValueDigits: 3,
  });
}

const EMPTY_QUANTILES: readonly number[] = SUPPORTED_QUANTILES.map(() => NaN);

function statsOf(h: hdr.Histogram, count: number, sum: number): HistogramStatistics {
  if (count === 0) {
    return { count: 0, sum: 0, mean: NaN, min: NaN, max: NaN, p50: NaN, p90: NaN, p99: NaN, quantiles: EMPTY_QUANTILES.slice() };
  }
  const quantiles = SUPPORTED_QUANTILES.map((q) => h.getValueAtPercentile(q * 100) / 1000);
  return {
    count,
    sum,
    mean: sum / count,
    min: quantiles[0],
    max: quantiles[quantiles.length - 1],
    p50: quantiles[2],
    p90: quantiles[4],
    p99: quantiles[6],
    quantiles,
  };
}

export class Histogram {
  private cumulativeHdr: hdr.Histogram;
  private intervalHdr: hdr.Histogram;
  private closed = false;
  private final: HistogramStatistics | undefined;
  /** Cumulative count and sum (ms). */
  count = 0;
  sum = 0;
  private intervalCount = 0;
  private intervalSum = 0;
  private intervalStartMs = Date.now();
  /** Disjoint counts per BUCKETS entry; the last slot counts values above the largest bound. */
  private readonly disjoint = new Float64Array(BUCKETS.length + 1);
  /** The interval closed by the last flush (Envoy's "interval" column); undefined before the first. */
  lastInterval: IntervalSnapshot | undefined;

  constructor(readonly name: string) {
    this.cumulativeHdr = buildHdr();
    this.intervalHdr = buildHdr();
  }

  /** Records one value in milliseconds. The hot path: no allocation, no lookup. */
  record(ms: number): void {
    if (this.closed) return;
    if (!(ms > 0)) ms = 0;
    const us = Math.round(ms * 1000);
    this.cumulativeHdr.recordValue(us);
    this.intervalHdr.recordValue(us);
    this.count++;
    this.sum += ms;
    this.intervalCount++;
    this.intervalSum += ms;
    const b = BUCKETS;
    let i = 0;
    while (i < b.length && ms > b[i]) i++;
    this.disjoint[i]++;
  }

  /** Recorded at least once (Envoy's `used`, for ?usedonly). */
  get used(): boolean {
    return this.count > 0;
  }

  /** Everything recorded since start. */
  cumulative(): HistogramStatistics {
    if (this.final) return { ...this.final, quantiles: this.final.quantiles.slice() };
    return statsOf(this.cumulativeHdr, this.count, this.sum);
  }

  /** One cumulative quantile (q in [0, 1]), ms; NaN when nothing was recorded. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (this.final) return NaN;
    return this.cumulativeHdr.getValueAtPercentile(Math.min(1, Math.max(0, q)) * 100) / 1000;
  }

  /** What the current (still open) interval holds so far, without closing it. */
  peekInterval(): HistogramStatistics {
    return statsOf(this.intervalHdr, this.closed ? 0 : this.intervalCount, this.intervalSum);
  }

  /**
   * Closes the current interval: returns its statistics, keeps them as `lastInterval` and starts
   * a new one. StatsStore.flush calls this for every histogram once per flush period; anyone
   * else should read `lastInterval` (or subscribe with StatsStore.onFlush) rather than call it,
   * or the flush would see a shortened interval.
   */
  snapshotInterval(nowMs = Date.now()): IntervalSnapshot {
    const s = statsOf(this.intervalHdr, this.closed ? 0 : this.intervalCount, this.intervalSum);
    const snap: IntervalSnapshot = { ...s, startMs: this.intervalStartMs, endMs: nowMs };
    if (this.intervalCount > 0 && !this.closed) this.intervalHdr.reset();
    this.intervalCount = 0;
    this.intervalSum = 0;
    this.intervalStartMs = nowMs;
    this.lastInterval = snap;
    return snap;
  }

  /** Cumulative counts of values <= each of BUCKETS (Prometheus `le` buckets, without +Inf). */
  bucketCounts(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (let i = 0; i < BUCKETS.length; i++) {
      acc += this.disjoint[i];
      out.push(acc);
    }
    return out;
  }

  /** Frees the histograms (WebAssembly memory); later records are ignored, the totals stay readable. */
  close(): void {
    if (this.closed) return;
    this.final = this.cumulative();
    this.closed = true;
    this.cumulativeHdr.destroy();
    this.intervalHdr.destroy();
  }
}
