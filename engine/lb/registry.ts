// Load-balancing policies by extension name. The router and config code only ever ask here; adding
// a policy is one file plus one line in BUILTIN below.

import type { LbPolicy } from './types';
import { roundRobin } from './round-robin';
import { leastRequest } from './least-request';
import { random } from './random';
import { ringHash } from './ring-hash';
import { maglev } from './maglev';
import { peakEwma } from './peak-ewma';

const policies = new Map<string, LbPolicy>();

export function registerLbPolicy(policy: LbPolicy): void {
  if (policies.has(policy.name)) throw new Error(`load-balancing policy "${policy.name}" is already registered`);
  policies.set(policy.name, policy);
}

export function getLbPolicy(name: string): LbPolicy | undefined {
  return policies.get(name);
}

export function lbPolicyNames(): string[] {
  return [...policies.keys()];
}

/** Config problems of `config` for policy `name` (config-load time; empty = fine). */
export function validateLbConfig(name: string, config: Record<string, unknown>): string[] {
  const policy = policies.get(name);
  if (policy === undefined) return [`unknown load-balancing policy "${name}" (known: ${lbPolicyNames().join(', ')})`];
  return policy.validateConfig?.(config) ?? [];
}

/**
 * Cluster.lb_policy enum values (upper-case, as the config model stores them) → extension names.
 * CLUSTER_PROVIDED and LOAD_BALANCING_POLICY_CONFIG are deliberately absent: Envoy rejects the
 * latter, and no Meshdeck cluster type provides its own balancer.
 */
export const LB_POLICY_ENUM_TO_NAME: Readonly<Record<string, string>> = Object.freeze({
  ROUND_ROBIN: roundRobin.name,
  LEAST_REQUEST: leastRequest.name,
  RING_HASH: ringHash.name,
  RANDOM: random.name,
  MAGLEV: maglev.name,
});

const BUILTIN: LbPolicy[] = [roundRobin, leastRequest, random, ringHash, maglev, peakEwma];
for (const p of BUILTIN) registerLbPolicy(p);
