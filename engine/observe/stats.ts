// Envoy-named stats. Handles are resolved when a config snapshot is built (`store.counter(name)`)
// and the request path only bumps fields on objects it already holds. A stat survives reloads:
// asking the store for the same name again returns the same handle, as in Envoy.

export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class Gauge {
  value = 0;
  constructor(readonly name: string) {}
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  set(v: number): void {
    this.value = v;
  }
}

export class StatsStore {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new Counter(name)));
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (!g) this.gauges.set(name, (g = new Gauge(name)));
    return g;
  }

  /** name → value for every stat, sorted by name (the /stats text order). */
  snapshot(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const c of this.counters.values()) out.push([c.name, c.value]);
    for (const g of this.gauges.values()) out.push([g.name, g.value]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  get(name: string): number | undefined {
    return this.counters.get(name)?.value ?? this.gauges.get(name)?.value;
  }
}

/** The cluster.<name>.* stats the router and the connection pools bump. */
export function clusterStats(store: StatsStore, cluster: string) {
  const p = `cluster.${cluster}.`;
  const c = (n: string) => store.counter(p + n);
  const g = (n: string) => store.gauge(p + n);
  return {
    upstream_rq_total: c('upstream_rq_total'),
    upstream_rq_completed: c('upstream_rq_completed'),
    upstream_rq_active: g('upstream_rq_active'),
    upstream_rq_pending_active: g('upstream_rq_pending_active'),
    upstream_rq_pending_overflow: c('upstream_rq_pending_overflow'),
    upstream_rq_timeout: c('upstream_rq_timeout'),
    upstream_rq_per_try_timeout: c('upstream_rq_per_try_timeout'),
    upstream_rq_retry: c('upstream_rq_retry'),
    upstream_rq_retry_success: c('upstream_rq_retry_success'),
    upstream_rq_retry_overflow: c('upstream_rq_retry_overflow'),
    upstream_rq_retry_limit_exceeded: c('upstream_rq_retry_limit_exceeded'),
    upstream_rq_1xx: c('upstream_rq_1xx'),
    upstream_rq_2xx: c('upstream_rq_2xx'),
    upstream_rq_3xx: c('upstream_rq_3xx'),
    upstream_rq_4xx: c('upstream_rq_4xx'),
    upstream_rq_5xx: c('upstream_rq_5xx'),
    upstream_cx_connect_fail: c('upstream_cx_connect_fail'),
    upstream_cx_destroy_remote: c('upstream_cx_destroy_remote'),
    upstream_rq_tx_reset: c('upstream_rq_tx_reset'),
    upstream_rq_rx_reset: c('upstream_rq_rx_reset'),
    lb_healthy_panic: c('lb_healthy_panic'),
    membership_total: g('membership_total'),
    membership_healthy: g('membership_healthy'),
    cb_rq_open: g('circuit_breakers.default.rq_open'),
    cb_rq_pending_open: g('circuit_breakers.default.rq_pending_open'),
    cb_rq_retry_open: g('circuit_breakers.default.rq_retry_open'),
  };
}
export type ClusterStats = ReturnType<typeof clusterStats>;

/** The http.<stat_prefix>.* stats of one HTTP connection manager. */
export function hcmStats(store: StatsStore, statPrefix: string) {
  const p = `http.${statPrefix}.`;
  const c = (n: string) => store.counter(p + n);
  const g = (n: string) => store.gauge(p + n);
  return {
    downstream_cx_total: c('downstream_cx_total'),
    downstream_cx_active: g('downstream_cx_active'),
    downstream_cx_protocol_error: c('downstream_cx_protocol_error'),
    downstream_rq_total: c('downstream_rq_total'),
    downstream_rq_active: g('downstream_rq_active'),
    downstream_rq_http1_total: c('downstream_rq_http1_total'),
    downstream_rq_1xx: c('downstream_rq_1xx'),
    downstream_rq_2xx: c('downstream_rq_2xx'),
    downstream_rq_3xx: c('downstream_rq_3xx'),
    downstream_rq_4xx: c('downstream_rq_4xx'),
    downstream_rq_5xx: c('downstream_rq_5xx'),
    no_route: c('no_route'),
    no_cluster: c('no_cluster'),
    rq_direct_response: c('rq_direct_response'),
    rq_redirect: c('rq_redirect'),
  };
}
export type HcmStats = ReturnType<typeof hcmStats>;
