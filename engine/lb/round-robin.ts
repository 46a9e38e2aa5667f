// envoy.load_balancing_policies.round_robin (Envoy's RoundRobinLoadBalancer).
// Equal weights: a rotating index starting at a random host. Unequal weights: Envoy's EDF schedule,
// started at a random point of its rotation (createWithPicks with a random number of picks).

import type { Host } from '../upstream/host';
import type { HostPicker, LbEnv, LbPolicy } from './types';
import { EdfScheduler } from './edf';
import { randomSeed, unknownKeys, weightsAreEqual, type RawConfig } from './config';

export const ROUND_ROBIN = 'envoy.load_balancing_policies.round_robin';

/** lbConfig of round robin (Envoy's RoundRobin / Cluster.round_robin_lb_config). */
export interface RoundRobinConfig {
  /**
   * Envoy's slow_start_config. Accepted but not applied yet: when implemented, the weight function
   * below becomes weight * max(minWeightPercent, (timeHealthy/window)^(1/aggression)) and EDF must
   * be used while any host is in its window (Envoy's noHostsAreInSlowStart()).
   */
  slowStart?: { slowStartWindowMs?: number; aggression?: number; minWeightPercent?: number };
}

const KNOWN = ['slowStart'];

const hostWeight = (h: Host): number => h.weight; // slow start would scale this (see RoundRobinConfig)

class RotatingPicker implements HostPicker {
  constructor(private readonly hosts: readonly Host[], private next: number) {}
  pick(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const host = this.hosts[this.next];
    this.next = this.next + 1 === n ? 0 : this.next + 1;
    return host;
  }
}

/** Shared with least request: an EDF picker whose weights `weightOf` reads at each pick. */
export class EdfPicker implements HostPicker {
  private readonly edf: EdfScheduler<Host>;
  constructor(hosts: readonly Host[], private readonly weightOf: (h: Host) => number, seed: number) {
    this.edf = EdfScheduler.createWithPicks(hosts, weightOf, seed);
  }
  pick(): Host | undefined {
    return this.edf.pickAndAdd(this.weightOf);
  }
}

export const roundRobin: LbPolicy = {
  name: ROUND_ROBIN,
  validateConfig: (config: RawConfig) => unknownKeys(config, KNOWN, ROUND_ROBIN),
  createPicker(hosts: readonly Host[], _config: RawConfig, env: LbEnv): HostPicker {
    const seed = randomSeed(env.random);
    if (hosts.length <= 1 || weightsAreEqual(hosts)) return new RotatingPicker(hosts, hosts.length ? seed % hosts.length : 0);
    return new EdfPicker(hosts, hostWeight, seed);
  },
};
