// Pieces shared by the consistent-hash policies (ring hash, maglev).

import type { Host } from '../upstream/host';

/**
 * Envoy's normalized host weights (thread_aware_lb_impl.cc normalizeHostWeights): weight / sum, so
 * they add up to 1. Locality-weighted sets come pre-normalized from ClusterLoadBalancer instead.
 */
export function normalizedWeights(hosts: readonly Host[], given: readonly number[] | undefined): number[] {
  if (given !== undefined) {
    if (given.length !== hosts.length) throw new Error(`weights (${given.length}) must be parallel to hosts (${hosts.length})`);
    return given.slice();
  }
  let sum = 0;
  for (const h of hosts) sum += h.weight;
  return hosts.map((h) => (h.weight * 1.0) / sum);
}

/** One random uint32 half of the random 64-bit hash Envoy uses when a request has none. */
export function randomHalf(random: () => number): number {
  return Math.floor(random() * 4294967296);
}

const LOW32 = 0xffffffffn;

/** High and low uint32 halves of a 64-bit hash, so lookups compare plain numbers. */
export function high32(h: bigint): number {
  return Number((h >> 32n) & LOW32);
}
export function low32(h: bigint): number {
  return Number(h & LOW32);
}
