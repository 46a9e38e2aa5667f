// The time-series cache: per-second points for every cluster (key "cluster") and host
// ("cluster\u0000host"), backfilled from GET /timeseries and extended by the event stream's ticks.
// Pure functions so they can be unit-tested; the cache holds the result of each.

import type { EngineEvent, SeriesPoint, TimeSeriesResponse } from '../../../engine/admin/contract';

export type TickEvent = Extract<EngineEvent, { type: 'tick' }>;

export interface SeriesData {
  retentionSeconds: number;
  /** Unix seconds of the newest point. */
  lastT: number;
  series: Record<string, SeriesPoint[]>;
}

export const seriesKey = (cluster: string, host?: string) => (host ? `${cluster}\u0000${host}` : cluster);

export function fromResponse(r: TimeSeriesResponse): SeriesData {
  const series: Record<string, SeriesPoint[]> = {};
  let lastT = 0;
  for (const s of r.series) {
    series[seriesKey(s.cluster, s.host)] = s.points;
    const last = s.points[s.points.length - 1];
    if (last && last.t > lastT) lastT = last.t;
  }
  return { retentionSeconds: r.retentionSeconds, lastT, series };
}

/** Puts points into a series sorted by t: a point for a second already there replaces it. */
function upsert(points: SeriesPoint[], add: SeriesPoint[], oldest: number): SeriesPoint[] {
  let out = points;
  for (const p of add) {
    const last = out[out.length - 1];
    if (!last || p.t > last.t) {
      out = out === points ? [...points, p] : (out.push(p), out);
      continue;
    }
    let i = out.length - 1;
    while (i >= 0 && out[i]!.t > p.t) i--;
    if (out === points) out = [...points];
    if (i >= 0 && out[i]!.t === p.t) out[i] = p;
    else out.splice(i + 1, 0, p);
  }
  if (out.length && out[0]!.t < oldest) {
    let k = 0;
    while (k < out.length && out[k]!.t < oldest) k++;
    out = out.slice(k);
  }
  return out;
}

/** Merges another set of series into `data` (a new object; untouched series keep their arrays). */
export function mergeSeries(data: SeriesData, more: Record<string, SeriesPoint[]>): SeriesData {
  let lastT = data.lastT;
  for (const pts of Object.values(more)) for (const p of pts) if (p.t > lastT) lastT = p.t;
  const oldest = lastT - data.retentionSeconds;
  const series = { ...data.series };
  for (const [k, pts] of Object.entries(more)) series[k] = upsert(series[k] ?? [], pts, oldest);
  return { ...data, lastT, series };
}

/** A tick as points (it has no p90: the next backfill of recent seconds fills it in). */
export function tickPoints(e: TickEvent): Record<string, SeriesPoint[]> {
  const out: Record<string, SeriesPoint[]> = {};
  for (const c of e.clusters) {
    out[seriesKey(c.name)] = [{ t: e.t, rps: c.rps, errorsPerSec: c.errorsPerSec, p50: c.p50, p90: null, p99: c.p99 }];
    for (const h of c.hosts) {
      out[seriesKey(c.name, h.address)] = [{ t: e.t, rps: h.rps, errorsPerSec: h.errorsPerSec, p50: h.p50, p90: null, p99: h.p99 }];
    }
  }
  return out;
}

export function applyTick(data: SeriesData, e: TickEvent): SeriesData {
  return mergeSeries(data, tickPoints(e));
}

export interface WindowStats {
  requests: number;
  errors: number;
  errorRate: number;
  /** Request-weighted mean of the per-second p99s (ms), null without traffic. */
  p99: number | null;
  p50: number | null;
  rps: number;
}

/** Sums a series over its last `seconds` (ending at `now`). */
export function windowStats(points: SeriesPoint[] | undefined, now: number, seconds: number): WindowStats {
  let requests = 0;
  let errors = 0;
  let w99 = 0;
  let w50 = 0;
  let n99 = 0;
  let n50 = 0;
  for (let i = (points?.length ?? 0) - 1; i >= 0; i--) {
    const p = points![i]!;
    if (p.t <= now - seconds) break;
    if (p.t > now) continue;
    requests += p.rps;
    errors += p.errorsPerSec;
    if (p.p99 !== null && p.rps > 0) {
      w99 += p.p99 * p.rps;
      n99 += p.rps;
    }
    if (p.p50 !== null && p.rps > 0) {
      w50 += p.p50 * p.rps;
      n50 += p.rps;
    }
  }
  return {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : 0,
    p99: n99 > 0 ? w99 / n99 : null,
    p50: n50 > 0 ? w50 / n50 : null,
    rps: requests / seconds,
  };
}
