// Which upstream host is slow or failing: plain rules the overview and the host table share.

import type { WindowStats } from '../../api/series';

export interface HostStats {
  address: string;
  stats: WindowStats;
  healthy: boolean;
}

export interface Worst {
  /** Highest p99, when clearly slower than the fastest host with traffic. */
  slowest?: string;
  /** Highest error rate, when it has errors at all. */
  failing?: string;
}

export const SLOW_RATIO = 1.25;

export function findWorst(hosts: HostStats[]): Worst {
  const out: Worst = {};
  const withLatency = hosts.filter((h) => h.stats.p99 !== null && h.stats.requests > 0);
  if (withLatency.length >= 2) {
    const sorted = [...withLatency].sort((a, b) => b.stats.p99! - a.stats.p99!);
    const top = sorted[0]!;
    const fastest = sorted[sorted.length - 1]!;
    if (top.stats.p99! > fastest.stats.p99! * SLOW_RATIO) out.slowest = top.address;
  }
  const withErrors = hosts.filter((h) => h.stats.errors > 0);
  if (withErrors.length) {
    out.failing = withErrors.reduce((a, b) => (b.stats.errorRate > a.stats.errorRate ? b : a)).address;
  }
  return out;
}

export type Verdict = 'ok' | 'warn' | 'bad' | 'idle';

/** A cluster's colour: red when failing badly or a host is down, amber on some errors. */
export function verdict(stats: WindowStats, unhealthyHosts: number, hostCount: number): Verdict {
  if (hostCount > 0 && unhealthyHosts >= hostCount) return 'bad';
  if (stats.requests === 0) return unhealthyHosts ? 'warn' : 'idle';
  if (stats.errorRate >= 0.05) return 'bad';
  if (stats.errorRate > 0 || unhealthyHosts > 0) return 'warn';
  return 'ok';
}
