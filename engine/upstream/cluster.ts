// A cluster at run time: its hosts (resolved from load_assignment, by DNS for STRICT_DNS and
// LOGICAL_DNS), their connection pools, the load balancer over them, circuit-breaker counters
// and stats.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Pool } from 'undici';
import type { Cluster, LbEndpoint, LocalityLbEndpoints } from '../config/model';
import type { Host } from './host';
import type { PoolCache, PoolOptions } from './pool-cache';
import { ClusterLoadBalancer } from '../lb/cluster-lb';
import { getLbPolicy } from '../lb/registry';
import type { LbContext, LbEnv } from '../lb/types';
import { createLbEnv } from '../lb/env';
import { clusterStats, countConnections, type ClusterStats, type HostStats, type StatsStore } from '../observe/stats';
import type { Logger } from '../log';

export class UpstreamHost implements Host {
  healthy: boolean;
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
    readonly pool: Pool,
  ) {
    this.key = `${address}:${port}`;
    // EDS/static health_status: UNHEALTHY, DRAINING and TIMEOUT hosts take no traffic.
    this.healthy = healthStatus !== 'UNHEALTHY' && healthStatus !== 'DRAINING' && healthStatus !== 'TIMEOUT';
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
  ) {
    this.name = config.name;
    // Per cluster: latency-aware balancing keeps its own decay time and history.
    this.env = createLbEnv(config.lbPolicy, config.lbConfig, { random });
    this.stats = clusterStats(store, config.name);
    this.poolOptions = { connectTimeoutMs: config.connectTimeoutMs, maxConnections: config.circuitBreakers.maxConnections };
    this.lb = this.buildLb([]);
    if (config.type === 'STATIC') this.setHosts(this.specs().map((s) => this.makeHost(s, s.ep.address.address)));
  }

  /** Resolves DNS clusters once (startup waits for it, as Envoy's cluster init does) and keeps refreshing. */
  async initialize(): Promise<void> {
    if (this.config.type === 'STATIC') return;
    await this.resolve();
    const every = Math.max(100, this.config.dnsRefreshRateMs);
    this.dnsTimer = setInterval(() => void this.resolve(), every);
    this.dnsTimer.unref();
  }

  chooseHost(ctx: LbContext): UpstreamHost | undefined {
    return this.lb.chooseHost(ctx) as UpstreamHost | undefined;
  }

  /** Latency feedback for latency-aware balancing. */
  recordLatency(host: UpstreamHost, ms: number): void {
    this.env.latency.record(host, ms, this.env.now());
  }

  /** Health or membership changed: rebuild the balancer (never done per request). */
  refresh(): void {
    this.lb.refresh();
    this.stats.membership_healthy.set(this.hosts.reduce((n, h) => n + (h.healthy ? 1 : 0), 0));
  }

  get panicCount(): number {
    return this.lb.panicCount;
  }

  close(): void {
    this.closed = true;
    if (this.dnsTimer) clearInterval(this.dnsTimer);
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
    this.hosts = next;
    this.lb = this.buildLb(next);
    for (const h of old) this.pools.release(h.address, h.port, this.poolOptions);
    this.stats.membership_total.set(next.length);
    this.stats.membership_healthy.set(next.reduce((n, h) => n + (h.healthy ? 1 : 0), 0));
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
      h.healthy = prev.healthy;
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
