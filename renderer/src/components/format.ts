export const pct = (x: number, digits = 0) => `${(x * 100).toFixed(digits)}%`;

export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  if (x >= 100) return `${Math.round(x)} ms`;
  return `${x.toFixed(1)} ms`;
}

export function rate(x: number): string {
  if (x >= 100) return Math.round(x).toString();
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function clock(msSinceEpoch: number): string {
  const d = new Date(msSinceEpoch);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function statusClass(status: number): 's0' | 's2' | 's3' | 's4' | 's5' {
  if (status >= 500) return 's5';
  if (status >= 400) return 's4';
  if (status >= 300) return 's3';
  if (status >= 200) return 's2';
  return 's0';
}

/** Plain-language names for Envoy's load-balancing policies. */
const LB_POLICY_TEXT: Record<string, string> = {
  ROUND_ROBIN: 'takes turns, in proportion to weight',
  LEAST_REQUEST: 'prefers the host with fewer requests in flight',
  RANDOM: 'picks at random, in proportion to weight',
  RING_HASH: 'sticky: the same key always goes to the same host',
  MAGLEV: 'sticky: the same key always goes to the same host',
  CLUSTER_PROVIDED: 'the cluster decides',
  PEAK_EWMA: 'prefers the host that has answered fastest lately',
};

/**
 * A policy as the engine reports it ("ROUND_ROBIN", or the extension name
 * "envoy.load_balancing_policies.round_robin") → its Envoy enum name and a plain explanation.
 */
export function lbPolicy(p: string): { name: string; text: string; sticky: boolean } {
  const name = (p.includes('.') ? p.slice(p.lastIndexOf('.') + 1) : p).toUpperCase();
  return { name, text: LB_POLICY_TEXT[name] ?? '', sticky: name === 'RING_HASH' || name === 'MAGLEV' };
}
