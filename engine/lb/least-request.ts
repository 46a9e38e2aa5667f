// envoy.load_balancing_policies.least_request (Envoy's LeastRequestLoadBalancer).
// Equal weights: power of N choices — sample choiceCount hosts at random (repeats allowed), keep the
// one with strictly fewer active requests. Unequal weights, or activeRequestBias set explicitly (as
// current Envoy does): EDF where a host's weight is weight / (active + 1)^bias, re-read each time the
// host is picked and re-queued, so busy hosts drift later in the schedule. Bias 0 = weighted RR.

import type { Host } from '../upstream/host';
import type { HostPicker, LbEnv, LbPolicy } from './types';
import { EdfPicker } from './round-robin';
import { randomSeed, readNumber, throwIfErrors, unknownKeys, weightsAreEqual, type RawConfig } from './config';
import { inSlowStart, readSlowStart, withSlowStart } from './slow-start';

export const LEAST_REQUEST = 'envoy.load_balancing_policies.least_request';

/** lbConfig of least request (Envoy's LeastRequest / Cluster.least_request_lb_config). */
export interface LeastRequestConfig {
  /** Hosts sampled per pick when weights are equal; >= 2, default 2. */
  choiceCount?: number;
  /** Exponent of (active + 1) in the weighted case; >= 0, default 1.0. Setting it forces EDF. */
  activeRequestBias?: number;
  /** Envoy's slow_start_config (see slow-start.ts). */
  slowStart?: { slowStartWindowMs?: number; aggression?: number; minWeightPercent?: number };
}

const KNOWN = ['choiceCount', 'activeRequestBias', 'slowStart'];

function read(config: RawConfig, errors: string[]) {
  return {
    choiceCount: readNumber(config, 'choiceCount', 2, { integer: true, min: 2 }, errors),
    bias: readNumber(config, 'activeRequestBias', 1, { min: 0 }, errors),
    biasSet: config.activeRequestBias !== undefined,
    slowStart: readSlowStart(config, errors),
  };
}

class ChoicesPicker implements HostPicker {
  constructor(private readonly hosts: readonly Host[], private readonly choices: number, private readonly random: () => number) {}
  pick(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    let best = this.hosts[Math.floor(this.random() * n)];
    for (let i = 1; i < this.choices; i++) {
      const h = this.hosts[Math.floor(this.random() * n)];
      if (h.activeRequests < best.activeRequests) best = h;
    }
    return best;
  }
}

/** Envoy's LeastRequestLoadBalancer::hostWeight, chosen once per picker so a pick does not branch. */
function weightFunction(bias: number): (h: Host) => number {
  if (bias === 0) return (h) => h.weight;
  if (bias === 1) return (h) => h.weight / (h.activeRequests + 1);
  return (h) => h.weight / Math.pow(h.activeRequests + 1, bias);
}

export const leastRequest: LbPolicy = {
  name: LEAST_REQUEST,
  validateConfig(config: RawConfig): string[] {
    const errors = unknownKeys(config, KNOWN, LEAST_REQUEST);
    read(config, errors);
    return errors;
  },
  createPicker(hosts: readonly Host[], config: RawConfig, env: LbEnv): HostPicker {
    const errors: string[] = [];
    const c = read(config, errors);
    throwIfErrors(LEAST_REQUEST, errors);
    const ss = c.slowStart;
    // A host in slow start needs the weighted (EDF) path, as in Envoy (noHostsAreInSlowStart()).
    if (ss !== undefined && hosts.some((h) => inSlowStart(h, ss, env.now()))) {
      return new EdfPicker(hosts, withSlowStart(weightFunction(c.bias), ss, env.now), randomSeed(env.random));
    }
    if (hosts.length <= 1 || (weightsAreEqual(hosts) && !c.biasSet)) return new ChoicesPicker(hosts, c.choiceCount, env.random);
    return new EdfPicker(hosts, weightFunction(c.bias), randomSeed(env.random));
  },
};
