// GET /clusters, as Envoy's ClustersHandler prints it: per cluster its observability name,
// circuit-breaker thresholds per priority and added_via_api, then per host
// `cluster::address:port::stat::value` (host counters and gauges sorted by name), hostname,
// health_flags, weight, locality, canary, priority and the outlier success rates.
// `?format=json` is the envoy.admin.v3.Clusters proto in proto3 JSON (defaults left out,
// 64-bit values as strings), as Envoy prints it.

import { hostCounters, hostGauges, readHostStats } from '../../observe/stats';
import type { ClusterRuntime, UpstreamHost } from '../../upstream/cluster';
import type { AdminRoute } from '../routes';
import { json, text } from './reply';

/** Envoy's defaults for the HIGH routing priority, which Meshdeck does not configure separately. */
const HIGH_DEFAULTS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

function locality(h: UpstreamHost): { region: string; zone: string; subZone: string } {
  const [region = '', zone = '', subZone = ''] = h.locality.split('/');
  return { region, zone, subZone };
}

/** Envoy shows the endpoint's hostname, empty for an IP endpoint that gave none. */
function hostname(h: UpstreamHost): string {
  return h.hostname === h.address ? '' : h.hostname;
}

/** HostUtility::healthFlagsToString: `healthy`, or `/failed_active_hc/failed_outlier_check/…`. */
function healthFlags(h: UpstreamHost): string {
  return h.healthFlags;
}

function hostAddress(h: UpstreamHost): string {
  return h.address.includes(':') ? `[${h.address}]:${h.port}` : `${h.address}:${h.port}`;
}

export function renderClustersText(clusters: Iterable<ClusterRuntime>): string {
  const out: string[] = [];
  const line = (...parts: Array<string | number | boolean>) => out.push(`${parts.join('::')}\n`);
  for (const c of clusters) {
    const n = c.name;
    line(n, 'observability_name', n);
    const cb = c.config.circuitBreakers;
    for (const [prio, t] of [
      ['default', cb],
      ['high', HIGH_DEFAULTS],
    ] as const) {
      line(n, `${prio}_priority`, 'max_connections', t.maxConnections);
      line(n, `${prio}_priority`, 'max_pending_requests', t.maxPendingRequests);
      line(n, `${prio}_priority`, 'max_requests', t.maxRequests);
      line(n, `${prio}_priority`, 'max_retries', t.maxRetries);
    }
    line(n, 'added_via_api', false);
    for (const h of c.hosts) {
      const a = hostAddress(h);
      const s = readHostStats(h);
      const all = [...hostCounters(s), ...hostGauges(s)].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      for (const st of all) line(n, a, st.name, st.value);
      const loc = locality(h);
      line(n, a, 'hostname', hostname(h));
      line(n, a, 'health_flags', healthFlags(h));
      line(n, a, 'weight', h.weight);
      line(n, a, 'region', loc.region);
      line(n, a, 'zone', loc.zone);
      line(n, a, 'sub_zone', loc.subZone);
      line(n, a, 'canary', false);
      line(n, a, 'priority', h.priority);
      // The outlier detector's success rate of the last interval (-1 when not judged).
      line(n, a, 'success_rate', c.outlier?.successRate(h) ?? -1);
      line(n, a, 'local_origin_success_rate', -1);
    }
  }
  return out.join('');
}

type Json = Record<string, unknown>;

function thresholds(t: { maxConnections: number; maxPendingRequests: number; maxRequests: number; maxRetries: number }, priority?: 'HIGH'): Json {
  const o: Json = {};
  if (priority) o.priority = priority;
  o.max_connections = t.maxConnections;
  o.max_pending_requests = t.maxPendingRequests;
  o.max_requests = t.maxRequests;
  o.max_retries = t.maxRetries;
  return o;
}

/** envoy.admin.v3.HostHealthStatus in proto3 JSON (false flags left out). */
function healthStatusJson(h: UpstreamHost): Json {
  const o: Json = {};
  if (h.failedActiveHc) o.failed_active_health_check = true;
  if (h.failedOutlierCheck) o.failed_outlier_check = true;
  if (h.pendingActiveHc) o.pending_active_hc = true;
  o.eds_health_status = h.edsHealthy ? 'HEALTHY' : 'UNHEALTHY';
  return o;
}

/** envoy.admin.v3.HostStatus in proto3 JSON. */
export function hostStatusJson(h: UpstreamHost): Json {
  const s = readHostStats(h);
  const metric = (type: 'COUNTER' | 'GAUGE', name: string, value: number): Json => {
    const m: Json = {};
    if (type !== 'COUNTER') m.type = type;
    if (value) m.value = String(value);
    m.name = name;
    return m;
  };
  const o: Json = {
    address: { socket_address: { address: h.address, port_value: h.port } },
    stats: [...hostCounters(s).map((c) => metric('COUNTER', c.name, c.value)), ...hostGauges(s).map((g) => metric('GAUGE', g.name, g.value))],
    health_status: healthStatusJson(h),
    weight: h.weight,
  };
  const hn = hostname(h);
  if (hn) o.hostname = hn;
  if (h.priority) o.priority = h.priority;
  const loc = locality(h);
  const l: Json = {};
  if (loc.region) l.region = loc.region;
  if (loc.zone) l.zone = loc.zone;
  if (loc.subZone) l.sub_zone = loc.subZone;
  o.locality = l;
  return o;
}

/** envoy.admin.v3.Clusters in proto3 JSON. */
export function renderClustersJson(clusters: Iterable<ClusterRuntime>): Json {
  const cluster_statuses: Json[] = [];
  for (const c of clusters) {
    cluster_statuses.push({
      name: c.name,
      host_statuses: c.hosts.map(hostStatusJson),
      circuit_breakers: { thresholds: [thresholds(c.config.circuitBreakers), thresholds(HIGH_DEFAULTS, 'HIGH')] },
      observability_name: c.name,
    });
  }
  return { cluster_statuses };
}

export function clustersRoutes(): Array<[string, AdminRoute]> {
  return [
    [
      '/clusters',
      {
        method: 'GET',
        help: 'upstream cluster status',
        handle: ({ engine, res, url }) => {
          const clusters = engine.snapshot?.clusters.values() ?? [];
          if (url.searchParams.get('format') === 'json') json(res, renderClustersJson(clusters));
          else text(res, renderClustersText(clusters));
        },
      },
    ],
  ];
}
