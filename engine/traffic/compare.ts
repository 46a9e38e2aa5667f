// Results side by side: a replay against what was recorded (per route), and two replays of the
// same traffic against each other (config A vs config B), with what changed flagged.

import type { ReplayComparison, ReplayRunView, RouteComparisonView, RouteSideView, RouteSummaryView } from '../admin/contract';
import type { ReplayResult } from './replay';
import { percentiles, round, tally } from './stats';

function side(rows: Array<{ status: number; latencyMs: number; upstreamHost: string }>): RouteSideView {
  return {
    count: rows.length,
    latencyMs: percentiles(rows.filter((r) => r.status > 0 && r.latencyMs >= 0).map((r) => r.latencyMs)),
    byStatus: tally(rows, (r) => String(r.status)),
    hosts: tally(rows, (r) => r.upstreamHost),
  };
}

function byRoute<T extends { route: string }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    let l = m.get(r.route);
    if (!l) m.set(r.route, (l = []));
    l.push(r);
  }
  return m;
}

/** Per route: the recorded originals against this replay. */
export function routeSummaries(results: readonly ReplayResult[]): RouteSummaryView[] {
  const out: RouteSummaryView[] = [];
  for (const [route, rows] of byRoute(results)) {
    out.push({
      route,
      original: side(rows.map((r) => ({ status: r.original.status, latencyMs: r.original.timeMs, upstreamHost: r.original.upstreamHost }))),
      replay: side(rows),
      statusMismatches: rows.filter((r) => r.original.status > 0 && r.status !== r.original.status).length,
    });
  }
  return out.sort((a, b) => b.replay.count - a.replay.count || a.route.localeCompare(b.route));
}

/** Largest move of one host's share between two sides, in percentage points. */
function hostShift(a: RouteSideView, b: RouteSideView): number {
  let max = 0;
  for (const h of new Set([...Object.keys(a.hosts), ...Object.keys(b.hosts)])) {
    const sa = a.count ? (a.hosts[h] ?? 0) / a.count : 0;
    const sb = b.count ? (b.hosts[h] ?? 0) / b.count : 0;
    max = Math.max(max, Math.abs(sb - sa) * 100);
  }
  return round(max, 1);
}

const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : round(b - a));

/** Two replays of the same traffic: per route, and every request whose status changed. */
export function compareRuns(aView: ReplayRunView, a: readonly ReplayResult[], bView: ReplayRunView, b: readonly ReplayResult[], limit = 200): ReplayComparison {
  const key = (r: ReplayResult) => `${r.loop}:${r.index}`;
  const bByKey = new Map(b.map((r) => [key(r), r]));
  const changes: ReplayComparison['statusChanges'] = [];
  let changesTotal = 0;
  const changedPerRoute = new Map<string, number>();
  for (const ra of a) {
    const rb = bByKey.get(key(ra));
    if (!rb || rb.status === ra.status) continue;
    changesTotal++;
    changedPerRoute.set(ra.route, (changedPerRoute.get(ra.route) ?? 0) + 1);
    if (changes.length < limit) changes.push({ index: ra.index, loop: ra.loop, method: ra.method, url: ra.url, a: ra.status, b: rb.status });
  }
  const ar = byRoute(a);
  const br = byRoute(b);
  const routes: RouteComparisonView[] = [];
  for (const route of new Set([...ar.keys(), ...br.keys()])) {
    const sa = side(ar.get(route) ?? []);
    const sb = side(br.get(route) ?? []);
    const p99a = sa.latencyMs.p99;
    const p99b = sb.latencyMs.p99;
    const p99Delta = delta(p99a, p99b);
    const statusChanged = changedPerRoute.get(route) ?? 0;
    const shift = hostShift(sa, sb);
    const p99Moved = p99Delta !== null && p99a !== null && Math.abs(p99Delta) > 1 && Math.abs(p99Delta) > 0.2 * Math.max(p99a, 0.001);
    routes.push({
      route,
      a: sa,
      b: sb,
      statusChanged,
      p50DeltaMs: delta(sa.latencyMs.p50, sb.latencyMs.p50),
      p99DeltaMs: p99Delta,
      hostShiftPct: shift,
      highlight: statusChanged > 0 || p99Moved || shift > 5,
    });
  }
  routes.sort((x, y) => Math.max(y.a.count, y.b.count) - Math.max(x.a.count, x.b.count) || x.route.localeCompare(y.route));
  return { a: aView, b: bView, routes, statusChanges: changes, statusChangesTotal: changesTotal };
}
