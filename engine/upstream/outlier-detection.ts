// Outlier detection (passive health checking), as Envoy's DetectorImpl does it
// (source/common/upstream/outlier_detection_impl.cc):
//
// - Each response the router gets is charged to its host. The consecutive_5xx-th 5xx in a row (and
//   the consecutive_gateway_failure-th 502/503/504) is detected at once, not at the interval.
// - Every `interval`: ejected hosts whose time is up come back; the success-rate and
//   failure-percentage checks run over the requests of the interval that just ended.
// - An ejection lasts base_ejection_time × the host's backoff (1 on its first ejection, +1 on each
//   further one, capped by max_ejection_time); a host that stays in for base_ejection_time after
//   coming back has its backoff lowered by one at each interval.
// - No more than max_ejection_percent of the hosts are ejected at once, but one host always may be
//   (ejections_overflow counts the refusals); each detection is enforced with probability
//   enforcing_<kind>% (ejections_detected_* count detections, ejections_enforced_* ejections).
// - Without split_external_local_origin_errors, a connection failure counts as a 503 and a timeout
//   as a 504; with it, they feed consecutive_local_origin_failure instead.

import type { OutlierDetection } from '../config/model';
import type { Counter, Gauge, StatsStore } from '../observe/stats';

export type EjectionType = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure' | 'success_rate' | 'failure_percentage';

/** Failures the router sees before any response. */
export type LocalOriginFailure = 'connect_failed' | 'timeout' | 'reset';

export interface OutlierHost {
  readonly key: string;
  failedOutlierCheck: boolean;
}

export interface OutlierCallbacks<H extends OutlierHost> {
  /** The host's FAILED_OUTLIER_CHECK flag flipped. `ejectionMs` = how long it is out for (ejections). */
  onChange(host: H, ejected: boolean, type: EjectionType | undefined, ejectionMs: number): void;
}

class Monitor {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveLocal = 0;
  /** Envoy's ejectTimeBackoff. */
  backoff = 0;
  numEjections = 0;
  lastEjection = 0;
  lastUnejection: number | undefined;
  // Success-rate buckets: `cur` fills during an interval, `prev` is judged at its end.
  curTotal = 0;
  curSuccess = 0;
  /** Success rate (percent) of the last judged interval, -1 when below the request volume. */
  successRate = -1;
}

export function outlierStats(store: StatsStore, cluster: string) {
  const p = `cluster.${cluster}.outlier_detection.`;
  const c = (n: string) => store.counter(p + n);
  const types: EjectionType[] = ['consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure', 'success_rate', 'failure_percentage'];
  const detected = {} as Record<EjectionType, Counter>;
  const enforced = {} as Record<EjectionType, Counter>;
  for (const t of types) {
    detected[t] = c(`ejections_detected_${t}`);
    enforced[t] = c(`ejections_enforced_${t}`);
  }
  return {
    ejections_active: store.gauge(`${p}ejections_active`) as Gauge,
    ejections_enforced_total: c('ejections_enforced_total'),
    ejections_overflow: c('ejections_overflow'),
    /** Deprecated in Envoy but still emitted. */
    ejections_total: c('ejections_total'),
    detected,
    enforced,
  };
}

export class OutlierDetector<H extends OutlierHost> {
  private readonly monitors = new Map<H, Monitor>();
  private readonly timer: NodeJS.Timeout;
  private readonly stats: ReturnType<typeof outlierStats>;
  private active = 0;

  constructor(
    readonly config: OutlierDetection,
    clusterName: string,
    store: StatsStore,
    private readonly callbacks: OutlierCallbacks<H>,
    private readonly random: () => number,
    private readonly now: () => number,
  ) {
    this.stats = outlierStats(store, clusterName);
    this.timer = setInterval(() => this.onInterval(), Math.max(1, config.intervalMs));
    this.timer.unref();
  }

  /** The hosts to watch (a rebuilt host object keeps its monitor when `carry` maps it to the old one). */
  setHosts(hosts: readonly H[], carry?: (h: H) => H | undefined): void {
    const next = new Map<H, Monitor>();
    for (const h of hosts) {
      const prev = carry?.(h);
      next.set(h, (prev && this.monitors.get(prev)) ?? this.monitors.get(h) ?? new Monitor());
    }
    this.monitors.clear();
    for (const [h, m] of next) this.monitors.set(h, m);
    this.active = 0;
    for (const h of hosts) if (h.failedOutlierCheck) this.active++;
    this.stats.ejections_active.set(this.active);
  }

  /** The success rate (percent) of the host's last judged interval; -1 when not judged (Envoy's /clusters success_rate). */
  successRate(host: H): number {
    return this.monitors.get(host)?.successRate ?? -1;
  }

  /** An upstream response's status. */
  putHttpResponseCode(host: H, code: number): void {
    const m = this.monitors.get(host);
    if (!m) return;
    m.curTotal++;
    if (code >= 500 && code <= 599) {
      if (code >= 502 && code <= 504) {
        if (++m.consecutiveGateway === this.config.consecutiveGatewayFailure) this.onConsecutive(host, m, 'consecutive_gateway_failure');
      } else m.consecutiveGateway = 0;
      if (++m.consecutive5xx === this.config.consecutive5xx) this.onConsecutive(host, m, 'consecutive_5xx');
    } else {
      m.curSuccess++;
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
    }
  }

  /** A try that ended without a response (connect failure, timeout, reset). */
  putLocalOriginFailure(host: H, kind: LocalOriginFailure): void {
    if (!this.config.splitExternalLocalOriginErrors) {
      this.putHttpResponseCode(host, kind === 'timeout' ? 504 : 503);
      return;
    }
    const m = this.monitors.get(host);
    if (!m) return;
    if (++m.consecutiveLocal === this.config.consecutiveLocalOriginFailure) this.onConsecutive(host, m, 'consecutive_local_origin_failure');
  }

  close(): void {
    clearInterval(this.timer);
  }

  private onConsecutive(host: H, m: Monitor, type: EjectionType): void {
    if (host.failedOutlierCheck) return;
    // Reset the counter so a further run of errors is detected afresh.
    if (type === 'consecutive_5xx') m.consecutive5xx = 0;
    else if (type === 'consecutive_gateway_failure') m.consecutiveGateway = 0;
    else m.consecutiveLocal = 0;
    this.stats.detected[type].inc();
    this.eject(host, m, type);
  }

  private enforcing(type: EjectionType): number {
    const c = this.config;
    switch (type) {
      case 'consecutive_5xx':
        return c.enforcingConsecutive5xx;
      case 'consecutive_gateway_failure':
        return c.enforcingConsecutiveGatewayFailure;
      case 'consecutive_local_origin_failure':
        return c.enforcingConsecutiveLocalOriginFailure;
      case 'success_rate':
        return c.enforcingSuccessRate;
      case 'failure_percentage':
        return c.enforcingFailurePercentage;
    }
  }

  private eject(host: H, m: Monitor, type: EjectionType): void {
    const c = this.config;
    const maxPercent = Math.min(100, c.maxEjectionPercent);
    const ejectedPercent = (100 * (this.active + 1)) / this.monitors.size;
    // At least one host may always be ejected, whatever max_ejection_percent says.
    if (!(ejectedPercent <= maxPercent || this.active === 0)) {
      this.stats.ejections_overflow.inc();
      return;
    }
    if (!(Math.floor(this.random() * 100) < this.enforcing(type))) return;
    this.active++;
    this.stats.ejections_active.set(this.active);
    this.stats.ejections_enforced_total.inc();
    this.stats.ejections_total.inc();
    this.stats.enforced[type].inc();
    m.numEjections++;
    m.lastEjection = this.now();
    if (m.backoff * c.baseEjectionTimeMs < c.maxEjectionTimeMs + c.baseEjectionTimeMs) m.backoff++;
    host.failedOutlierCheck = true;
    this.callbacks.onChange(host, true, type, this.ejectionMs(m));
  }

  private ejectionMs(m: Monitor): number {
    const c = this.config;
    return Math.min(m.backoff * c.baseEjectionTimeMs, Math.max(c.maxEjectionTimeMs, c.baseEjectionTimeMs));
  }

  private onInterval(): void {
    const now = this.now();
    const c = this.config;
    for (const [h, m] of this.monitors) {
      if (!h.failedOutlierCheck) {
        // In for base_ejection_time since it came back: its next ejection gets shorter.
        if (m.lastUnejection !== undefined && now - m.lastUnejection >= c.baseEjectionTimeMs && m.backoff > 0) m.backoff--;
        continue;
      }
      if (this.ejectionMs(m) <= now - m.lastEjection) {
        this.active--;
        this.stats.ejections_active.set(this.active);
        h.failedOutlierCheck = false;
        m.consecutive5xx = 0;
        m.consecutiveGateway = 0;
        m.consecutiveLocal = 0;
        m.lastUnejection = now;
        this.callbacks.onChange(h, false, undefined, 0);
      }
    }
    // Judge the interval that just ended, then start a new one.
    const judged: Array<{ h: H; m: Monitor; total: number; rate: number }> = [];
    for (const [h, m] of this.monitors) {
      if (!h.failedOutlierCheck && m.curTotal > 0) judged.push({ h, m, total: m.curTotal, rate: (100 * m.curSuccess) / m.curTotal });
      m.successRate = -1;
      m.curTotal = 0;
      m.curSuccess = 0;
    }
    this.successRateEjections(judged);
    this.failurePercentageEjections(judged);
  }

  private successRateEjections(judged: Array<{ h: H; m: Monitor; total: number; rate: number }>): void {
    const c = this.config;
    if (this.monitors.size < c.successRateMinimumHosts) return;
    const valid = judged.filter((j) => j.total >= c.successRateRequestVolume);
    for (const j of valid) j.m.successRate = j.rate;
    if (valid.length === 0 || valid.length < c.successRateMinimumHosts) return;
    const mean = valid.reduce((s, j) => s + j.rate, 0) / valid.length;
    const variance = valid.reduce((s, j) => s + (j.rate - mean) ** 2, 0) / valid.length;
    const threshold = mean - (c.successRateStdevFactor / 1000) * Math.sqrt(variance);
    for (const j of valid) {
      if (j.rate < threshold && !j.h.failedOutlierCheck) {
        this.stats.detected.success_rate.inc();
        this.eject(j.h, j.m, 'success_rate');
      }
    }
  }

  private failurePercentageEjections(judged: Array<{ h: H; m: Monitor; total: number; rate: number }>): void {
    const c = this.config;
    if (this.monitors.size < c.failurePercentageMinimumHosts) return;
    for (const j of judged) {
      if (j.total < c.failurePercentageRequestVolume || j.h.failedOutlierCheck) continue;
      if (100 - j.rate >= c.failurePercentageThreshold) {
        this.stats.detected.failure_percentage.inc();
        this.eject(j.h, j.m, 'failure_percentage');
      }
    }
  }
}
