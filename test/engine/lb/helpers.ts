// Shared test fixtures for engine/lb: a seeded PRNG (deterministic statistics), hosts, an LbEnv with
// a fake clock, and pick counting.

import type { Host } from '../../../engine/upstream/host';
import type { HostPicker, LbContext, LbEnv } from '../../../engine/lb/types';
import { PeakEwmaLatencyTracker } from '../../../engine/lb/latency';

/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HostOptions {
  weight?: number;
  priority?: number;
  locality?: string;
  localityWeight?: number;
  healthy?: boolean;
  activeRequests?: number;
}

export function makeHost(key: string, o: HostOptions = {}): Host {
  const i = key.lastIndexOf(':');
  return {
    key,
    address: key.slice(0, i),
    port: Number(key.slice(i + 1)),
    weight: o.weight ?? 1,
    priority: o.priority ?? 0,
    locality: o.locality ?? 'r/z/s',
    localityWeight: o.localityWeight ?? 0,
    healthy: o.healthy ?? true,
    activeRequests: o.activeRequests ?? 0,
  };
}

/** Hosts 127.0.0.1:<port> for each port (Envoy's tests use these keys). */
export function hostsOnPorts(ports: number[], o: HostOptions = {}): Host[] {
  return ports.map((p) => makeHost(`127.0.0.1:${p}`, o));
}

export interface TestEnv extends LbEnv {
  clock: { now: number };
}

export function testEnv(seed = 1): TestEnv {
  const clock = { now: 0 };
  return { clock, random: seededRandom(seed), now: () => clock.now, latency: new PeakEwmaLatencyTracker() };
}

export const noHash: LbContext = { hash: undefined, attempt: 0 };

export function withHash(hash: bigint, attempt = 0): LbContext {
  return { hash, attempt };
}

/** Picks `n` times and counts per host key. */
export function countPicks(pick: () => Host | undefined, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick();
    const k = h ? h.key : 'none';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

export function pickAll(picker: HostPicker, n: number, ctx: LbContext = noHash): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(picker.pick(ctx)?.key ?? 'none');
  return out;
}

/** Asserts `actual` is within ±tol of `expected` with a readable message. */
export function near(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
  }
}
