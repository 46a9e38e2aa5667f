// Prometheus text exposition (v0.0.4) as Envoy's admin writes it (source/server/admin/
// prometheus_stats.cc): names are `envoy_` + the tag-extracted stat name with every character
// outside [a-zA-Z0-9_] turned into '_', Envoy's default tags (source/common/config/
// well_known_names.cc) become labels, one `# TYPE` line per metric family, counters first, then
// gauges, then histograms, each family sorted by name and followed by a blank line. Histograms
// use Envoy's default buckets (0.5 … 3600000 ms and +Inf), then _sum and _count.

import { BUCKETS, type Histogram } from './histogram';
import type { Counter, Gauge, StatsStore } from './stats';

/** A stat name split as Envoy's tag extractors split it. */
export interface TagExtracted {
  /** The name with the tag values removed, e.g. `cluster.upstream_rq_xx`. */
  name: string;
  /** [label name, value], in extraction order, e.g. [['envoy_response_code_class', '2'], ['envoy_cluster_name', 'payments']]. */
  tags: Array<[string, string]>;
}

interface Extractor {
  tag: string;
  re: RegExp;
}

// Envoy's default tag regexes in Envoy's order (the order tags come out in). Group 1 is what is
// removed from the name, group 2 (when present) the tag value. POSIX [:digit:] is \d here; the
// `d` flag gives the groups' positions.
const EXTRACTORS: Extractor[] = [
  { tag: 'envoy.response_code', re: /_rq(_(\d{3}))$/d },
  { tag: 'envoy.response_code_class', re: /_rq_(\d)xx$/d },
  { tag: 'envoy.http_user_agent', re: /^http(?=\.).*?\.user_agent\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.virtual_cluster', re: /^vhost(?=\.).*?\.vcluster\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.fault_downstream_cluster', re: /^http(?=\.).*?\.fault\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.ssl_cipher', re: /^listener(?=\.).*?\.ssl\.cipher(\.(.*?))$/d },
  { tag: 'envoy.ssl_cipher_suite', re: /^cluster(?=\.).*?\.ssl\.ciphers(\.(.*?))$/d },
  { tag: 'envoy.tcp_prefix', re: /^tcp\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.udp_prefix', re: /^udp\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.ratelimit_prefix', re: /^ratelimit\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.cluster_name', re: /^cluster\.(([^.]+)\.).*/d },
  { tag: 'envoy.http_conn_manager_prefix', re: /^listener(?=\.).*?\.http\.((.*?)\.)/d },
  { tag: 'envoy.http_conn_manager_prefix', re: /^http\.((.*?)\.)/d },
  { tag: 'envoy.listener_address', re: /^listener\.(((?:[_.\d]*|[_[\]aAbBcCdDeEfF\d]*))\.)/d },
  { tag: 'envoy.virtual_host', re: /^vhost\.((.*?)\.)/d },
  { tag: 'envoy.rds_route_config', re: /^http(?=\.).*?\.rds\.((.*?)\.)\w+?$/d },
  { tag: 'envoy.worker_id', re: /^listener_manager\.((worker_\d+)\.)/d },
];

/**
 * Envoy's TagProducer: every extractor is matched against the full name; each match removes its
 * first group from the name (ranges, so extractors do not disturb each other) and yields a tag
 * whose value is the second group, or the first when there is no second. A tag name already
 * taken is not extracted again.
 */
export function extractTags(statName: string): TagExtracted {
  const remove: Array<[number, number]> = [];
  const tags: Array<[string, string]> = [];
  const taken = new Set<string>();
  for (const x of EXTRACTORS) {
    if (taken.has(x.tag)) continue;
    const m = x.re.exec(statName);
    const at = m?.indices?.[1];
    if (!m || m[1] === undefined || !at) continue;
    const value = m[2] ?? m[1];
    remove.push([at[0], at[1]]);
    tags.push([sanitize(x.tag), value]);
    taken.add(x.tag);
  }
  if (!remove.length) return { name: statName, tags };
  remove.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [s, e] of remove) {
    if (s < at) continue;
    out += statName.slice(at, s);
    at = e;
  }
  out += statName.slice(at);
  return { name: out, tags };
}

/** Prometheus names: every character outside [a-zA-Z0-9_] becomes '_'. */
export function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** `envoy_` + the sanitized tag-extracted name. */
export function metricName(extracted: string): string {
  return `envoy_${sanitize(extracted)}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatTags(tags: Array<[string, string]>): string {
  return tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
}

/** Numbers as Envoy prints them: integers plainly, others in the shortest exact form, never exponents for our ranges. */
function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const s = String(v);
  return s.includes('e') ? v.toFixed(20).replace(/0+$/, '') : s;
}

interface Named {
  name: string;
}

const extractedCache = new WeakMap<object, { metric: string; tags: string }>();

function prom(stat: Named & object): { metric: string; tags: string } {
  let e = extractedCache.get(stat);
  if (!e) {
    const x = extractTags(stat.name);
    e = { metric: metricName(x.name), tags: formatTags(x.tags) };
    extractedCache.set(stat, e);
  }
  return e;
}

function groupSorted<T extends Named & object>(stats: Iterable<T>, keep: (s: T) => boolean): Array<[string, T[]]> {
  const groups = new Map<string, T[]>();
  for (const s of stats) {
    if (!keep(s)) continue;
    const { metric } = prom(s);
    let g = groups.get(metric);
    if (!g) groups.set(metric, (g = []));
    g.push(s);
  }
  const out = [...groups.entries()].sort((a, b) => cmp(a[0], b[0]));
  for (const [, g] of out) g.sort((a, b) => cmp(a.name, b.name));
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface PrometheusOptions {
  usedOnly?: boolean;
  filter?: RegExp;
}

/** The whole store in Prometheus text format (what GET /stats/prometheus answers). */
export function renderPrometheus(store: StatsStore, opts: PrometheusOptions = {}): string {
  const keep = (s: { name: string; used: boolean }) => (!opts.usedOnly || s.used) && (!opts.filter || opts.filter.test(s.name));
  const parts: string[] = [];
  const numeric = (type: 'counter' | 'gauge', stats: Iterable<Counter | Gauge>) => {
    for (const [metric, group] of groupSorted(stats, keep)) {
      parts.push(`# TYPE ${metric} ${type}\n`);
      for (const s of group) parts.push(`${metric}{${prom(s).tags}} ${num(s.value)}\n`);
      parts.push('\n');
    }
  };
  numeric('counter', store.counters());
  numeric('gauge', store.gauges());
  for (const [metric, group] of groupSorted<Histogram>(store.histograms(), keep)) {
    parts.push(`# TYPE ${metric} histogram\n`);
    for (const h of group) {
      const tags = prom(h).tags;
      const lead = tags ? `${tags},` : '';
      const counts = h.bucketCounts();
      for (let i = 0; i < BUCKETS.length; i++) parts.push(`${metric}_bucket{${lead}le="${num(BUCKETS[i])}"} ${counts[i]}\n`);
      parts.push(`${metric}_bucket{${lead}le="+Inf"} ${h.count}\n`);
      parts.push(`${metric}_sum{${tags}} ${num(h.sum)}\n`);
      parts.push(`${metric}_count{${tags}} ${h.count}\n`);
    }
    parts.push('\n');
  }
  return parts.join('');
}
