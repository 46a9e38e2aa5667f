// Host health changes (active health checks, outlier ejections) as events: kept per host in a
// bounded history for the dashboard's timeline (it outlives config reloads, which rebuild the
// cluster runtimes) and passed on to the engine's event emitter for the live stream.

import type { EventEmitter } from 'node:events';
import type { HostHealthEvent } from '../admin/contract';

/** Events kept per host; older ones are dropped (and counted). */
export const HISTORY_PER_HOST = 200;

export class HealthHistory {
  private readonly byHost = new Map<string, HostHealthEvent[]>();
  private readonly ejections = new Map<string, number>();
  /** Events dropped because a host's history was full. */
  dropped = 0;

  constructor(private readonly events?: EventEmitter) {}

  record(e: HostHealthEvent): void {
    const key = `${e.cluster}\u0000${e.host}`;
    let list = this.byHost.get(key);
    if (!list) this.byHost.set(key, (list = []));
    list.push(e);
    if (list.length > HISTORY_PER_HOST) {
      list.shift();
      this.dropped++;
    }
    if (e.kind === 'ejected') this.ejections.set(key, (this.ejections.get(key) ?? 0) + 1);
    // 'health' is the engine's long-standing (cluster, host, healthy) event; 'hostHealth' carries the details.
    this.events?.emit('health', e.cluster, e.host, e.healthy);
    this.events?.emit('hostHealth', e);
  }

  of(cluster: string, host: string): HostHealthEvent[] {
    return this.byHost.get(`${cluster}\u0000${host}`) ?? [];
  }

  ejectionCount(cluster: string, host: string): number {
    return this.ejections.get(`${cluster}\u0000${host}`) ?? 0;
  }
}
