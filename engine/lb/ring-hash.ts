// envoy.load_balancing_policies.ring_hash (Envoy's RingHashLoadBalancer, ring_hash_lb.cc).
// Build: every host gets about scale * normalizedWeight points keyed "<host:port>_<i>", where scale
// is the smallest that gives the lightest host a whole number of points of at least
// minimumRingSize * weight, capped by maximumRingSize; running sums spread fractional points
// stably. Points are sorted by hash. Pick: the first point >= the request hash, wrapping to the
// start; no hash → a random point. Hashes are kept as uint32 halves so a pick allocates nothing.

import type { Host } from '../upstream/host';
import type { HostPicker, LbContext, LbEnv, LbPolicy } from './types';
import { xxhash64 } from './xxhash64';
import { murmurHash2, STD_HASH_SEED } from './murmur';
import { high32, low32, normalizedWeights, randomHalf } from './hash-common';
import { readNumber, throwIfErrors, unknownKeys, type RawConfig } from './config';

export const RING_HASH = 'envoy.load_balancing_policies.ring_hash';

/** lbConfig of ring hash (Envoy's RingHash / Cluster.ring_hash_lb_config). */
export interface RingHashConfig {
  /** Default 1024, at most 8,388,608. */
  minimumRingSize?: number;
  /** Default 8,388,608 (also the largest allowed). */
  maximumRingSize?: number;
  /** Default XX_HASH. */
  hashFunction?: 'XX_HASH' | 'MURMUR_HASH_2';
}

const MAX_RING = 8388608;
const KNOWN = ['minimumRingSize', 'maximumRingSize', 'hashFunction'];

function read(config: RawConfig, errors: string[]) {
  const min = readNumber(config, 'minimumRingSize', 1024, { integer: true, min: 1, max: MAX_RING }, errors);
  const max = readNumber(config, 'maximumRingSize', MAX_RING, { integer: true, min: 1, max: MAX_RING }, errors);
  if (min > max) errors.push(`ring hash: minimum_ring_size (${min}) > maximum_ring_size (${max})`);
  const fn = config.hashFunction ?? 'XX_HASH';
  if (fn !== 'XX_HASH' && fn !== 'MURMUR_HASH_2') errors.push(`hashFunction: expected XX_HASH or MURMUR_HASH_2, got ${JSON.stringify(fn)}`);
  return { min, max, murmur: fn === 'MURMUR_HASH_2' };
}

export class RingHashPicker implements HostPicker {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly ringHosts: Host[];
  /** Envoy's ring_hash_lb gauges: size, min_hashes_per_host, max_hashes_per_host. */
  readonly size: number;
  readonly minHashesPerHost: number;
  readonly maxHashesPerHost: number;

  constructor(hosts: readonly Host[], weights: readonly number[] | undefined, minRing: number, maxRing: number, murmur: boolean, private readonly random: () => number) {
    if (hosts.length === 0) {
      this.hi = this.lo = new Uint32Array(0);
      this.ringHosts = [];
      this.size = this.minHashesPerHost = this.maxHashesPerHost = 0;
      return;
    }
    const w = normalizedWeights(hosts, weights);
    let minW = 1.0;
    for (const x of w) if (x < minW) minW = x;
    const scale = Math.min(Math.ceil(minW * minRing) / minW, maxRing);
    const ringSize = Math.ceil(scale);
    const his: number[] = [];
    const los: number[] = [];
    const owner: number[] = [];
    let current = 0;
    let target = 0;
    let minPer = ringSize;
    let maxPer = 0;
    for (let k = 0; k < hosts.length; k++) {
      const prefix = `${hosts[k].key}_`;
      target += scale * w[k];
      let i = 0;
      for (; current < target; i++, current++) {
        const key = prefix + i;
        const h = murmur ? murmurHash2(key, STD_HASH_SEED) : xxhash64(key);
        his.push(high32(h));
        los.push(low32(h));
        owner.push(k);
      }
      minPer = Math.min(minPer, i);
      maxPer = Math.max(maxPer, i);
    }
    const order = Array.from(his.keys()).sort((a, b) => his[a] - his[b] || los[a] - los[b]);
    this.hi = Uint32Array.from(order, (i) => his[i]);
    this.lo = Uint32Array.from(order, (i) => los[i]);
    this.ringHosts = order.map((i) => hosts[owner[i]]);
    this.size = ringSize;
    this.minHashesPerHost = minPer;
    this.maxHashesPerHost = maxPer;
  }

  pick(ctx: LbContext): Host | undefined {
    const n = this.ringHosts.length;
    if (n === 0) return undefined;
    const hh = ctx.hash === undefined ? randomHalf(this.random) : high32(ctx.hash);
    const hl = ctx.hash === undefined ? randomHalf(this.random) : low32(ctx.hash);
    // First point >= hash (Envoy ports ketama's search; same answer), wrapping to 0.
    let a = 0;
    let b = n;
    while (a < b) {
      const m = (a + b) >>> 1;
      const mh = this.hi[m];
      if (mh < hh || (mh === hh && this.lo[m] < hl)) a = m + 1;
      else b = m;
    }
    if (a === n) a = 0;
    // Envoy's host-selection retry: behave as if the chosen point were not on the ring.
    if (ctx.attempt > 0) a = (a + ctx.attempt) % n;
    return this.ringHosts[a];
  }
}

export const ringHash: LbPolicy = {
  name: RING_HASH,
  hashing: true,
  validateConfig(config: RawConfig): string[] {
    const errors = unknownKeys(config, KNOWN, RING_HASH);
    read(config, errors);
    return errors;
  },
  createPicker(hosts: readonly Host[], config: RawConfig, env: LbEnv, weights?: readonly number[]): RingHashPicker {
    const errors: string[] = [];
    const c = read(config, errors);
    throwIfErrors(RING_HASH, errors);
    return new RingHashPicker(hosts, weights, c.min, c.max, c.murmur, env.random);
  },
};
