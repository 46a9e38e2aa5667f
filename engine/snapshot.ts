// One immutable config generation: the resolved config, its compiled connection managers and the
// clusters it routes to. Requests hold the snapshot they started on; when a newer one replaces
// it, the old one is retired and lets go of its clusters once its last request has finished.

import type { Bootstrap, Diagnostic } from './config/model';
import { CompiledHcm, type AccessLogSink } from './listener/hcm';
import type { ListenerTarget } from './listener/listener';
import type { ClusterRuntime } from './upstream/cluster';
import type { StatsStore } from './observe/stats';
import { AccessLogWriters, buildAccessLogs, withTap } from './observe/access-log';

export class Snapshot {
  readonly hcms = new Map<string, CompiledHcm>();
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
      const chain = l.filterChains[0];
      if (!chain) continue;
      // The engine's tap (console, tests) plus this connection manager's own access_log.
      const logs = buildAccessLogs(chain.hcm.accessLog, writers);
      this.releaseAccessLogs.push(logs.release);
      this.hcms.set(l.name, new CompiledHcm(chain.hcm, store, router, withTap(accessLog, logs.log)));
    }
  }

  /** The listener-facing view of this snapshot for one listener. */
  target(listenerName: string): ListenerTarget {
    const hcm = this.hcms.get(listenerName);
    if (!hcm) throw new Error(`listener '${listenerName}' has no HTTP connection manager`);
    return { hcm, enter: () => this.enter() };
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
