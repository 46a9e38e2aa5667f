// A host's health events → the spans the timeline draws: when it was ejected (outlier detection)
// and when it failed its active health check, clipped to the chart's window. Plain functions, so
// the dashboard and its tests share them.

import type { HostHealthEvent } from '../../../../engine/admin/contract';

export interface Span {
  kind: 'ejected' | 'hc_failed';
  /** Epoch seconds, like the charts' x axis. */
  from: number;
  to: number;
  /** Still going at the end of the window. */
  open: boolean;
  reason: string;
  /** Planned ejection time, ms (ejections). */
  ejectionMs?: number;
}

/** How far real time may run ahead of the last per-second tick, s. */
const TICK_LAG_S = 2;

/** Spans overlapping [from, to] (epoch seconds), oldest first. */
export function healthSpans(events: readonly HostHealthEvent[], from: number, to: number): Span[] {
  const out: Span[] = [];
  const open: Partial<Record<Span['kind'], Span>> = {};
  for (const e of events) {
    const t = e.t / 1000;
    if (e.kind === 'ejected' || e.kind === 'hc_failed') {
      if (!open[e.kind]) open[e.kind] = { kind: e.kind, from: t, to: t, open: true, reason: e.reason, ejectionMs: e.ejectionMs };
    } else {
      const kind = e.kind === 'unejected' ? 'ejected' : 'hc_failed';
      const s = open[kind];
      if (s) {
        s.to = t;
        s.open = false;
        out.push(s);
        delete open[kind];
      }
    }
  }
  for (const s of Object.values(open)) {
    s.to = Math.max(to, s.from);
    out.push(s);
  }
  // Events are real time and the charts' window ends at the last per-second tick: a span that
  // started just after it (TICK_LAG_S) still shows, as a sliver at the right edge.
  return out
    .filter((s) => s.to >= from && s.from <= to + TICK_LAG_S)
    .map((s) => ({ ...s, from: Math.min(Math.max(s.from, from), to), to: Math.min(Math.max(s.to, s.from), to) }))
    .sort((a, b) => a.from - b.from);
}

/** What a host's health flags mean, in words. */
export function describeFlags(flags: string): { text: string; tone: 'ok' | 'warn' | 'bad' } {
  if (flags === 'healthy') return { text: 'healthy', tone: 'ok' };
  if (flags.includes('/failed_outlier_check')) return { text: 'ejected', tone: 'bad' };
  if (flags.includes('/pending_active_hc')) return { text: 'waiting for its first health check', tone: 'warn' };
  if (flags.includes('/failed_active_hc')) return { text: 'failing its health check', tone: 'bad' };
  if (flags.includes('/failed_eds_health')) return { text: 'unhealthy (health_status)', tone: 'bad' };
  return { text: flags, tone: 'warn' };
}

/** One line per event for the history list, newest first. */
export function describeEvent(e: HostHealthEvent): string {
  switch (e.kind) {
    case 'ejected':
      return `ejected by outlier detection (${e.reason.replace(/_/g, ' ')}) for ${Math.round((e.ejectionMs ?? 0) / 1000)} s`;
    case 'unejected':
      return 'back in rotation (ejection time over)';
    case 'hc_failed':
      return `failed its health check (${e.reason})`;
    case 'hc_passed':
      return `passed its health check (${e.reason})`;
  }
}
