// Peak-sensitive EWMA of each host's latency (the estimator of Finagle's and Linkerd's peak EWMA
// balancers), fed by the router after every upstream response.
//
// - A sample above the estimate replaces it at once: a host that turns slow is avoided immediately.
// - A sample below it is blended in with weight 1 - exp(-dt/tau), dt = time since the last sample:
//   recovery is gradual, and the older the estimate the more a new sample counts.
// - Read back, the estimate decays toward 0 with the same tau while no sample arrives, so a host the
//   balancer stopped choosing (because it was slow) is probed again rather than starved forever.
// State is one small object per host in a WeakMap: memory is bounded by the live hosts, and hosts
// dropped from the config are collected with their state.

import type { Host } from '../upstream/host';
import type { HostLatencyTracker } from './types';

interface Ewma {
  value: number;
  stamp: number;
}

export const DEFAULT_DECAY_TIME_MS = 10000;

export class PeakEwmaLatencyTracker implements HostLatencyTracker {
  private readonly state = new WeakMap<Host, Ewma>();
  private readonly tau: number;

  constructor(decayTimeMs: number = DEFAULT_DECAY_TIME_MS) {
    if (!(decayTimeMs > 0)) throw new Error(`PeakEwmaLatencyTracker: decayTimeMs must be > 0, got ${decayTimeMs}`);
    this.tau = decayTimeMs;
  }

  record(host: Host, latencyMs: number, now: number): void {
    if (!(latencyMs >= 0)) return; // NaN or negative: a broken measurement, not a fast host
    const s = this.state.get(host);
    if (s === undefined) {
      this.state.set(host, { value: latencyMs, stamp: now });
      return;
    }
    if (latencyMs > s.value) {
      s.value = latencyMs;
    } else {
      const w = Math.exp(-Math.max(0, now - s.stamp) / this.tau);
      s.value = s.value * w + latencyMs * (1 - w);
    }
    s.stamp = now;
  }

  estimate(host: Host, now: number): number | undefined {
    const s = this.state.get(host);
    if (s === undefined) return undefined;
    return s.value * Math.exp(-Math.max(0, now - s.stamp) / this.tau);
  }

  /** Forget a host (e.g. it was replaced with a new one at the same address). */
  forget(host: Host): void {
    this.state.delete(host);
  }
}

/** The tracker the engine gives each LbEnv (decayTimeMs: peak EWMA's time constant, default 10 s). */
export function createLatencyTracker(decayTimeMs: number = DEFAULT_DECAY_TIME_MS): HostLatencyTracker {
  return new PeakEwmaLatencyTracker(decayTimeMs);
}
