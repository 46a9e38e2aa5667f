// envoy.load_balancing_policies.round_robin (Envoy's RoundRobinLoadBalancer).
// Equal weights: a rotating index starting at a random host. Unequal weights, or a host in slow
// start (slow-start.ts): Envoy's EDF schedule, started at a random point of its rotation
// (createWithPicks with a random number of picks).

import type { Host } from '../upstream/host';
import type { HostPicker, LbEnv, LbPolicy } from './types';
import { EdfScheduler } from './edf';
import { randomSeed, throwIfErrors, unknownKeys, weightsAreEqual, type RawConfig } from './config';
import { inSlowStart, readSlowStart, withSlowStart } from './slow-start';

export const ROUND_ROBIN = 'envoy.load_balancing_policies.round_robin';

/** lbConfig of round robin (Envoy's RoundRobin / Cluster.round_robin_lb_config). */
export interface RoundRobinConfig {
  /** Envoy's slow_start_config (see slow-start.ts). */
  slowStart?: { slowStartWindowMs?: number; aggression?: number; minWeightPercent?: number };
}

const KNOWN = ['slowStart'];

const hostWeight = (h: Host): number => h.weight;

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
  validateConfig(config: RawConfig): string[] {
    const errors = unknownKeys(config, KNOWN, ROUND_ROBIN);
    readSlowStart(config, errors);
    return errors;
  },
  createPicker(hosts: readonly Host[], config: RawConfig, env: LbEnv): HostPicker {
    const errors: string[] = [];
    const ss = readSlowStart(config, errors);
    throwIfErrors(ROUND_ROBIN, errors);
    const seed = randomSeed(env.random);
    const slow = ss !== undefined && hosts.some((h) => inSlowStart(h, ss, env.now()));
    if (slow) return new EdfPicker(hosts, withSlowStart(hostWeight, ss, env.now), seed);
    if (hosts.length <= 1 || weightsAreEqual(hosts)) return new RotatingPicker(hosts, hosts.length ? seed % hosts.length : 0);
    return new EdfPicker(hosts, hostWeight, seed);
  },
};
