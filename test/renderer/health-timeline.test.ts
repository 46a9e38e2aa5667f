// The dashboard's host health timeline without a browser: events → ejection and failed-check
// spans clipped to the chart's window, the flags in words, the event lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostHealthEvent } from '../../engine/admin/contract';
import { describeEvent, describeFlags, healthSpans } from '../../renderer/src/features/dashboard/health-timeline';

const ev = (tS: number, kind: HostHealthEvent['kind'], reason = 'consecutive_5xx', ejectionMs?: number): HostHealthEvent => ({
  t: tS * 1000,
  cluster: 'psp',
  host: '127.0.0.1:1',
  kind,
  reason,
  healthy: kind === 'unejected' || kind === 'hc_passed',
  flags: kind === 'ejected' ? '/failed_outlier_check' : 'healthy',
  ...(ejectionMs ? { ejectionMs } : {}),
});

test('health spans: closed and open ejections, failed checks, clipped to the window', () => {
  const events = [ev(10, 'ejected', 'consecutive_5xx', 30_000), ev(40, 'unejected'), ev(50, 'hc_failed', 'status 503'), ev(70, 'ejected', 'success_rate', 60_000)];
  const spans = healthSpans(events, 20, 100);
  assert.deepEqual(
    spans.map((s) => [s.kind, s.from, s.to, s.open, s.reason]),
    [
      ['ejected', 20, 40, false, 'consecutive_5xx'], // started before the window: clipped
      ['hc_failed', 50, 100, true, 'status 503'],
      ['ejected', 70, 100, true, 'success_rate'],
    ],
  );
  assert.deepEqual(healthSpans(events, 41, 45), [], 'nothing overlaps 41..45');
  // An ejection newer than the last tick still shows, as a sliver at the right edge.
  const late = healthSpans([ev(101, 'ejected')], 40, 100);
  assert.deepEqual(late.map((s) => [s.from, s.to, s.open]), [[100, 100, true]]);
});

test('flags and events in words', () => {
  assert.deepEqual(describeFlags('healthy'), { text: 'healthy', tone: 'ok' });
  assert.equal(describeFlags('/failed_active_hc/failed_outlier_check').text, 'ejected');
  assert.equal(describeFlags('/failed_active_hc/pending_active_hc').text, 'waiting for its first health check');
  assert.equal(describeFlags('/failed_active_hc').text, 'failing its health check');
  assert.equal(describeEvent(ev(1, 'ejected', 'consecutive_5xx', 30_000)), 'ejected by outlier detection (consecutive 5xx) for 30 s');
  assert.equal(describeEvent(ev(1, 'hc_failed', 'timeout')), 'failed its health check (timeout)');
});
