// Per-second series per cluster and per host (requests/s, errors/s, latency p50/p90/p99) for the
// console's charts, kept for 15 minutes. Memory is bounded: a fixed ring of points per series,
// and at most SAMPLE_CAP latency samples per series per second (reservoir sampling beyond that).

import type { LatencySummary, Series, SeriesPoint } from '../admin/contract';

export const RETENTION_SECONDS = 900;
const SAMPLE_CAP = 512;
/** Raw per-second samples kept for window quantiles (the clusters view). */
const RAW_SECONDS = 60;

class Bucket {
  count = 0;
  errors = 0;
  seen = 0;
  readonly samples: number[] = [];
  add(ms: number | null, error: boolean, random: () => number): void {
    this.count++;
    if (error) this.errors++;
    if (ms === null) return;
    this.seen++;
    if (this.samples.length < SAMPLE_CAP) this.samples.push(ms);
    else {
      const j = Math.floor(random() * this.seen);
      if (j < SAMPLE_CAP) this.samples[j] = ms;
    }
  }
}

class SeriesState {
  readonly points: SeriesPoint[] = [];
  readonly raw: Array<{ t: number; count: number; errors: number; samples: number[] }> = [];
  open = new Bucket();
  lastActive = 0;
  constructor(
    readonly cluster: string,
    readonly host: string | undefined,
  ) {}

  close(t: number): SeriesPoint {
    const b = this.open;
    this.open = new Bucket();
    const sorted = b.samples.sort((x, y) => x - y);
    const p: SeriesPoint = {
      t,
      rps: b.count,
      errorsPerSec: b.errors,
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
    };
    this.points.push(p);
    if (this.points.length > RETENTION_SECONDS) this.points.shift();
    this.raw.push({ t, count: b.count, errors: b.errors, samples: sorted });
    if (this.raw.length > RAW_SECONDS) this.raw.shift();
    if (b.count) this.lastActive = t;
    return p;
  }
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[i] * 1000) / 1000;
}

export interface KnownCluster {
  name: string;
  hosts: string[];
}

export class TimeSeries {
  private readonly byKey = new Map<string, SeriesState>();

  constructor(private readonly random: () => number = Math.random) {}

  /** cluster → host ('' for the cluster itself) → series: the per-request lookup builds no key string. */
  private readonly byCluster = new Map<string, Map<string, SeriesState>>();

  private state(cluster: string, host: string | undefined): SeriesState {
    let hosts = this.byCluster.get(cluster);
    if (!hosts) this.byCluster.set(cluster, (hosts = new Map()));
    let s = hosts.get(host ?? '');
    if (!s) {
      s = new SeriesState(cluster, host);
      hosts.set(host ?? '', s);
      this.byKey.set(host === undefined ? cluster : `${cluster}\u0000${host}`, s);
    }
    return s;
  }

  /** One finished request: cluster-wide latency is the whole request, per host the upstream time. */
  record(cluster: string, host: string, durationMs: number, upstreamMs: number | null, error: boolean): void {
    if (!cluster) return;
    this.state(cluster, undefined).open.add(durationMs, error, this.random);
    if (host) this.state(cluster, host).open.add(upstreamMs, error, this.random);
  }

  /**
   * Close the second `t` (unix seconds) for every series, including the clusters and hosts that
   * exist but saw no traffic (so charts show zeros, not gaps). Series of clusters and hosts that
   * are gone and idle for the whole retention are forgotten.
   */
  rollup(t: number, known: KnownCluster[]): Map<string, SeriesPoint> {
    for (const c of known) {
      this.state(c.name, undefined);
      for (const h of c.hosts) this.state(c.name, h);
    }
    const knownKeys = new Set<string>();
    for (const c of known) {
      knownKeys.add(c.name);
      for (const h of c.hosts) knownKeys.add(`${c.name}\u0000${h}`);
    }
    const out = new Map<string, SeriesPoint>();
    for (const [key, s] of this.byKey) {
      out.set(key, s.close(t));
      if (!knownKeys.has(key) && t - s.lastActive > RETENTION_SECONDS) {
        this.byKey.delete(key);
        this.byCluster.get(s.cluster)?.delete(s.host ?? '');
      }
    }
    return out;
  }

  series(since = 0, cluster?: string): Series[] {
    const out: Series[] = [];
    for (const s of this.byKey.values()) {
      if (cluster && s.cluster !== cluster) continue;
      const points = since ? s.points.filter((p) => p.t > since) : s.points.slice();
      out.push(s.host === undefined ? { cluster: s.cluster, points } : { cluster: s.cluster, host: s.host, points });
    }
    return out;
  }

  /** Totals and latency quantiles over the last `seconds` closed seconds (at most 60). */
  window(cluster: string, host: string | undefined, seconds: number): { count: number; errors: number; latency: LatencySummary } {
    const key = host === undefined ? cluster : `${cluster}\u0000${host}`;
    const s = this.byKey.get(key);
    if (!s) return { count: 0, errors: 0, latency: { p50: null, p90: null, p99: null } };
    const raw = s.raw.slice(-Math.min(seconds, RAW_SECONDS));
    let count = 0;
    let errors = 0;
    const samples: number[] = [];
    for (const r of raw) {
      count += r.count;
      errors += r.errors;
      for (const x of r.samples) samples.push(x);
    }
    samples.sort((a, b) => a - b);
    return { count, errors, latency: { p50: quantile(samples, 0.5), p90: quantile(samples, 0.9), p99: quantile(samples, 0.99) } };
  }
}
