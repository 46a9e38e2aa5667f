// Envoy-named stats. Handles are resolved when a config snapshot is built (`store.counter(name)`)
// and the request path only bumps fields on objects it already holds. A stat survives reloads:
// asking the store for the same name again returns the same handle, as in Envoy.
//
// Names follow Envoy: cluster.<name>.*, http.<stat_prefix>.*, listener.<address>.* (the bound
// address with ':' as '_', e.g. listener.127.0.0.1_10000.), server.*. Per-host stats (Envoy's
// cx_*, rq_* shown by /clusters, plus Meshdeck's per-host latency histogram rq_time) live beside
// them, keyed by cluster and host address, and are not part of /stats, as in Envoy.

import { Histogram, type IntervalSnapshot } from './histogram';

export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  inc(n = 1): void {
    this.value += n;
  }
  /** Incremented at least once (Envoy's `used`). */
  get used(): boolean {
    return this.value !== 0;
  }
}

export class Gauge {
  value = 0;
  /** Changed at least once (Envoy's `used`). */
  used = false;
  constructor(readonly name: string) {}
  inc(n = 1): void {
    this.value += n;
    this.used = true;
  }
  dec(n = 1): void {
    this.value -= n;
    this.used = true;
  }
  set(v: number): void {
    this.value = v;
    this.used = true;
  }
}

export { Histogram };

/** Envoy's per-host stats (Upstream::HostStats), plus Meshdeck's per-host latency histogram. */
export interface HostStats {
  readonly cluster: string;
  /** "address:port" */
  readonly host: string;
  cx_connect_fail: Counter;
  cx_total: Counter;
  rq_error: Counter;
  rq_success: Counter;
  rq_timeout: Counter;
  rq_total: Counter;
  /** Set when read (from the host's pool and in-flight count): see readHostStats. */
  cx_active: Gauge;
  rq_active: Gauge;
  /** Meshdeck's addition (Envoy has no per-host histogram): each try's time from sending to the complete response, ms. */
  rq_time: Histogram;
}

/** What a flush hands its listeners: the time, and every histogram's closed interval. */
export interface FlushEvent {
  atMs: number;
  /** Stat name → interval, for the histograms /stats shows. */
  histograms: Map<string, IntervalSnapshot>;
  /** Per-host rq_time intervals, keyed `${cluster}\u0000${host}`. */
  hosts: Map<string, IntervalSnapshot>;
}

export type FlushListener = (e: FlushEvent) => void;

/** Envoy flushes every 5 s by default (stats_flush_interval); the console wants per-second points. */
export const FLUSH_INTERVAL_MS = 1000;

export class StatsStore {
  private readonly counterMap = new Map<string, Counter>();
  private readonly gaugeMap = new Map<string, Gauge>();
  private readonly histogramMap = new Map<string, Histogram>();
  private readonly hostMap = new Map<string, HostStats>();
  private readonly flushListeners = new Set<FlushListener>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  counter(name: string): Counter {
    let c = this.counterMap.get(name);
    if (!c) this.counterMap.set(name, (c = new Counter(name)));
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gaugeMap.get(name);
    if (!g) this.gaugeMap.set(name, (g = new Gauge(name)));
    return g;
  }

  histogram(name: string): Histogram {
    let h = this.histogramMap.get(name);
    if (!h) {
      h = new Histogram(name);
      if (this.closed) h.close();
      this.histogramMap.set(name, h);
    }
    return h;
  }

  /** The per-host stats of `host` ("address:port") in `cluster`; the same object for as long as the store lives. */
  hostStats(cluster: string, host: string): HostStats {
    const key = `${cluster}\u0000${host}`;
    let s = this.hostMap.get(key);
    if (!s) {
      const rqTime = new Histogram(`cluster.${cluster}.${host}.rq_time`);
      if (this.closed) rqTime.close();
      s = {
        cluster,
        host,
        cx_connect_fail: new Counter('cx_connect_fail'),
        cx_total: new Counter('cx_total'),
        rq_error: new Counter('rq_error'),
        rq_success: new Counter('rq_success'),
        rq_timeout: new Counter('rq_timeout'),
        rq_total: new Counter('rq_total'),
        cx_active: new Gauge('cx_active'),
        rq_active: new Gauge('rq_active'),
        rq_time: rqTime,
      };
      this.hostMap.set(key, s);
    }
    return s;
  }

  /** Existing per-host stats of a cluster (hosts that are gone included), in creation order. */
  hostStatsOf(cluster: string): HostStats[] {
    return [...this.hostMap.values()].filter((s) => s.cluster === cluster);
  }

  counters(): IterableIterator<Counter> {
    return this.counterMap.values();
  }

  gauges(): IterableIterator<Gauge> {
    return this.gaugeMap.values();
  }

  histograms(): IterableIterator<Histogram> {
    return this.histogramMap.values();
  }

  /** name → value for every counter and gauge, sorted by name (the /stats text order). */
  snapshot(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const c of this.counterMap.values()) out.push([c.name, c.value]);
    for (const g of this.gaugeMap.values()) out.push([g.name, g.value]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  get(name: string): number | undefined {
    return this.counterMap.get(name)?.value ?? this.gaugeMap.get(name)?.value;
  }

  /**
   * Closes the current interval of every histogram (per-host ones too) and tells the listeners.
   * The engine calls it every FLUSH_INTERVAL_MS; tests may call it directly.
   */
  flush(nowMs = Date.now()): FlushEvent {
    const e: FlushEvent = { atMs: nowMs, histograms: new Map(), hosts: new Map() };
    for (const h of this.histogramMap.values()) e.histograms.set(h.name, h.snapshotInterval(nowMs));
    for (const [key, s] of this.hostMap) e.hosts.set(key, s.rq_time.snapshotInterval(nowMs));
    for (const l of this.flushListeners) {
      try {
        l(e);
      } catch {
        // A listener's failure must not stop the flush for the others.
      }
    }
    return e;
  }

  /** Called after every flush; returns the unsubscribe function. */
  onFlush(listener: FlushListener): () => void {
    this.flushListeners.add(listener);
    return () => this.flushListeners.delete(listener);
  }

  /** Flush every `intervalMs` until close(). */
  startFlushing(intervalMs = FLUSH_INTERVAL_MS): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Stops flushing and frees the histograms' memory; counters and gauges stay readable. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    for (const h of this.histogramMap.values()) h.close();
    for (const s of this.hostMap.values()) s.rq_time.close();
  }
}

/** Envoy's per-host values as /clusters shows them, refreshing the gauges from the live host. */
export function readHostStats(host: { stats: HostStats; activeRequests: number; pool: { stats: { connected: number } } }): HostStats {
  const s = host.stats;
  s.rq_active.set(host.activeRequests);
  let connected = 0;
  try {
    connected = host.pool.stats.connected;
  } catch {
    // A closed pool has no stats.
  }
  s.cx_active.set(connected);
  return s;
}

/** The counters, in Envoy's order (HostStats: counters, then gauges), for /clusters. */
export function hostCounters(s: HostStats): Counter[] {
  return [s.cx_connect_fail, s.cx_total, s.rq_error, s.rq_success, s.rq_timeout, s.rq_total];
}

export function hostGauges(s: HostStats): Gauge[] {
  return [s.cx_active, s.rq_active];
}

interface ConnectEmitter {
  on(event: 'connect', listener: (...args: unknown[]) => void): unknown;
}

const connectCounters = new WeakMap<object, Set<Counter>>();

/**
 * Counts every new connection `pool` opens in `counters` (a host's cx_total, its cluster's
 * upstream_cx_total). Pools are shared across snapshots, so one listener per pool, whatever
 * number of host objects come and go over it.
 */
export function countConnections(pool: ConnectEmitter, ...counters: Counter[]): void {
  let set = connectCounters.get(pool);
  if (!set) {
    const s = new Set<Counter>();
    connectCounters.set(pool, s);
    pool.on('connect', () => {
      for (const c of s) c.inc();
    });
    set = s;
  }
  for (const c of counters) set.add(c);
}

/** The cluster.<name>.* stats the router and the connection pools bump. */
export function clusterStats(store: StatsStore, cluster: string) {
  const p = `cluster.${cluster}.`;
  const c = (n: string) => store.counter(p + n);
  const g = (n: string) => store.gauge(p + n);
  const byCode: Array<Counter | undefined> = [];
  const stats = {
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
    upstream_cx_total: c('upstream_cx_total'),
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
    /** From the request being complete downstream to the upstream response being complete, ms (Envoy's upstream_rq_time). */
    upstream_rq_time: store.histogram(`${p}upstream_rq_time`),
    /** cluster.<name>.upstream_rq_<code>: created the first time a code is seen, then an array index. */
    upstreamRqCode(code: number): Counter {
      return byCode[code] ?? (byCode[code] = c(`upstream_rq_${code}`));
    },
    /**
     * Envoy's chargeUpstreamCode for a response the router made up (a timeout's 504, a reset's
     * 503): upstream_rq_completed, the class and the code.
     */
    chargeLocalReply(code: number): void {
      stats.upstream_rq_completed.inc();
      if (code >= 500) stats.upstream_rq_5xx.inc();
      else if (code >= 400) stats.upstream_rq_4xx.inc();
      stats.upstreamRqCode(code).inc();
    },
  };
  return stats;
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
    downstream_rq_http2_total: c('downstream_rq_http2_total'),
    downstream_cx_ssl_total: c('downstream_cx_ssl_total'),
    downstream_cx_http1_total: c('downstream_cx_http1_total'),
    downstream_cx_http2_total: c('downstream_cx_http2_total'),
    downstream_rq_1xx: c('downstream_rq_1xx'),
    downstream_rq_2xx: c('downstream_rq_2xx'),
    downstream_rq_3xx: c('downstream_rq_3xx'),
    downstream_rq_4xx: c('downstream_rq_4xx'),
    downstream_rq_5xx: c('downstream_rq_5xx'),
    no_route: c('no_route'),
    no_cluster: c('no_cluster'),
    rq_direct_response: c('rq_direct_response'),
    rq_redirect: c('rq_redirect'),
    /** From the first request byte to the last response byte, ms (Envoy's downstream_rq_time). */
    downstream_rq_time: store.histogram(`${p}downstream_rq_time`),
  };
}
export type HcmStats = ReturnType<typeof hcmStats>;

/** "127.0.0.1:10000" → "127.0.0.1_10000", "[::1]:80" → "[__1]_80": Envoy's listener stat scope. */
export function listenerStatAddress(address: string): string {
  return address.replace(/:/g, '_');
}

/** The listener.<address>.* stats of one bound listener. */
export function listenerStats(store: StatsStore, boundAddress: string) {
  const p = `listener.${listenerStatAddress(boundAddress)}.`;
  return {
    downstream_cx_total: store.counter(`${p}downstream_cx_total`),
    downstream_cx_destroy: store.counter(`${p}downstream_cx_destroy`),
    downstream_cx_active: store.gauge(`${p}downstream_cx_active`),
    /** Connection lifetime, ms. */
    downstream_cx_length_ms: store.histogram(`${p}downstream_cx_length_ms`),
  };
}
export type ListenerStats = ReturnType<typeof listenerStats>;
