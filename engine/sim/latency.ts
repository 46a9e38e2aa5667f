// Latency models of mock instances. Each is compiled once into a sampler that draws a fixed
// number of uniforms per sample (so an instance's stream of decisions stays aligned whatever
// its latencies are), and knows its own quantiles (for tests and the console).

import type { Rng } from './rng';
import type { LatencyDoc } from './scenario-schema';

/** z such that Φ(z) = 0.99 */
export const Z99 = 2.3263478740408408;

export interface LatencySampler {
  readonly model: LatencyDoc;
  /** One latency in ms (≥ 0). Always draws exactly two uniforms from `rng`. */
  sample(rng: Rng): number;
  /** The model's own quantile (q in [0, 1]), ms. */
  quantile(q: number): number;
}

export function compileLatency(m: LatencyDoc): LatencySampler {
  switch (m.model) {
    case 'fixed':
      return {
        model: m,
        sample: (rng) => (rng.next(), rng.next(), m.ms),
        quantile: () => m.ms,
      };
    case 'uniform': {
      const span = m.max_ms - m.min_ms;
      return {
        model: m,
        sample: (rng) => {
          const u = rng.next();
          rng.next();
          return m.min_ms + u * span;
        },
        quantile: (q) => m.min_ms + q * span,
      };
    }
    case 'lognormal': {
      // ln X ~ N(mu, sigma²): the median is e^mu, the 99th percentile e^(mu + z99·sigma).
      const mu = Math.log(m.p50_ms);
      const sigma = (Math.log(m.p99_ms) - mu) / Z99;
      return {
        model: m,
        sample: (rng) => Math.exp(mu + sigma * rng.normal()),
        quantile: (q) => Math.exp(mu + sigma * inverseNormal(q)),
      };
    }
    case 'empirical': {
      // Piecewise-uniform: a bucket by weight, then uniform within it.
      const bounds = [m.min_ms ?? 0, ...m.buckets.map((b) => b.le_ms)];
      const total = m.buckets.reduce((s, b) => s + b.weight, 0);
      const cumulative: number[] = [];
      let acc = 0;
      for (const b of m.buckets) cumulative.push((acc += b.weight / total));
      const bucketOf = (u: number) => {
        let lo = 0;
        let hi = cumulative.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (u < cumulative[mid]) hi = mid;
          else lo = mid + 1;
        }
        return lo;
      };
      const within = (i: number, u: number) => bounds[i] + u * (bounds[i + 1] - bounds[i]);
      return {
        model: m,
        sample: (rng) => {
          const i = bucketOf(rng.next());
          return within(i, rng.next());
        },
        quantile: (q) => {
          const i = bucketOf(Math.min(q, 1 - 1e-12));
          const lo = i === 0 ? 0 : cumulative[i - 1];
          const share = cumulative[i] - lo;
          return within(i, share > 0 ? (q - lo) / share : 0);
        },
      };
    }
  }
}

/** Φ⁻¹(p): Acklam's rational approximation (relative error < 1.2e-9). */
export function inverseNormal(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowP = 0.02425;
  if (p < lowP) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lowP) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Problems a latency model can have beyond its schema: [field, message]. */
export function latencyProblems(m: LatencyDoc): Array<[string, string]> {
  switch (m.model) {
    case 'lognormal':
      return m.p99_ms > m.p50_ms ? [] : [['p99_ms', `p99_ms (${m.p99_ms}) must be greater than p50_ms (${m.p50_ms})`]];
    case 'uniform':
      return m.max_ms >= m.min_ms ? [] : [['max_ms', `max_ms (${m.max_ms}) must not be below min_ms (${m.min_ms})`]];
    case 'empirical': {
      const out: Array<[string, string]> = [];
      let prev = m.min_ms ?? 0;
      m.buckets.forEach((b, i) => {
        if (b.le_ms <= prev) out.push([`buckets.${i}.le_ms`, `le_ms must increase from bucket to bucket (and exceed min_ms): ${b.le_ms} after ${prev}`]);
        prev = b.le_ms;
      });
      if (!m.buckets.some((b) => b.weight > 0)) out.push(['buckets', 'at least one bucket needs a weight above 0']);
      return out;
    }
    case 'fixed':
      return [];
  }
}
