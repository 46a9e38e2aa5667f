// Envoy's retry decisions (router/retry_state_impl.cc) and its fully jittered back-off.

import type { RetryPolicy } from '../config/model';

export type ResetKind = 'connect_failure' | 'connection_termination' | 'remote_reset' | 'per_try_timeout';

/** Would Envoy retry a response with this status under this policy? */
export function retryOnResponse(p: RetryPolicy, status: number): boolean {
  for (const on of p.retryOn) {
    switch (on) {
      case '5xx':
        if (status >= 500) return true;
        break;
      case 'gateway-error':
        if (status === 502 || status === 503 || status === 504) return true;
        break;
      case 'retriable-4xx':
        if (status === 409) return true;
        break;
      case 'retriable-status-codes':
        if (p.retriableStatusCodes.includes(status)) return true;
        break;
    }
  }
  return false;
}

/** Would Envoy retry a try that failed without a response? A per-try timeout counts as a 504. */
export function retryOnReset(p: RetryPolicy, kind: ResetKind, refusedStream = false): boolean {
  if (kind === 'per_try_timeout') return retryOnResponse(p, 504);
  for (const on of p.retryOn) {
    if (on === 'refused-stream' && refusedStream) return true;
    if (on === '5xx' || on === 'gateway-error' || on === 'reset') return true;
    if (on === 'connect-failure' && kind === 'connect_failure') return true;
  }
  return false;
}

/**
 * Back-off before retry number `n` (1-based): uniformly random in [0, (2^n - 1) * base),
 * capped at max_interval, as Envoy's JitteredExponentialBackOffStrategy.
 */
export function backoffMs(n: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min((2 ** Math.min(n, 30) - 1) * baseMs, maxMs);
  return Math.floor(random() * ceiling);
}
