// A cluster at run time: its hosts (resolved from load_assignment, by DNS for STRICT_DNS and
// LOGICAL_DNS), their connection pools, the load balancer over them, circuit-breaker counters
// and stats, and each host's health: its endpoint health_status, active health checks
// (health-check.ts) and outlier ejections (outlier-detection.ts) — any of them failing takes the
// host out of the load balancer (the panic threshold may bring it back).

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Cluster, LbEndpoint, LocalityLbEndpoints } from '../config/model';
import type { Host } from './host';
import type { UpstreamPool } from './http1/handler';
import type { PoolCache, PoolOptions } from './pool-cache';
import { ClusterLoadBalancer } from '../lb/cluster-lb';
import { getLbPolicy } from '../lb/registry';
import type { LbContext, LbEnv } from '../lb/types';
import { createLbEnv } from '../lb/env';
import { clusterStats, countConnections, type ClusterStats, type HostStats, type StatsStore } from '../observe/stats';
import type { Logger } from '../log';
import { HealthChecker, healthCheckStats, type HcTransition, type HealthCheckStats } from './health-check';
import { OutlierDetector, type EjectionType, type LocalOriginFailure } from './outlier-detection';
import type { HealthHistory } from './health-events';
import type { HostHealthEvent } from '../admin/contract';

export class UpstreamHost implements Host {
  /** Takes traffic: healthy by its health_status, active health checks and outlier detection. */
  healthy: boolean;
  /** The endpoint's health_status (EDS health) allows traffic. */
  readonly edsHealthy: boolean;
  /** Envoy's health flags FAILED_ACTIVE_HC, PENDING_ACTIVE_HC and FAILED_OUTLIER_CHECK. */
  failedActiveHc = false;
  pendingActiveHc = false;
  failedOutlierCheck = false;
  /** Monotonic ms slow start counts from: the host's creation, or the health check that last made it healthy. */
  slowStartFromMono = performance.now();
  activeRequests = 0;
  readonly key: string;
  /** Envoy's per-host stats (and the per-host rq_time histogram); the same object across host rebuilds and reloads. */
  stats!: HostStats;
  constructor(
    readonly address: string,
    readonly port: number,
    readonly weight: number,
    readonly priority: number,
    readonly locality: string,
    readonly localityWeight: number,
    readonly hostname: string,
    healthStatus: string,
    readonly pool: UpstreamPool,
  ) {
    this.key = `${address}:${port}`;
    // EDS/static health_status: UNHEALTHY, DRAINING and TIMEOUT hosts take no traffic.
    this.edsHealthy = healthStatus !== 'UNHEALTHY' && healthStatus !== 'DRAINING' && healthStatus !== 'TIMEOUT';
    this.healthy = this.edsHealthy;
  }

  /** Recompute `healthy` from the flags; true when it changed. */
  updateHealthy(): boolean {
    const h = this.edsHealthy && !this.failedActiveHc && !this.failedOutlierCheck;
    const changed = h !== this.healthy;
    this.healthy = h;
    return changed;
  }

  /** Envoy's HostUtility::healthFlagsToString, as /clusters prints it. */
  get healthFlags(): string {
    let out = '';
    if (this.failedActiveHc) out += '/failed_active_hc';
    if (this.failedOutlierCheck) out += '/failed_outlier_check';
    if (!this.edsHealthy) out += '/failed_eds_health';
    if (this.pendingActiveHc) out += '/pending_active_hc';
    return out || 'healthy';
  }
}

interface EndpointSpec {
  ep: LbEndpoint;
  group: LocalityLbEndpoints;
}

export class ClusterRuntime {
  readonly name: string;
  readonly stats: ClusterStats;
  hosts: UpstreamHost[] = [];
  private lb: ClusterLoadBalancer;
  private readonly poolOptions: PoolOptions;
  private readonly env: LbEnv;
  private dnsTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Active health checking (health_checks[0]); undefined when none is configured. */
  readonly healthChecker: HealthChecker<UpstreamHost> | undefined;
  private readonly hcStats: HealthCheckStats | undefined;
  /** Outlier detection; undefined when outlier_detection is not set. */
  readonly outlier: OutlierDetector<UpstreamHost> | undefined;
  private panicSeen = 0;
  /** Circuit-breaker accounting (DEFAULT priority). */
  activeRequests = 0;
  pendingRequests = 0;
  activeRetries = 0;

  constructor(
    readonly config: Cluster,
    private readonly pools: PoolCache,
    private readonly store: StatsStore,
    random: () => number,
    private readonly log: Logger,
    /** Where host health changes are recorded (and emitted) for the console. */
    private readonly history?: HealthHistory,
  ) {
    this.name = config.name;
    // Per cluster: latency-aware balancing keeps its own decay time and history.
    this.env = createLbEnv(config.lbPolicy, config.lbConfig, { random });
    this.stats = clusterStats(store, config.name);
    this.poolOptions = {
      connectTimeoutMs: config.connectTimeoutMs,
      maxConnections: config.circuitBreakers.maxConnections,
      // TLS and HTTP/2 (engine/upstream/pool-cache.ts).
      protocol: config.upstreamProtocol,
      maxConcurrentStreams: config.http2MaxConcurrentStreams,
      tls: config.tls,
      where: `cluster '${config.name}' transport_socket`,
    };
    const hc = config.healthChecks[0];
    if (hc) {
      this.hcStats = healthCheckStats(store, config.name);
      this.healthChecker = new HealthChecker<UpstreamHost>(hc, config.name, this.hcStats, {
        onResult: (host, t, why) => this.onHealthCheck(host, t, why),
        hadTraffic: () => this.stats.upstream_cx_total.used,
      }, random);
    }
    if (config.outlierDetection) {
      this.outlier = new OutlierDetector<UpstreamHost>(config.outlierDetection, config.name, store, {
        onChange: (host, ejected, type, ms) => this.onOutlier(host, ejected, type, ms),
      }, random, () => this.env.now());
    }
    this.lb = this.buildLb([]);
    if (config.type === 'STATIC') this.setHosts(this.specs().map((s) => this.makeHost(s, s.ep.address.address)));
  }

  /** Resolves DNS clusters once (startup waits for it, as Envoy's cluster init does) and keeps refreshing. */
  async initialize(): Promise<void> {
    if (this.config.type !== 'STATIC') {
      await this.resolve();
      const every = Math.max(100, this.config.dnsRefreshRateMs);
      this.dnsTimer = setInterval(() => void this.resolve(), every);
      this.dnsTimer.unref();
    }
    // As Envoy's cluster initialization does, wait for the first round of health checks, so that
    // traffic starts on hosts known to be healthy (each check ends by its timeout; the cap is a safety net).
    const hc = this.config.healthChecks[0];
    if (this.healthChecker && hc) await this.healthChecker.firstRound(hc.timeoutMs + hc.initialJitterMs + 5000);
  }

  chooseHost(ctx: LbContext): UpstreamHost | undefined {
    const host = this.lb.chooseHost(ctx) as UpstreamHost | undefined;
    const panics = this.lb.panicCount;
    if (panics !== this.panicSeen) {
      this.stats.lb_healthy_panic.inc(panics - this.panicSeen);
      this.panicSeen = panics;
    }
    return host;
  }

  /** An upstream response's status, for outlier detection. */
  observeResponse(host: UpstreamHost, status: number): void {
    this.outlier?.putHttpResponseCode(host, status);
  }

  /** A try that got no response, for outlier detection. */
  observeFailure(host: UpstreamHost, kind: LocalOriginFailure): void {
    this.outlier?.putLocalOriginFailure(host, kind);
  }

  private onHealthCheck(host: UpstreamHost, t: HcTransition, why: string): void {
    if (this.closed || t !== 'changed') {
      if (t !== 'changed') this.refreshHcGauge();
      return;
    }
    // A host made healthy by its health check starts its slow start now (Envoy's lastHcPassTime).
    if (!host.failedActiveHc) host.slowStartFromMono = this.env.now();
    const changed = host.updateHealthy();
    this.log.info(`cluster '${this.name}': host ${host.key} ${host.failedActiveHc ? 'failed' : 'passed'} its health check (${why})`);
    this.record(host, host.failedActiveHc ? 'hc_failed' : 'hc_passed', why);
    if (changed) this.refresh();
    else this.refreshHcGauge();
  }

  private onOutlier(host: UpstreamHost, ejected: boolean, type: EjectionType | undefined, ms: number): void {
    if (this.closed) return;
    const changed = host.updateHealthy();
    this.log.info(`cluster '${this.name}': host ${host.key} ${ejected ? `ejected (${type}) for ${ms} ms` : 'unejected'}`);
    this.record(host, ejected ? 'ejected' : 'unejected', type ?? 'ejection time elapsed', ejected ? ms : undefined);
    if (changed) this.refresh();
  }

  private record(host: UpstreamHost, kind: HostHealthEvent['kind'], reason: string, ejectionMs?: number): void {
    const e: HostHealthEvent = { t: Date.now(), cluster: this.name, host: host.key, kind, reason, healthy: host.healthy, flags: host.healthFlags };
    if (ejectionMs !== undefined) e.ejectionMs = ejectionMs;
    this.history?.record(e);
  }

  private refreshHcGauge(): void {
    if (this.hcStats) this.hcStats.healthy.set(this.hosts.reduce((n, h) => n + (h.failedActiveHc ? 0 : 1), 0));
  }

  /** Latency feedback for latency-aware balancing. */
  recordLatency(host: UpstreamHost, ms: number): void {
    this.env.latency.record(host, ms, this.env.now());
  }

  /** Health or membership changed: rebuild the balancer (never done per request). */
  refresh(): void {
    this.lb.refresh();
    this.stats.membership_healthy.set(this.hosts.reduce((n, h) => n + (h.healthy ? 1 : 0), 0));
    this.refreshHcGauge();
  }

  get panicCount(): number {
    return this.lb.panicCount;
  }

  close(): void {
    this.closed = true;
    if (this.dnsTimer) clearInterval(this.dnsTimer);
    this.healthChecker?.close();
    this.outlier?.close();
    for (const h of this.hosts) this.pools.release(h.address, h.port, this.poolOptions);
    this.hosts = [];
  }

  private specs(): EndpointSpec[] {
    const out: EndpointSpec[] = [];
    for (const group of this.config.endpoints) for (const ep of group.lbEndpoints) out.push({ ep, group });
    return out;
  }

  private makeHost(s: EndpointSpec, ip: string): UpstreamHost {
    const pool = this.pools.acquire(ip, s.ep.address.port, this.poolOptions);
    const loc = s.group.locality;
    const host = new UpstreamHost(
      ip,
      s.ep.address.port,
      s.ep.weight,
      s.group.priority,
      `${loc.region}/${loc.zone}/${loc.subZone}`,
      s.group.loadBalancingWeight,
      s.ep.hostname || s.ep.address.address,
      s.ep.healthStatus,
      pool,
    );
    host.stats = this.store.hostStats(this.name, host.key);
    countConnections(pool, host.stats.cx_total, this.stats.upstream_cx_total);
    return host;
  }

  private buildLb(hosts: UpstreamHost[]): ClusterLoadBalancer {
    const policy = getLbPolicy(this.config.lbPolicy);
    if (!policy) throw new Error(`cluster '${this.name}': load-balancing policy '${this.config.lbPolicy}' is not registered`);
    return new ClusterLoadBalancer(hosts, policy, this.config.lbConfig, this.config.commonLbConfig, this.env);
  }

  private setHosts(next: UpstreamHost[]): void {
    const old = this.hosts;
    const prevByKey = new Map(old.map((h) => [h.key, h]));
    for (const h of next) {
      // A host new to an actively checked cluster waits for its first check before taking traffic.
      if (this.healthChecker && !prevByKey.has(h.key)) {
        h.failedActiveHc = true;
        h.pendingActiveHc = true;
      }
      h.updateHealthy();
    }
    this.hosts = next;
    this.healthChecker?.setHosts(next);
    this.outlier?.setHosts(next, (h) => prevByKey.get(h.key));
    this.lb = this.buildLb(next);
    for (const h of old) this.pools.release(h.address, h.port, this.poolOptions);
    this.stats.membership_total.set(next.length);
    this.stats.membership_healthy.set(next.reduce((n, h) => n + (h.healthy ? 1 : 0), 0));
    this.refreshHcGauge();
  }

  private async resolve(): Promise<void> {
    const next: UpstreamHost[] = [];
    for (const s of this.specs()) {
      const name = s.ep.address.address;
      let ips: string[];
      if (isIP(name)) ips = [name];
      else {
        try {
          ips = await resolveFamily(name, this.config.dnsLookupFamily);
        } catch (err) {
          this.log.debug(`cluster '${this.name}': DNS lookup of '${name}' failed: ${(err as Error).message}`);
          ips = [];
        }
      }
      if (this.config.type === 'LOGICAL_DNS') ips = ips.slice(0, 1);
      for (const ip of ips) next.push(this.makeHostKeepingState(s, ip));
    }
    if (this.closed) {
      for (const h of next) this.pools.release(h.address, h.port, this.poolOptions);
      return;
    }
    const sameSet = next.length === this.hosts.length && next.every((h, i) => h.key === this.hosts[i].key);
    if (sameSet) {
      // Nothing changed: give back the extra pool references we just took.
      for (const h of next) this.pools.release(h.address, h.port, this.poolOptions);
      return;
    }
    this.setHosts(next);
  }

  private makeHostKeepingState(s: EndpointSpec, ip: string): UpstreamHost {
    const h = this.makeHost(s, ip);
    const prev = this.hosts.find((o) => o.key === h.key);
    if (prev) {
      h.activeRequests = prev.activeRequests;
      h.failedActiveHc = prev.failedActiveHc;
      h.pendingActiveHc = prev.pendingActiveHc;
      h.failedOutlierCheck = prev.failedOutlierCheck;
      h.slowStartFromMono = prev.slowStartFromMono;
      h.updateHealthy();
    }
    return h;
  }
}

async function resolveFamily(name: string, family: Cluster['dnsLookupFamily']): Promise<string[]> {
  const all = await lookup(name, { all: true, verbatim: true });
  const v4 = all.filter((a) => a.family === 4).map((a) => a.address);
  const v6 = all.filter((a) => a.family === 6).map((a) => a.address);
  switch (family) {
    case 'V4_ONLY':
      return v4;
    case 'V6_ONLY':
      return v6;
    case 'V4_PREFERRED':
      return v4.length ? v4 : v6;
    case 'ALL':
      return [...v4, ...v6];
    case 'AUTO':
    default:
      return v6.length ? v6 : v4;
  }
}
