// The engine's lifecycle: load a config, bind its listeners and the admin endpoint, swap in new
// configs atomically (a rejected one leaves the running one serving), and drain on shutdown.

import { loadConfig } from './config/load';
import type { Bootstrap, Cluster, Diagnostic } from './config/model';
import { BoundListener } from './listener/listener';
import { TlsConfigError } from './listener/tls';
import type { AccessLogSink } from './listener/hcm';
import { createLogger, type Logger } from './log';
import { ClusterRuntime } from './upstream/cluster';
import { PoolCache } from './upstream/pool-cache';
import { HealthHistory } from './upstream/health-events';
import { Snapshot } from './snapshot';
import { StatsStore } from './observe/stats';
import { initHashing } from './lb/xxhash64';
import { AdminServer, type AdminOptions } from './admin/server';
import { EventEmitter } from 'node:events';
import { Observer } from './observe/observer';
import type { KnownCluster } from './observe/timeseries';
import { closeAccessLogs } from './observe/access-log';

export interface ApplyResult {
  ok: boolean;
  version: number;
  diagnostics: Diagnostic[];
}

export interface EngineOptions {
  log?: Logger;
  admin?: Partial<AdminOptions>;
  /** Injected randomness for deterministic tests; Math.random otherwise. */
  random?: () => number;
  /** Receives every finished request's StreamInfo (the access log and the console tap in here). */
  accessLog?: AccessLogSink;
}

interface SharedCluster {
  key: string;
  runtime: ClusterRuntime;
  refs: number;
}

export class Engine {
  readonly log: Logger;
  readonly stats = new StatsStore();
  readonly pools = new PoolCache();
  private readonly listeners = new Map<string, BoundListener>();
  private readonly clusters = new Map<string, SharedCluster>();
  private current: Snapshot | undefined;
  private version = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private admin: AdminServer | undefined;
  private readonly random: () => number;
  private stopping = false;
  /** The console's view of traffic: recent log entries, per-second series, live batches. */
  readonly observer: Observer;
  /** 'config' (version) after every applied config; 'health' (cluster, host, healthy) on changes. */
  readonly events = new EventEmitter();
  /** Host health changes (health checks, ejections) per host, bounded; emitted as 'hostHealth' too. */
  readonly healthHistory = new HealthHistory(this.events);
  /** POST /healthcheck/fail sets it: /ready answers 503 until /healthcheck/ok. */
  healthCheckFailed = false;

  constructor(private readonly options: EngineOptions = {}) {
    this.log = options.log ?? createLogger('info');
    this.random = options.random ?? Math.random;
    this.observer = new Observer(() => this.knownClusters(), { random: this.random });
  }

  get snapshot(): Snapshot | undefined {
    return this.current;
  }

  get adminUrl(): string {
    return this.admin?.url ?? '';
  }

  get adminToken(): string {
    return this.admin?.token ?? '';
  }

  get adminTokenGenerated(): boolean {
    return this.admin?.tokenGenerated ?? false;
  }

  /** Listener name → bound "address:port" (port 0 in the config resolved). */
  boundListeners(): Array<{ name: string; address: string }> {
    return [...this.listeners.values()].map((l) => ({ name: l.name, address: l.addressString }));
  }

  private knownClusters(): KnownCluster[] {
    const snap = this.current;
    if (!snap) return [];
    return [...snap.clusters.values()].map((c) => ({ name: c.name, hosts: c.hosts.map((h) => h.key) }));
  }

  /** First config: everything must bind, or the engine does not start. */
  async start(text: string, sourceName: string): Promise<ApplyResult> {
    await initHashing();
    const result = await this.apply(text, sourceName);
    if (!result.ok) return result;
    const adminCfg = this.current!.bootstrap.admin?.address;
    this.admin = new AdminServer(this, { ...adminOptionsFrom(adminCfg), ...this.options.admin }, this.log);
    try {
      await this.admin.listen();
    } catch (err) {
      await this.stop(0);
      return { ok: false, version: 0, diagnostics: [bindError('admin.address', (err as Error).message)] };
    }
    this.observer.start();
    this.stats.startFlushing();
    return result;
  }

  /** Validate, build and swap in a new config. Serialised: reloads never interleave. */
  apply(text: string, sourceName: string): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(text, sourceName));
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyNow(text: string, sourceName: string): Promise<ApplyResult> {
    if (this.stopping) return { ok: false, version: this.version, diagnostics: [bindError('', 'the engine is shutting down')] };
    const loaded = await loadConfig(text, { sourceName });
    if (!loaded.ok || !loaded.bootstrap) return { ok: false, version: this.version, diagnostics: loaded.diagnostics };
    const bootstrap = loaded.bootstrap;
    const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning');

    // Clusters: an unchanged cluster is shared with the running snapshot (warm pools, live counters).
    const taken: SharedCluster[] = [];
    const runtimes = new Map<string, ClusterRuntime>();
    const fresh: ClusterRuntime[] = [];
    for (const c of bootstrap.clusters) {
      const key = JSON.stringify(c);
      let shared = this.clusters.get(c.name);
      if (!shared || shared.key !== key) {
        let runtime: ClusterRuntime;
        try {
          runtime = new ClusterRuntime(c, this.pools, this.stats, this.random, this.log, this.healthHistory);
        } catch (err) {
          // The loader checks policies and their settings first; this only guards the runtime.
          for (const r of fresh) r.close();
          return { ok: false, version: this.version, diagnostics: [bindError(`static_resources.clusters.${c.name}`, `cannot build cluster '${c.name}': ${(err as Error).message}`, 'cluster_build_failed')] };
        }
        fresh.push(runtime);
        shared = { key, runtime, refs: 0 };
      }
      taken.push(shared);
      runtimes.set(c.name, shared.runtime);
    }
    await Promise.all(fresh.map((r) => r.initialize()));

    const version = this.version + 1;
    const tap = this.options.accessLog;
    const observe = this.observer.onRequest;
    const sink: AccessLogSink = tap ? (info) => (observe(info), tap(info)) : observe;
    const snap = new Snapshot(version, bootstrap, text, sourceName, warnings, runtimes, this.stats, this.random, sink);
    snap.normalized = loaded.normalized;

    // Listeners: keep the bound ones whose address did not change; bind the new ones first, so
    // that a port already in use rejects the whole config and the old one keeps serving.
    const added: BoundListener[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const l of bootstrap.listeners) {
      const existing = this.listeners.get(l.name);
      if (existing && sameAddress(existing.config.address, l.address)) {
        // Its new certificates are read now, so that unusable ones refuse the config.
        try {
          existing.prepare(l);
        } catch (err) {
          diagnostics.push(bindError(`static_resources.listeners.${l.name}`, (err as Error).message, 'tls_config'));
        }
        continue;
      }
      const bl = new BoundListener(l, snap.target(l.name), this.log);
      try {
        await bl.bind();
        added.push(bl);
      } catch (err) {
        if (err instanceof TlsConfigError) diagnostics.push(bindError(`static_resources.listeners.${l.name}`, err.message, 'tls_config'));
        else diagnostics.push(bindError(`static_resources.listeners.${l.name}.address`, `cannot bind ${l.address.address}:${l.address.port}: ${(err as Error).message}`));
      }
    }
    if (diagnostics.length) {
      await Promise.all(added.map((b) => b.close(0)));
      for (const r of fresh) r.close();
      return { ok: false, version: this.version, diagnostics };
    }

    // Commit: from here on nothing can fail.
    for (const s of taken) s.refs++;
    for (const s of taken) this.clusters.set(s.runtime.name, s);
    const next = new Map(bootstrap.listeners.map((l) => [l.name, l]));
    for (const [name, bl] of this.listeners) {
      const cfg = next.get(name);
      const replaced = added.some((a) => a.name === name);
      if (!cfg || replaced) {
        this.listeners.delete(name);
        void bl.close(5000);
      } else {
        bl.config = cfg;
        bl.target = snap.target(name);
      }
    }
    for (const bl of added) this.listeners.set(bl.name, bl);
    const old = this.current;
    const oldClusters = old ? [...old.clusters.values()] : [];
    this.current = snap;
    this.version = version;
    if (old) old.retire(() => this.releaseClusters(oldClusters));
    if (old && describeAdmin(old.bootstrap) !== describeAdmin(bootstrap)) {
      this.log.warn('admin address changes take effect on restart only');
    }
    this.events.emit('config', version);
    this.log.info(`config version ${version} applied (${bootstrap.listeners.length} listener(s), ${bootstrap.clusters.length} cluster(s), ${warnings.length} warning(s))`);
    return { ok: true, version, diagnostics: loaded.diagnostics };
  }

  private releaseClusters(runtimes: ClusterRuntime[]): void {
    for (const r of runtimes) {
      const shared = this.clusters.get(r.name);
      if (shared && shared.runtime === r) {
        if (--shared.refs <= 0) {
          this.clusters.delete(r.name);
          r.close();
        }
      } else {
        // Replaced by a new definition: nothing else uses this runtime.
        r.close();
      }
    }
  }

  /** Stop accepting, let requests in flight finish for up to `graceMs`, then close everything. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.observer.stop();
    await Promise.all([...this.listeners.values()].map((l) => l.close(graceMs)));
    this.listeners.clear();
    await this.admin?.close();
    for (const s of this.clusters.values()) s.runtime.close();
    this.clusters.clear();
    await this.pools.destroyAll();
    // Every request has been logged by now: write out the access logs' buffers and close the files.
    await closeAccessLogs(this.stats);
    this.stats.close();
  }
}

function sameAddress(a: { address: string; port: number }, b: { address: string; port: number }): boolean {
  return a.address === b.address && a.port === b.port;
}

function describeAdmin(b: Bootstrap): string {
  const a = b.admin?.address;
  return a ? `${a.address}:${a.port}` : '';
}

function adminOptionsFrom(addr: { address: string; port: number } | undefined): Partial<AdminOptions> {
  return addr ? { host: addr.address, port: addr.port } : {};
}

function bindError(path: string, message: string, code = 'bind_failed'): Diagnostic {
  return { severity: 'error', code, path, line: 0, column: 0, message };
}

export type { Cluster };
