// The console's data layer and helpers, without a browser: how ticks extend the time series, the
// bounded log ring, the YAML diff, weighted_clusters discovery, copy-as-curl, the worst-host rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessLogEntry, SeriesPoint } from '../../engine/admin/contract';
import { normalizeFilter, logKeys } from '../../renderer/src/api/keys';
import { LogRing, appendToTail, newTail } from '../../renderer/src/api/log-ring';
import { applyTick, fromResponse, mergeSeries, seriesKey, windowStats, type TickEvent } from '../../renderer/src/api/series';
import { changedHunks, diffLines } from '../../renderer/src/components/diff';
import { lbPolicy } from '../../renderer/src/components/format';
import { toCurl } from '../../renderer/src/features/access-log/curl';
import { findWorst, verdict } from '../../renderer/src/features/dashboard/health';
import { findSplits } from '../../renderer/src/features/weights/splits';

const pt = (t: number, rps = 10, p99: number | null = 5): SeriesPoint => ({ t, rps, errorsPerSec: 0, p50: 1, p90: 2, p99 });

const tick = (t: number, rps: number): TickEvent => ({
  type: 'tick',
  t,
  clusters: [{ name: 'c', rps, errorsPerSec: 1, p50: 1, p99: 9, hosts: [{ address: 'h:1', rps, errorsPerSec: 1, p50: 1, p99: 9, healthy: true, inFlight: 2 }] }],
});

test('time series: ticks append, replace the same second, trim past the retention, and leave other series untouched', () => {
  let d = fromResponse({ retentionSeconds: 5, series: [{ cluster: 'c', points: [pt(100), pt(101)] }, { cluster: 'other', points: [pt(101)] }] });
  assert.equal(d.lastT, 101);
  const otherBefore = d.series.other;
  d = applyTick(d, tick(102, 30));
  assert.deepEqual(d.series.c!.map((p) => p.t), [100, 101, 102]);
  assert.equal(d.series.c![2]!.p90, null, 'ticks carry no p90');
  assert.equal(d.series[seriesKey('c', 'h:1')]!.length, 1);
  assert.equal(d.series.other, otherBefore);
  // A backfill of the same second (with its p90) replaces the tick's point.
  d = mergeSeries(d, { c: [{ ...pt(102, 30), p90: 7 }] });
  assert.equal(d.series.c!.length, 3);
  assert.equal(d.series.c![2]!.p90, 7);
  // Out of order: inserted in place.
  d = mergeSeries(d, { c: [pt(104), pt(103)] });
  assert.deepEqual(d.series.c!.map((p) => p.t), [100, 101, 102, 103, 104]);
  d = applyTick(d, tick(108, 1));
  assert.deepEqual(d.series.c!.map((p) => p.t), [103, 104, 108], 'older than lastT - retention is trimmed');
});

test('windowStats sums the last seconds and weights p99 by requests', () => {
  const pts = [pt(1, 100, 1000), pt(8, 10, 10), pt(9, 30, 30), { ...pt(10, 60, 60), errorsPerSec: 6 }];
  const s = windowStats(pts, 10, 3);
  assert.equal(s.requests, 100);
  assert.equal(s.errors, 6);
  assert.equal(s.errorRate, 0.06);
  assert.equal(s.p99, (10 * 10 + 30 * 30 + 60 * 60) / 100);
  assert.equal(windowStats(undefined, 10, 3).p99, null);
});

const entry = (id: number, extra: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  id,
  startTime: 1_700_000_000_000 + id,
  method: 'GET',
  authority: '127.0.0.1:10000',
  path: `/p/${id}`,
  protocol: 'HTTP/1.1',
  status: 200,
  flags: '-',
  responseCodeDetails: 'via_upstream',
  durationMs: 1,
  upstreamMs: 1,
  bytesReceived: 0,
  bytesSent: 3,
  listener: 'l',
  route: 'r',
  cluster: 'c',
  upstreamHost: 'h:1',
  downstreamRemoteAddress: '127.0.0.1:5',
  requestId: 'x',
  userAgent: '',
  attempts: 1,
  requestHeaders: {},
  ...extra,
});

test('log ring: newest first, bounded, and a frozen view stays put while entries arrive', () => {
  const r = new LogRing(5);
  r.push([1, 2, 3].map((i) => entry(i)));
  assert.equal(r.count(), 3);
  assert.equal(r.at(0)!.id, 3);
  assert.equal(r.at(2)!.id, 1);
  const frozen = r.total;
  r.push([4, 5, 6, 7].map((i) => entry(i)));
  assert.equal(r.count(), 5, 'bounded to its capacity');
  assert.equal(r.at(0)!.id, 7);
  assert.equal(r.at(4)!.id, 3);
  assert.equal(r.at(5), undefined);
  // The view frozen at 3 entries: entry 3 still first; 1 and 2 were evicted.
  assert.equal(r.count(frozen), 1);
  assert.equal(r.at(0, frozen)!.id, 3);
  const tail = newTail([entry(1)]);
  const next = appendToTail(tail, [entry(2)]);
  assert.notEqual(next, tail, 'a new cache value per change');
  assert.equal(next.ring, tail.ring, 'the entries are shared');
  assert.equal(next.ring.at(0)!.id, 2);
});

test('filter keys ignore empty fields', () => {
  assert.deepEqual(normalizeFilter({ path: '', status: '5xx', minDurationMs: Number.NaN }), { status: '5xx' });
  assert.deepEqual(logKeys.tail({ path: '' }), logKeys.tail({}));
});

test('diff: a changed weight is one deletion and one addition, with context', () => {
  const before = 'a: 1\nb:\n  weight: 1\nc: 3\nd: 4\ne: 5';
  const after = 'a: 1\nb:\n  weight: 9\nc: 3\nd: 4\ne: 5';
  const lines = diffLines(before, after);
  assert.deepEqual(lines.filter((l) => l.kind !== 'same'), [
    { kind: 'del', text: '  weight: 1', line: 3 },
    { kind: 'add', text: '  weight: 9', line: 3 },
  ]);
  const hunks = changedHunks(lines, 1);
  assert.deepEqual(hunks.map((h) => h?.text ?? null), ['b:', '  weight: 1', '  weight: 9', 'c: 3']);
  const added = diffLines('x\ny', 'x\n  load_balancing_weight: 3\ny');
  assert.deepEqual(added.filter((l) => l.kind !== 'same'), [{ kind: 'add', text: '  load_balancing_weight: 3', line: 2 }]);
});

test('findSplits reads weighted_clusters routes by name or vhost/index, snake or camel case', () => {
  const yaml = `
static_resources:
  listeners:
  - name: gw
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          route_config:
            virtual_hosts:
            - name: api
              routes:
              - match: { prefix: "/a" }
                route: { cluster: x }
              - name: canary
                match: { prefix: "/pay" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: v1, weight: 90 }
                    - { name: v2, weight: 10 }
              - match: { path: "/b" }
                route:
                  weightedClusters:
                    clusters: [{ name: b1, weight: { value: 3 } }, { name: b2, weight: 1 }]
`;
  const s = findSplits(yaml);
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], { route: 'canary', listener: 'gw', virtualHost: 'api', match: 'prefix /pay', clusters: [{ name: 'v1', weight: 90 }, { name: 'v2', weight: 10 }] });
  assert.equal(s[1]!.route, 'api/2');
  assert.deepEqual(s[1]!.clusters.map((c) => c.weight), [3, 1]);
  assert.deepEqual(findSplits('::: not yaml'), []);
});

test('copy as curl: method, URL, the client’s headers (not hop-by-hop or proxy-added), quoted for a shell', () => {
  const c = toCurl(
    entry(1, {
      method: 'POST',
      path: "/v1/o'k?x=1",
      bytesReceived: 12,
      requestHeaders: { host: 'a', 'content-length': '12', 'x-request-id': 'r', 'idempotency-key': "it's", 'x-envoy-expected-rq-timeout-ms': '5' },
    }),
  );
  assert.equal(c, `curl -X POST 'http://127.0.0.1:10000/v1/o'\\''k?x=1' -H 'idempotency-key: it'\\''s' --data-binary '<12 bytes of body, not recorded>'`);
  assert.equal(toCurl(entry(2)), `curl 'http://127.0.0.1:10000/p/2'`);
});

test('worst host: the slowest only when clearly slower, the failing one only with errors', () => {
  const st = (requests: number, errors: number, p99: number | null) => ({ requests, errors, errorRate: requests ? errors / requests : 0, p99, p50: null, rps: requests / 10 });
  assert.deepEqual(findWorst([{ address: 'a', healthy: true, stats: st(100, 0, 10) }, { address: 'b', healthy: true, stats: st(100, 0, 11) }]), {});
  assert.deepEqual(findWorst([{ address: 'a', healthy: true, stats: st(100, 1, 10) }, { address: 'b', healthy: true, stats: st(100, 9, 40) }]), { slowest: 'b', failing: 'b' });
  assert.equal(verdict(st(100, 10, 5), 0, 2), 'bad');
  assert.equal(verdict(st(100, 1, 5), 0, 2), 'warn');
  assert.equal(verdict(st(0, 0, null), 0, 2), 'idle');
  assert.equal(verdict(st(0, 0, null), 2, 2), 'bad');
  assert.equal(lbPolicy('envoy.load_balancing_policies.least_request').name, 'LEAST_REQUEST');
  assert.ok(lbPolicy('RING_HASH').sticky);
});
