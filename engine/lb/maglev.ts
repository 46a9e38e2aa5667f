// envoy.load_balancing_policies.maglev (Envoy's MaglevLoadBalancer, maglev_lb.cc; the Maglev paper's
// listing 1 with weights). Hosts, sorted by key so the table does not depend on their order, each
// walk their own permutation of the table (offset = xxh64(key) % M, skip = xxh64(key, 1) % (M-1) + 1)
// and take turns claiming the next free slot; a host of weight w takes a turn in every iteration
// where iteration * w >= its running target, which grows by the largest weight per turn. Pick:
// table[hash % M]; no hash → a random slot.

import type { Host } from '../upstream/host';
import type { HostPicker, LbContext, LbEnv, LbPolicy } from './types';
import { xxhash64 } from './xxhash64';
import { normalizedWeights } from './hash-common';
import { readNumber, throwIfErrors, unknownKeys, type RawConfig } from './config';

export const MAGLEV = 'envoy.load_balancing_policies.maglev';

/** lbConfig of maglev (Envoy's Maglev / Cluster.maglev_lb_config). */
export interface MaglevConfig {
  /** A prime, default 65537, at most 5,000,011. */
  tableSize?: number;
}

const MAX_TABLE = 5000011;
const MASK = 0xffffffffffffffffn;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

function read(config: RawConfig, errors: string[]): number {
  const size = readNumber(config, 'tableSize', 65537, { integer: true, min: 2, max: MAX_TABLE }, errors);
  if (!isPrime(size)) errors.push(`tableSize: the table size of maglev must be prime number, got ${size}`);
  return size;
}

export class MaglevPicker implements HostPicker {
  /** Slot → index into `slotHosts` (Envoy's compact table). */
  private readonly table: Uint32Array;
  private readonly slotHosts: Host[];
  private readonly counts: Uint32Array;
  private readonly sizeBig: bigint;

  constructor(hosts: readonly Host[], weights: readonly number[] | undefined, readonly tableSize: number, private readonly random: () => number) {
    this.sizeBig = BigInt(tableSize);
    const w = normalizedWeights(hosts, weights);
    const order = Array.from(hosts.keys()).sort((a, b) => (hosts[a].key < hosts[b].key ? -1 : hosts[a].key > hosts[b].key ? 1 : a - b));
    const n = order.length;
    this.slotHosts = order.map((i) => hosts[i]);
    this.counts = new Uint32Array(n);
    this.table = new Uint32Array(n === 0 ? 0 : tableSize);
    if (n === 0) return;

    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const weight = new Float64Array(n);
    const target = new Float64Array(n);
    const next = new Float64Array(n);
    let maxW = 0;
    for (let e = 0; e < n; e++) {
      const key = this.slotHosts[e].key;
      offset[e] = Number(xxhash64(key) % this.sizeBig);
      skip[e] = Number(xxhash64(key, 1n) % (this.sizeBig - 1n)) + 1;
      weight[e] = w[order[e]];
      if (weight[e] > maxW) maxW = weight[e];
    }
    const taken = new Uint8Array(tableSize);
    let filled = 0;
    for (let iteration = 1; filled < tableSize; iteration++) {
      for (let e = 0; e < n && filled < tableSize; e++) {
        if (iteration * weight[e] < target[e]) continue;
        target[e] += maxW;
        let c = (offset[e] + skip[e] * next[e]) % tableSize;
        while (taken[c]) {
          next[e]++;
          c = (offset[e] + skip[e] * next[e]) % tableSize;
        }
        taken[c] = 1;
        this.table[c] = e;
        next[e]++;
        this.counts[e]++;
        filled++;
      }
    }
  }

  /** Table slots owned by `host` (Envoy's min/max_entries_per_host gauges come from these). */
  entriesFor(host: Host): number {
    const i = this.slotHosts.indexOf(host);
    return i < 0 ? 0 : this.counts[i];
  }

  pick(ctx: LbContext): Host | undefined {
    if (this.slotHosts.length === 0) return undefined;
    if (ctx.hash === undefined) return this.slotHosts[this.table[Math.floor(this.random() * this.tableSize)]];
    let h = ctx.hash;
    // Envoy's host-selection retry: flip most bits of the hash for a far-away slot.
    if (ctx.attempt > 0) h ^= (MASK - BigInt(ctx.attempt) + 1n) & MASK;
    return this.slotHosts[this.table[Number(h % this.sizeBig)]];
  }
}

export const maglev: LbPolicy = {
  name: MAGLEV,
  hashing: true,
  validateConfig(config: RawConfig): string[] {
    const errors = unknownKeys(config, ['tableSize'], MAGLEV);
    read(config, errors);
    return errors;
  },
  createPicker(hosts: readonly Host[], config: RawConfig, env: LbEnv, weights?: readonly number[]): MaglevPicker {
    const errors: string[] = [];
    const size = read(config, errors);
    throwIfErrors(MAGLEV, errors);
    return new MaglevPicker(hosts, weights, size, env.random);
  },
};
