// meshdeck.load_balancing_policies.peak_ewma: Meshdeck's latency-aware balancer (not in Envoy; an
// export to Envoy must replace it, e.g. with least_request). Power of two choices between two
// distinct random hosts, keeping the lower cost = latencyEstimate * (active + 1) / weight, where the
// estimate is the peak-sensitive EWMA of engine/lb/latency.ts (decayTimeMs configures that tracker,
// see createLbEnv). A host never observed gets a neutral estimate — defaultRttMs when set, else the
// other candidate's — so it competes on load alone and gets probed.

import type { Host } from '../upstream/host';
import type { HostLatencyTracker, HostPicker, LbEnv, LbPolicy } from './types';
import { readNumber, throwIfErrors, unknownKeys, type RawConfig } from './config';
import { DEFAULT_DECAY_TIME_MS } from './latency';

export const PEAK_EWMA = 'meshdeck.load_balancing_policies.peak_ewma';

/** lbConfig of peak EWMA. */
export interface PeakEwmaConfig {
  /** Time constant of the latency EWMA, default 10000 ms (read by createLbEnv for the tracker). */
  decayTimeMs?: number;
  /** Estimate for hosts with no observation yet; unset = neutral (the other candidate's estimate). */
  defaultRttMs?: number;
}

const KNOWN = ['decayTimeMs', 'defaultRttMs'];

function read(config: RawConfig, errors: string[]) {
  return {
    decayTimeMs: readNumber(config, 'decayTimeMs', DEFAULT_DECAY_TIME_MS, { above: 0 }, errors),
    defaultRttMs: config.defaultRttMs === undefined ? undefined : readNumber(config, 'defaultRttMs', 0, { min: 0 }, errors),
  };
}

/** decayTimeMs of a peak EWMA lbConfig (its default when absent). */
export function peakEwmaDecayTimeMs(config: RawConfig): number {
  const errors: string[] = [];
  const c = read(config, errors);
  throwIfErrors(PEAK_EWMA, errors);
  return c.decayTimeMs;
}

class PeakEwmaPicker implements HostPicker {
  constructor(
    private readonly hosts: readonly Host[],
    private readonly defaultRtt: number | undefined,
    private readonly random: () => number,
    private readonly now: () => number,
    private readonly latency: HostLatencyTracker,
  ) {}

  pick(): Host | undefined {
    const n = this.hosts.length;
    if (n <= 1) return this.hosts[0];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++; // two distinct hosts
    const a = this.hosts[i];
    const b = this.hosts[j];
    const now = this.now();
    const ea = this.latency.estimate(a, now);
    const eb = this.latency.estimate(b, now);
    const la = ea ?? this.defaultRtt ?? eb ?? 1;
    const lb = eb ?? this.defaultRtt ?? ea ?? 1;
    const costA = (la * (a.activeRequests + 1)) / a.weight;
    const costB = (lb * (b.activeRequests + 1)) / b.weight;
    return costA <= costB ? a : b;
  }
}

export const peakEwma: LbPolicy = {
  name: PEAK_EWMA,
  validateConfig(config: RawConfig): string[] {
    const errors = unknownKeys(config, KNOWN, PEAK_EWMA);
    read(config, errors);
    return errors;
  },
  createPicker(hosts: readonly Host[], config: RawConfig, env: LbEnv): HostPicker {
    const errors: string[] = [];
    const c = read(config, errors);
    throwIfErrors(PEAK_EWMA, errors);
    return new PeakEwmaPicker(hosts, c.defaultRttMs, env.random, env.now, env.latency);
  },
};
