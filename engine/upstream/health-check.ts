// Active HTTP health checking, as Envoy's HealthCheckerImplBase and HttpHealthCheckerImpl do it
// (source/extensions/health_checkers/common/health_checker_base_impl.cc, http/health_checker_impl.cc):
//
// - One session per host, one check in flight at a time, over its own keep-alive connection
//   (reuse_connection defaults to true).
// - Hosts start FAILED_ACTIVE_HC (and PENDING_ACTIVE_HC) until their first check; the very first
//   success makes a host healthy at once, later ones need healthy_threshold passes in a row.
// - A status outside expected_statuses fails the host at once (unless it is one of
//   retriable_statuses); a timeout or a connection failure is a network failure, and only
//   unhealthy_threshold of them in a row fail the host.
// - The next check is due after interval (healthy), unhealthy_interval (unhealthy), or the edge
//   intervals while a change is pending; no_traffic_interval while the cluster has carried no
//   traffic; plus interval_jitter_percent of it and interval_jitter, drawn at random.

import { Agent, request, type ClientRequest } from 'node:http';
import type { HealthCheck } from '../config/model';
import type { Counter, Gauge, StatsStore } from '../observe/stats';

/** What the checker needs of a host. */
export interface CheckedHost {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  failedActiveHc: boolean;
  pendingActiveHc: boolean;
}

export type HcTransition = 'unchanged' | 'pending' | 'changed';

export interface HealthCheckerCallbacks<H extends CheckedHost> {
  /** A check finished; `changed` = the host's FAILED_ACTIVE_HC flag flipped. `why` says what the check saw. */
  onResult(host: H, transition: HcTransition, why: string): void;
  /** Whether the cluster has carried traffic (Envoy: upstream_cx_total was ever used). */
  hadTraffic(): boolean;
}

export interface HealthCheckStats {
  attempt: Counter;
  success: Counter;
  failure: Counter;
  passive_failure: Counter;
  network_failure: Counter;
  verify_cluster: Counter;
  healthy: Gauge;
  degraded: Gauge;
}

export function healthCheckStats(store: StatsStore, cluster: string): HealthCheckStats {
  const p = `cluster.${cluster}.health_check.`;
  return {
    attempt: store.counter(`${p}attempt`),
    success: store.counter(`${p}success`),
    failure: store.counter(`${p}failure`),
    passive_failure: store.counter(`${p}passive_failure`),
    network_failure: store.counter(`${p}network_failure`),
    verify_cluster: store.counter(`${p}verify_cluster`),
    healthy: store.gauge(`${p}healthy`),
    degraded: store.gauge(`${p}degraded`),
  };
}

const inRanges = (code: number, ranges: ReadonlyArray<[number, number]>): boolean => ranges.some(([a, b]) => code >= a && code < b);

class Session<H extends CheckedHost> {
  private timer: NodeJS.Timeout | undefined;
  private req: ClientRequest | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private firstCheck = true;
  private numHealthy = 0;
  private numUnhealthy = 0;
  private closed = false;
  /** Resolves after the first check's result (cluster warm-up waits on it, as Envoy's init does). */
  readonly firstResult: Promise<void>;
  private resolveFirst!: () => void;

  constructor(
    /** Replaced when a DNS refresh rebuilds the host object (its flags are carried over). */
    public host: H,
    private readonly checker: HealthChecker<H>,
  ) {
    this.firstResult = new Promise((r) => (this.resolveFirst = r));
  }

  start(delayMs: number): void {
    this.schedule(delayMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.req?.destroy();
    this.agent.destroy();
    this.resolveFirst();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref();
  }

  private check(): void {
    const c = this.checker;
    const cfg = c.config.http;
    c.stats.attempt.inc();
    const headers: Record<string, string> = { 'user-agent': 'Envoy/HC', host: cfg.host || c.clusterName };
    for (const h of cfg.requestHeadersToAdd) {
      const k = h.key.toLowerCase();
      if (h.appendAction === 'ADD_IF_ABSENT' && headers[k] !== undefined) continue;
      if (h.appendAction === 'OVERWRITE_IF_EXISTS' && headers[k] === undefined) continue;
      headers[k] = h.appendAction === 'APPEND_IF_EXISTS_OR_ADD' && headers[k] !== undefined ? `${headers[k]},${h.value}` : h.value;
    }
    for (const k of cfg.requestHeadersToRemove) delete headers[k.toLowerCase()];
    let settled = false;
    const done = (ok: boolean, kind: 'active' | 'network', retriable: boolean, why: string) => {
      if (settled || this.closed) return;
      settled = true;
      clearTimeout(timeout);
      this.req = undefined;
      if (ok) this.handleSuccess(why);
      else this.handleFailure(kind, retriable, why);
    };
    const timeout = setTimeout(() => {
      req.destroy();
      done(false, 'network', true, 'timeout');
    }, c.config.timeoutMs);
    timeout.unref();
    const req = request({ host: this.host.address, port: this.host.port, path: cfg.path, method: cfg.method, headers, agent: this.agent }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      const immediateFail = res.headers['x-envoy-immediate-health-check-fail'] !== undefined;
      // Envoy judges the check on the complete response.
      res.once('end', () => {
        if (!immediateFail && inRanges(code, cfg.expectedStatuses)) done(true, 'active', false, `status ${code}`);
        else done(false, 'active', !immediateFail && inRanges(code, cfg.retriableStatuses), immediateFail ? 'x-envoy-immediate-health-check-fail' : `status ${code}`);
      });
      res.once('error', () => done(false, 'network', true, 'connection reset'));
    });
    req.once('error', (err: NodeJS.ErrnoException) => done(false, 'network', true, err.code === 'ECONNREFUSED' ? 'connection refused' : `connection failure (${err.code ?? err.message})`));
    req.end();
    this.req = req;
  }

  private handleSuccess(why: string): void {
    const c = this.checker;
    let t: HcTransition = 'unchanged';
    this.numUnhealthy = 0;
    if (this.host.failedActiveHc) {
      // The first result ever makes a host healthy at once (faster start-up, as in Envoy).
      if (this.firstCheck || ++this.numHealthy >= c.config.healthyThreshold) {
        this.host.failedActiveHc = false;
        this.numHealthy = 0;
        t = 'changed';
      } else t = 'pending';
    }
    this.host.pendingActiveHc = false;
    c.stats.success.inc();
    this.afterResult(t, why, true);
  }

  private handleFailure(kind: 'active' | 'network', retriable: boolean, why: string): void {
    const c = this.checker;
    let t: HcTransition = 'unchanged';
    this.numHealthy = 0;
    if (!this.host.failedActiveHc) {
      // An unexpected status fails the host at once; network failures (and retriable statuses) need unhealthy_threshold in a row.
      if ((!retriable && kind !== 'network') || ++this.numUnhealthy >= c.config.unhealthyThreshold) {
        this.host.failedActiveHc = true;
        this.numUnhealthy = 0;
        t = 'changed';
      } else t = 'pending';
    }
    this.host.pendingActiveHc = false;
    c.stats.failure.inc();
    if (kind === 'network') c.stats.network_failure.inc();
    this.afterResult(t, why, false);
  }

  private afterResult(t: HcTransition, why: string, healthyState: boolean): void {
    this.firstCheck = false;
    this.checker.onResult(this.host, t, why);
    this.resolveFirst();
    this.schedule(this.checker.nextInterval(healthyState && !this.host.failedActiveHc, t));
  }
}

export class HealthChecker<H extends CheckedHost> {
  private readonly sessions = new Map<string, Session<H>>();
  private closed = false;

  constructor(
    readonly config: HealthCheck,
    readonly clusterName: string,
    readonly stats: HealthCheckStats,
    private readonly callbacks: HealthCheckerCallbacks<H>,
    private readonly random: () => number,
  ) {}

  /** Envoy's HealthCheckerImplBase::interval with intervalWithJitter. */
  nextInterval(healthy: boolean, t: HcTransition): number {
    const c = this.config;
    let base: number;
    if (!this.callbacks.hadTraffic()) base = c.noTrafficIntervalMs;
    else if (!healthy) base = t === 'pending' ? c.healthyEdgeIntervalMs : c.unhealthyIntervalMs;
    else base = t === 'pending' ? c.unhealthyEdgeIntervalMs : c.intervalMs;
    const pct = Math.floor((c.intervalJitterPercent * base) / 100);
    if (pct > 0) base += Math.floor(this.random() * pct);
    if (c.intervalJitterMs > 0) base += Math.floor(this.random() * c.intervalJitterMs);
    return Math.max(1, base);
  }

  /** Start checking these hosts (new ones begin FAILED_ACTIVE_HC, pending their first check); stop checking the others. */
  setHosts(hosts: readonly H[]): void {
    if (this.closed) return;
    const keep = new Set(hosts.map((h) => h.key));
    for (const [key, s] of this.sessions) {
      if (!keep.has(key)) {
        s.close();
        this.sessions.delete(key);
      }
    }
    for (const h of hosts) {
      const existing = this.sessions.get(h.key);
      if (existing) {
        existing.host = h;
        continue;
      }
      const s = new Session(h, this);
      this.sessions.set(h.key, s);
      const jitter = this.config.initialJitterMs > 0 ? Math.floor(this.random() * this.config.initialJitterMs) : 0;
      s.start(jitter);
    }
  }

  /** Every current host has had its first result (or `maxWaitMs` passed). */
  async firstRound(maxWaitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((r) => (timer = setTimeout(r, maxWaitMs)));
    await Promise.race([Promise.all([...this.sessions.values()].map((s) => s.firstResult)), cap]);
    clearTimeout(timer);
  }

  onResult(host: H, t: HcTransition, why: string): void {
    this.callbacks.onResult(host, t, why);
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
