// One immutable config generation: the resolved config, its compiled connection managers and the
// clusters it routes to. Requests hold the snapshot they started on; when a newer one replaces
// it, the old one is retired and lets go of its clusters once its last request has finished.

import type { Bootstrap, Diagnostic } from './config/model';
import { CompiledHcm, type AccessLogSink } from './listener/hcm';
import type { CompiledChain, ListenerTarget } from './listener/listener';
import { CompiledTcpProxy } from './listener/tcp-proxy';
import type { ClusterRuntime } from './upstream/cluster';
import type { StatsStore } from './observe/stats';
import { AccessLogWriters, buildAccessLogs, withTap } from './observe/access-log';

export class Snapshot {
  /** Each listener's first HTTP connection manager. */
  readonly hcms = new Map<string, CompiledHcm>();
  /** Each listener's filter chains, compiled: HTTP ones in config order, then tcp_proxy ones. */
  readonly chains = new Map<string, CompiledChain[]>();
  private inflight = 0;
  private retired = false;
  private onDrained: (() => void) | undefined;
  /** The config as Envoy reads it (loadConfig's `normalized`), for /config_dump. Set by the engine. */
  normalized: unknown = undefined;
  /** When this snapshot was built (ConfigDump's last_updated). */
  readonly createdAtMs = Date.now();
  /** Lets go of the access-log files this snapshot's loggers opened. */
  private readonly releaseAccessLogs: Array<() => void> = [];

  constructor(
    readonly version: number,
    readonly bootstrap: Bootstrap,
    readonly text: string,
    readonly sourceName: string,
    readonly warnings: Diagnostic[],
    readonly clusters: ReadonlyMap<string, ClusterRuntime>,
    store: StatsStore,
    random: () => number,
    accessLog: AccessLogSink | undefined,
  ) {
    const router = { clusters, random };
    const writers = AccessLogWriters.for(store);
    for (const l of bootstrap.listeners) {
      const compiled: CompiledChain[] = [];
      for (const chain of l.filterChains) {
        // The engine's tap (console, tests) plus this connection manager's own access_log.
        const logs = buildAccessLogs(chain.hcm.accessLog, writers);
        this.releaseAccessLogs.push(logs.release);
        const hcm = new CompiledHcm(chain.hcm, store, router, withTap(accessLog, logs.log));
        if (!this.hcms.has(l.name)) this.hcms.set(l.name, hcm);
        compiled.push({ config: chain, hcm });
      }
      for (const chain of l.tcpFilterChains) {
        // Each proxied connection is one entry, for the tap and the tcp_proxy's own access_log.
        const logs = buildAccessLogs(chain.tcpProxy.accessLog, writers);
        this.releaseAccessLogs.push(logs.release);
        compiled.push({ config: chain, tcp: new CompiledTcpProxy(chain.tcpProxy, store, clusters, random, withTap(accessLog, logs.log)) });
      }
      this.chains.set(l.name, compiled);
    }
  }

  /** The listener-facing view of this snapshot for one listener. */
  target(listenerName: string): ListenerTarget {
    const chains = this.chains.get(listenerName);
    if (!chains?.length) throw new Error(`listener '${listenerName}' has no filter chain Meshdeck runs`);
    return { chains, enter: () => this.enter() };
  }

  private enter(): () => void {
    this.inflight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.inflight === 0 && this.retired) this.onDrained?.();
    };
  }

  /** Stop taking new requests; `drained` runs when the last running one ends. */
  retire(drained: () => void): void {
    this.retired = true;
    const done = () => {
      for (const release of this.releaseAccessLogs) release();
      drained();
    };
    if (this.inflight === 0) done();
    else this.onDrained = done;
  }

  get requestsInFlight(): number {
    return this.inflight;
  }
}
