// The contract between the router and the load-balancing policies (engine/lb/*.ts).
// A policy is registered under its Envoy extension name in engine/lb/registry.ts; the router only
// ever talks to a ClusterLoadBalancer (engine/lb/cluster-lb.ts), which handles priorities, the
// panic threshold and locality weighting and delegates the pick inside one host set to the policy.

import type { Host } from '../upstream/host';

/** Per-request facts a policy may use. */
export interface LbContext {
  /** From the route's hash_policy (engine/lb/hash-policy.ts); undefined = no hash (pick randomly). */
  hash: bigint | undefined;
  /** 0 for the first try, 1.. for retries. */
  attempt: number;
}

/** Picks among one set of hosts (one priority's healthy hosts, or all of them in panic). Built once per host-set change, never per request. */
export interface HostPicker {
  pick(ctx: LbContext): Host | undefined;
}

/** A load-balancing policy. */
export interface LbPolicy<C = Record<string, unknown>> {
  /** Envoy extension name, e.g. `envoy.load_balancing_policies.round_robin`. */
  readonly name: string;
  /**
   * True for consistent-hash policies (Envoy's "thread-aware" balancers: ring hash, maglev). The
   * ClusterLoadBalancer then picks the priority with the request hash (so a key keeps its host) and
   * folds locality weights into the ring/table (`weights`) instead of an EDF over localities.
   */
  readonly hashing?: boolean;
  /** Problems with `config` as messages naming the field (empty = valid). Run once at config load. */
  validateConfig?(config: C): string[];
  /**
   * Build a picker for a host set. `random` returns [0, 1); tests inject a seeded one.
   * `weights` (hashing policies only): Envoy's normalized host weights, parallel to `hosts`, given when
   * locality weights apply; when absent the policy normalizes `host.weight` itself.
   */
  createPicker(hosts: readonly Host[], config: C, env: LbEnv, weights?: readonly number[]): HostPicker;
}

export interface LbEnv {
  random: () => number;
  /** Monotonic milliseconds (performance.now in production). */
  now: () => number;
  /** Per-host latency feedback shared by pickers of one cluster (used by latency-aware policies). */
  latency: HostLatencyTracker;
}

/** Observed per-host latency, fed by the router after each upstream response. */
export interface HostLatencyTracker {
  record(host: Host, latencyMs: number, now: number): void;
  /** Current latency estimate in ms, or undefined when nothing was observed yet. */
  estimate(host: Host, now: number): number | undefined;
}
