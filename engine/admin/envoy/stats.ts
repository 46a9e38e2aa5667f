// GET /stats and GET /stats/prometheus, in Envoy's formats (source/server/admin/stats_render.cc,
// prometheus_stats.cc): text `name: value` with counters and gauges sorted together, then the
// histograms as `name: P0(interval,cumulative) P25(…) …`; `?format=json` as Envoy's JSON;
// `?filter=` (an RE2 regex, partial match), `?usedonly`, `?type=`.

import { checkRe2 } from '../../config/regex';
import { SUPPORTED_QUANTILES, type Histogram } from '../../observe/histogram';
import { renderPrometheus } from '../../observe/prometheus';
import type { Counter, Gauge, StatsStore } from '../../observe/stats';
import type { Engine } from '../../server';
import type { AdminRoute } from '../routes';
import { json, prometheusText, text } from './reply';

/** Envoy's fmt "{}" for a double: the shortest exact form, `nan` for no value. */
export function envoyNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  return String(v);
}

/** `P0(nan,1.2) P25(nan,3.4) …` as ParentHistogramImpl::quantileSummary prints it. */
export function quantileSummary(h: Histogram): string {
  if (!h.used) return 'No recorded values';
  const cumulative = h.cumulative().quantiles;
  const interval = h.lastInterval?.quantiles;
  return SUPPORTED_QUANTILES.map((q, i) => `P${+(q * 100).toFixed(6)}(${envoyNumber(interval ? interval[i] : NaN)},${envoyNumber(cumulative[i])})`).join(' ');
}

type StatType = 'All' | 'Counters' | 'Gauges' | 'Histograms' | 'TextReadouts';
const TYPES: readonly StatType[] = ['All', 'Counters', 'Gauges', 'Histograms', 'TextReadouts'];

interface StatsParams {
  filter?: RegExp;
  usedOnly: boolean;
  type: StatType;
  format: 'text' | 'json' | 'prometheus';
}

/** The query as Envoy's StatsParams reads it; a string is the 400 message. */
function parseParams(url: URL): StatsParams | string {
  const q = url.searchParams;
  let filter: RegExp | undefined;
  const f = q.get('filter');
  if (f) {
    const r = checkRe2(f);
    if (!r.ok) return `Invalid re2 regex: ${r.message}`;
    filter = new RegExp(r.source, r.flags);
  }
  const typeParam = q.get('type') ?? 'All';
  const type = TYPES.find((t) => t.toLowerCase() === typeParam.toLowerCase());
  if (!type) return `invalid &type= param: '${typeParam}'`;
  const fmt = q.get('format') ?? 'text';
  if (fmt !== 'text' && fmt !== 'json' && fmt !== 'prometheus') return `usage: /stats?format=(html|active-html|json|prometheus|text)\n\nMeshdeck serves text, json and prometheus`;
  const buckets = q.get('histogram_buckets');
  if (buckets && buckets !== 'none') return `histogram_buckets=${buckets} is not supported by Meshdeck (quantile summaries only)`;
  if (q.has('hidden') && q.get('hidden') !== 'exclude') return 'hidden stats: Meshdeck has none to show';
  return { filter, usedOnly: q.has('usedonly'), type, format: fmt };
}

function keep(p: StatsParams, s: { name: string; used: boolean }): boolean {
  return (!p.usedOnly || s.used) && (!p.filter || p.filter.test(s.name));
}

function numericStats(store: StatsStore, p: StatsParams): Array<Counter | Gauge> {
  const out: Array<Counter | Gauge> = [];
  if (p.type === 'All' || p.type === 'Counters') for (const c of store.counters()) if (keep(p, c)) out.push(c);
  if (p.type === 'All' || p.type === 'Gauges') for (const g of store.gauges()) if (keep(p, g)) out.push(g);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function histograms(store: StatsStore, p: StatsParams): Histogram[] {
  if (p.type !== 'All' && p.type !== 'Histograms') return [];
  const out: Histogram[] = [];
  for (const h of store.histograms()) if (keep(p, h)) out.push(h);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function renderStatsText(store: StatsStore, p: StatsParams): string {
  const lines: string[] = [];
  for (const s of numericStats(store, p)) lines.push(`${s.name}: ${s.value}\n`);
  for (const h of histograms(store, p)) lines.push(`${h.name}: ${quantileSummary(h)}\n`);
  return lines.join('');
}

const jsonNumber = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Envoy's JSON: {"stats": [{name, value}…, {"histograms": {supported_quantiles, computed_quantiles}}]}. */
export function renderStatsJson(store: StatsStore, p: StatsParams): unknown {
  const stats: unknown[] = numericStats(store, p).map((s) => ({ name: s.name, value: s.value }));
  const hs = histograms(store, p);
  if (hs.length) {
    stats.push({
      histograms: {
        supported_quantiles: SUPPORTED_QUANTILES.map((q) => +(q * 100).toFixed(6)),
        computed_quantiles: hs.map((h) => {
          const cumulative = h.cumulative().quantiles;
          const interval = h.lastInterval?.quantiles;
          return {
            name: h.name,
            values: cumulative.map((c, i) => ({ interval: interval ? jsonNumber(interval[i]) : null, cumulative: jsonNumber(c) })),
          };
        }),
      },
    });
  }
  return { stats };
}

/** server.* and the managers' gauges, refreshed when read (Envoy updates them on its flush timer). */
export function refreshServerStats(engine: Engine, startedMs: number): void {
  const s = engine.stats;
  const live = !engine.healthCheckFailed;
  s.gauge('server.live').set(live ? 1 : 0);
  // ServerInfo.State: LIVE = 0, DRAINING = 1.
  s.gauge('server.state').set(live ? 0 : 1);
  s.gauge('server.uptime').set(Math.floor((Date.now() - startedMs) / 1000));
  s.gauge('server.concurrency').set(1);
  const mem = process.memoryUsage();
  s.gauge('server.memory_allocated').set(mem.heapUsed);
  s.gauge('server.memory_heap_size').set(mem.heapTotal);
  s.gauge('server.memory_physical_size').set(mem.rss);
  s.gauge('cluster_manager.active_clusters').set(engine.snapshot?.clusters.size ?? 0);
  s.gauge('listener_manager.total_listeners_active').set(engine.boundListeners().length);
}

export function statsRoutes(startedMs: number): Array<[string, AdminRoute]> {
  const stats: AdminRoute = {
    method: 'GET',
    help: 'print server stats',
    handle: ({ engine, res, url }) => {
      const p = parseParams(url);
      if (typeof p === 'string') return text(res, `${p}\n`, 400);
      refreshServerStats(engine, startedMs);
      if (p.format === 'prometheus') return prometheusText(res, renderPrometheus(engine.stats, { usedOnly: p.usedOnly, filter: p.filter }));
      if (p.format === 'json') return json(res, renderStatsJson(engine.stats, p));
      text(res, renderStatsText(engine.stats, p));
    },
  };
  const prometheus: AdminRoute = {
    method: 'GET',
    help: 'print server stats in prometheus format',
    handle: ({ engine, res, url }) => {
      const p = parseParams(url);
      if (typeof p === 'string') return text(res, `${p}\n`, 400);
      refreshServerStats(engine, startedMs);
      prometheusText(res, renderPrometheus(engine.stats, { usedOnly: p.usedOnly, filter: p.filter }));
    },
  };
  return [
    ['/stats', stats],
    ['/stats/prometheus', prometheus],
  ];
}
