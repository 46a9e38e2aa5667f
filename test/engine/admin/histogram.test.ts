// The latency histogram: quantiles within 1% of the exact sample quantiles, exact counts, sums
// and Prometheus buckets, and Envoy's cumulative/interval split driven by the stats flush.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKETS, Histogram, SUPPORTED_QUANTILES } from '../../../engine/observe/histogram';
import { StatsStore } from '../../../engine/observe/stats';
import { exactQuantile, within1pct } from './helpers';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const DISTRIBUTIONS: Record<string, (r: () => number) => number> = {
  // A payment API: log-normal around 40 ms with a long tail.
  lognormal: (r) => Math.exp(Math.log(40) + 0.8 * normal(r)),
  // Cache hits at ~2 ms, misses at ~180 ms.
  bimodal: (r) => (r() < 0.7 ? 2 + r() * 0.5 : 180 + r() * 40),
  // Sub-millisecond to a minute, log-uniform: every magnitude the histogram must cover.
  wide: (r) => Math.exp(Math.log(0.05) + r() * (Math.log(60_000) - Math.log(0.05))),
  uniform: (r) => 1 + r() * 999,
};

for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
  test(`${name}: every supported quantile within 1% of the exact sample quantile (20,000 samples)`, () => {
    const r = rng(name.length * 7919);
    const h = new Histogram('t');
    const samples: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Microsecond resolution is what is recorded: build the exact reference from the same values.
      const v = Math.round(draw(r) * 1000) / 1000;
      samples.push(v);
      h.record(v);
    }
    samples.sort((a, b) => a - b);
    const got = h.cumulative();
    assert.equal(got.count, samples.length);
    SUPPORTED_QUANTILES.forEach((q, i) => {
      const exact = exactQuantile(samples, q);
      assert.ok(within1pct(got.quantiles[i], exact), `P${q * 100}: histogram ${got.quantiles[i]} vs exact ${exact}`);
    });
    assert.ok(within1pct(got.p50, exactQuantile(samples, 0.5)));
    assert.ok(within1pct(got.p90, exactQuantile(samples, 0.9)));
    assert.ok(within1pct(got.p99, exactQuantile(samples, 0.99)));
    assert.ok(within1pct(h.quantile(0.99), exactQuantile(samples, 0.99)));
    const sum = samples.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(got.sum - sum) < 1e-6 * sum, `sum ${got.sum} vs ${sum}`);
    h.close();
  });
}

test('Prometheus buckets count exactly the values <= each bound, +Inf is the count', () => {
  const h = new Histogram('t');
  const values = [0, 0.2, 0.5, 0.5001, 1, 7, 10, 10.5, 999, 1000, 4000, 3_600_000, 5_000_000];
  for (const v of values) h.record(v);
  const counts = h.bucketCounts();
  assert.equal(counts.length, BUCKETS.length);
  BUCKETS.forEach((b, i) => assert.equal(counts[i], values.filter((v) => v <= b).length, `le=${b}`));
  assert.equal(h.count, values.length);
  h.close();
});

test('negative and NaN values record as 0 (a clock that went backwards must not corrupt the histogram)', () => {
  const h = new Histogram('t');
  h.record(-5);
  h.record(Number.NaN);
  assert.equal(h.count, 2);
  assert.equal(h.cumulative().max, 0);
  h.close();
});

test('snapshotInterval: the interval holds only what came since the last one, the cumulative keeps all', () => {
  const h = new Histogram('t');
  for (let i = 1; i <= 100; i++) h.record(i);
  const first = h.snapshotInterval(1_000);
  assert.equal(first.count, 100);
  assert.ok(within1pct(first.p50, 50));
  assert.equal(first.endMs, 1_000);
  for (let i = 0; i < 10; i++) h.record(500);
  const second = h.snapshotInterval(2_000);
  assert.equal(second.count, 10);
  assert.equal(second.startMs, 1_000);
  assert.ok(within1pct(second.p50, 500) && within1pct(second.quantiles[0], 500), `interval P0/P50 ${second.quantiles[0]}/${second.p50}`);
  assert.equal(h.lastInterval, second);
  const third = h.snapshotInterval(3_000);
  assert.equal(third.count, 0);
  assert.ok(Number.isNaN(third.p50), 'an empty interval has no quantiles (Envoy prints nan)');
  const all = h.cumulative();
  assert.equal(all.count, 110);
  assert.ok(within1pct(all.quantiles[SUPPORTED_QUANTILES.length - 1], 500));
  // Peeking does not close the interval.
  h.record(3);
  assert.equal(h.peekInterval().count, 1);
  assert.equal(h.snapshotInterval(4_000).count, 1);
  h.close();
});

test('StatsStore.flush closes every interval, per-host ones included, and tells its listeners', () => {
  const store = new StatsStore();
  const rq = store.histogram('cluster.pay.upstream_rq_time');
  assert.equal(store.histogram('cluster.pay.upstream_rq_time'), rq, 'one handle per name');
  const host = store.hostStats('pay', '127.0.0.1:9000');
  assert.equal(store.hostStats('pay', '127.0.0.1:9000'), host, 'one per cluster and host');
  rq.record(12);
  host.rq_time.record(11);
  host.rq_time.record(13);
  const seen: number[] = [];
  const off = store.onFlush((e) => seen.push(e.histograms.get('cluster.pay.upstream_rq_time')!.count, e.hosts.get('pay\u0000127.0.0.1:9000')!.count));
  store.flush(5_000);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(rq.lastInterval?.count, 1);
  assert.equal(host.rq_time.lastInterval?.count, 2);
  off();
  store.flush(6_000);
  assert.equal(seen.length, 2, 'unsubscribed');
  assert.equal(rq.lastInterval?.count, 0);
  assert.equal(rq.cumulative().count, 1);
  store.close();
  rq.record(1);
  assert.equal(rq.count, 1, 'a closed store ignores records');
  assert.equal(rq.cumulative().count, 1, 'and its totals stay readable');
});

test('a record is cheap: under 2 µs on average (the hot path records three per request)', () => {
  const h = new Histogram('t');
  const r = rng(1);
  const values = Array.from({ length: 200_000 }, () => r() * 100);
  for (const v of values) h.record(v); // warm-up
  const t0 = performance.now();
  for (const v of values) h.record(v);
  const perRecordUs = ((performance.now() - t0) * 1000) / values.length;
  assert.ok(perRecordUs < 2, `${perRecordUs.toFixed(3)} µs per record`);
  h.close();
});
