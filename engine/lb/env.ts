// The production LbEnv for one cluster: Math.random, performance.now and a latency tracker whose
// time constant comes from the cluster's lbConfig (peak EWMA's decayTimeMs; the default otherwise).
// Tests build their own LbEnv with a seeded random and a fake clock.

import { performance } from 'node:perf_hooks';
import type { HostLatencyTracker, LbEnv } from './types';
import { PeakEwmaLatencyTracker } from './latency';
import { PEAK_EWMA, peakEwmaDecayTimeMs } from './peak-ewma';

export interface LbEnvOptions {
  random?: () => number;
  now?: () => number;
  latency?: HostLatencyTracker;
}

/** The env for a cluster with policy `lbPolicy` and its `lbConfig`. */
export function createLbEnv(lbPolicy: string, lbConfig: Record<string, unknown>, options: LbEnvOptions = {}): LbEnv {
  const decay = lbPolicy === PEAK_EWMA ? peakEwmaDecayTimeMs(lbConfig) : undefined;
  return {
    random: options.random ?? Math.random,
    now: options.now ?? (() => performance.now()),
    latency: options.latency ?? new PeakEwmaLatencyTracker(decay),
  };
}
