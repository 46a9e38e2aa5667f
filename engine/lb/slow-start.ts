// Envoy's slow start (EdfLoadBalancerBase::applySlowStartFactor) for ROUND_ROBIN and
// LEAST_REQUEST: a healthy host within slow_start_window of its start (its creation, or the active
// health check that last made it healthy) gets
//   weight * max(min_weight_percent / 100, time_factor ^ (1 / aggression)),
//   time_factor = max(ms since start, 1) / window.
// While any host is in its window the policy must use its EDF scheduler, which re-reads a host's
// weight each time it picks the host, so the share ramps up as time passes.

import type { Host } from '../upstream/host';
import { readNumber, type RawConfig } from './config';

export interface SlowStart {
  windowMs: number;
  aggression: number;
  /** Fraction 0..1. */
  minWeight: number;
}

/** The `slowStart` lbConfig entry (resolve.ts maps slow_start_config to it); undefined when absent or with no window. */
export function readSlowStart(config: RawConfig, errors: string[]): SlowStart | undefined {
  const raw = config.slowStart;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push('slowStart: expected an object');
    return undefined;
  }
  const r = raw as RawConfig;
  const windowMs = readNumber(r, 'slowStartWindowMs', 0, { min: 0 }, errors);
  // Envoy: a non-positive aggression falls back to 1.0 at run time; refuse it here instead.
  const aggression = readNumber(r, 'aggression', 1, { above: 0 }, errors);
  const minWeightPercent = readNumber(r, 'minWeightPercent', 10, { min: 0, max: 100 }, errors);
  if (windowMs <= 0) return undefined;
  return { windowMs, aggression, minWeight: minWeightPercent / 100 };
}

export function inSlowStart(h: Host, ss: SlowStart, now: number): boolean {
  return h.healthy && h.slowStartFromMono !== undefined && now - h.slowStartFromMono < ss.windowMs;
}

/** The factor (0..1] on the host's weight now. */
export function slowStartFactor(h: Host, ss: SlowStart, now: number): number {
  if (!inSlowStart(h, ss, now)) return 1;
  const timeFactor = Math.max(1, now - h.slowStartFromMono!) / ss.windowMs;
  const ramp = ss.aggression === 1 ? timeFactor : Math.pow(timeFactor, 1 / ss.aggression);
  return Math.max(ramp, ss.minWeight);
}

/** `weightOf` scaled by slow start, reading the clock at each call. */
export function withSlowStart(weightOf: (h: Host) => number, ss: SlowStart, now: () => number): (h: Host) => number {
  return (h) => weightOf(h) * slowStartFactor(h, ss, now());
}
