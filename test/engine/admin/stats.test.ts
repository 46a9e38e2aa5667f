// GET /stats after mixed traffic: Envoy's names and text/JSON formats, ?filter, ?usedonly, the
// histograms' cumulative and interval quantiles, and the per-host counters /clusters shows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPORTED_QUANTILES } from '../../../engine/observe/histogram';
import { countBy, type Reply } from '../../helpers/client';
import { admin, exactQuantile, mixedEngine, mixedTraffic, within1pct, type MixedSetup } from './helpers';

let m: MixedSetup;
let replies: Reply[];
const N = 1000;

before(async () => {
  m = await mixedEngine();
  replies = await mixedTraffic(m.e, N);
  for (let i = 0; i < 100 && m.log.length < N; i++) await new Promise((r) => setTimeout(r, 10));
  // Close the stats interval now, as the engine's flush timer does each second.
  m.e.engine.stats.flush();
});
after(() => m.stop());

function statsMap(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of body.split('\n')) {
    if (!line) continue;
    const i = line.indexOf(': ');
    out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

const NUM = String.raw`(?:nan|\d+(?:\.\d+)?(?:e[-+]\d+)?)`;
// Envoy's quantileSummary: "P{:g}({interval},{cumulative})" for each supported quantile, space-separated.
const SUMMARY = new RegExp(`^${['0', '25', '50', '75', '90', '95', '99', '99.5', '99.9', '100'].map((p) => `P${p.replace('.', '\\.')}\\(${NUM},${NUM}\\)`).join(' ')}$`);

test('text: "name: value" lines, counters and gauges sorted together, then the histograms sorted (Envoy format)', async () => {
  // Envoy's documented text (admin.rst): "cluster.<name>.<stat>: <value>", and for histograms
  //   "http.admin.downstream_rq_time: P0(1,1) P25(1.0625,1.034) P50(2.0166,1.068) P75(2.058,2.005) P90(2.083,2.06)
  //    P95(2.091,2.08) P99(2.09,2.09) P99.5(2.099,2.098) P99.9(2.099,2.099) P100(2.1,2.1)"
  // or "No recorded values".
  const r = await admin(m.e, '/stats');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  const lines = r.body.trimEnd().split('\n');
  const firstHistogram = lines.findIndex((l) => /: (P0\(|No recorded values)/.test(l));
  assert.ok(firstHistogram > 0, 'histograms come after the counters and gauges');
  const numeric = lines.slice(0, firstHistogram);
  const histos = lines.slice(firstHistogram);
  for (const l of numeric) assert.match(l, /^[\w.[\]-]+: -?\d+$/, `counter/gauge line: ${l}`);
  for (const l of histos) assert.match(l, /^[\w.[\]-]+: (No recorded values|P0\(.*)$/, `histogram line: ${l}`);
  const names = (ls: string[]) => ls.map((l) => l.slice(0, l.indexOf(': ')));
  assert.deepEqual(names(numeric), [...names(numeric)].sort(), 'counters and gauges sorted by name');
  assert.deepEqual(names(histos), [...names(histos)].sort(), 'histograms sorted by name');
  const s = statsMap(r.body);
  for (const h of ['cluster.payments.upstream_rq_time', 'http.ingress_http.downstream_rq_time']) assert.match(s.get(h) ?? '', SUMMARY, h);
  assert.equal(s.get('cluster.slow.upstream_rq_time'), 'No recorded values', 'a cluster whose every request timed out has no upstream_rq_time');
});

test('counters count the mixed traffic under Envoy names (cluster., http.<prefix>., listener.<address>.)', async () => {
  const s = statsMap((await admin(m.e, '/stats')).body);
  const by = countBy(replies, (r) => String(r.status));
  const paths = countBy(
    replies.map((_, i) => i),
    (i) => (i % 10 === 3 ? 'nowhere' : i % 10 === 7 ? 'slow' : i % 20 === 5 ? 'dead' : 'pay'),
  );
  const pay200 = m.ok.hits;
  const pay503 = m.bad.hits;
  assert.equal(pay200 + pay503, paths.get('pay'));
  assert.equal(s.get('cluster.payments.upstream_rq_total'), String(paths.get('pay')));
  assert.equal(s.get('cluster.payments.upstream_rq_2xx'), String(pay200));
  assert.equal(s.get('cluster.payments.upstream_rq_200'), String(pay200));
  assert.equal(s.get('cluster.payments.upstream_rq_5xx'), String(pay503));
  assert.equal(s.get('cluster.payments.upstream_rq_503'), String(pay503));
  assert.equal(s.get('cluster.slow.upstream_rq_timeout'), String(paths.get('slow')));
  assert.equal(s.get('cluster.slow.upstream_rq_504'), String(paths.get('slow')), 'a route timeout is charged as a 504, as Envoy does');
  assert.equal(s.get('cluster.dead.upstream_cx_connect_fail'), String(paths.get('dead')));
  assert.equal(s.get('http.ingress_http.downstream_rq_total'), String(N));
  assert.equal(s.get('http.ingress_http.downstream_rq_2xx'), String(by.get('200')));
  assert.equal(s.get('http.ingress_http.downstream_rq_4xx'), String(by.get('404')));
  assert.equal(s.get('http.ingress_http.downstream_rq_5xx'), String((by.get('503') ?? 0) + (by.get('504') ?? 0)));
  assert.equal(s.get('http.ingress_http.no_route'), String(paths.get('nowhere')));
  const bound = m.e.engine.boundListeners()[0].address; // "127.0.0.1:PORT"
  const scope = `listener.${bound.replace(':', '_')}.`;
  assert.match(scope, /^listener\.127\.0\.0\.1_\d+\.$/);
  assert.ok(Number(s.get(`${scope}downstream_cx_total`)) >= 1, `${scope}downstream_cx_total`);
  assert.equal(s.get(`${scope}downstream_cx_total`), s.get('http.ingress_http.downstream_cx_total'));
  assert.equal(s.get('server.live'), '1');
  assert.equal(s.get('cluster_manager.active_clusters'), '3');
});

test('downstream_rq_time: every quantile within 1% of the exact quantile of the 1,000 recorded request times', async () => {
  const samples = m.log.map((i) => i.lastDownstreamTxMono - i.startMono).sort((a, b) => a - b);
  assert.equal(samples.length, N);
  const j = JSON.parse((await admin(m.e, '/stats?format=json&filter=^http\\.ingress_http\\.downstream_rq_time$')).body);
  const h = j.stats.at(-1).histograms.computed_quantiles[0];
  assert.equal(h.name, 'http.ingress_http.downstream_rq_time');
  SUPPORTED_QUANTILES.forEach((q, i) => {
    const exact = exactQuantile(samples, q);
    assert.ok(within1pct(h.values[i].cumulative, exact), `P${q * 100}: ${h.values[i].cumulative} vs exact ${exact}`);
  });
  const hist = m.e.engine.stats.histogram('http.ingress_http.downstream_rq_time');
  assert.equal(hist.count, N);
});

test('upstream_rq_time counts each upstream response the router forwarded, per cluster and per host', () => {
  const c = m.e.engine.snapshot!.clusters.get('payments')!;
  assert.equal(c.stats.upstream_rq_time.count, m.ok.hits + m.bad.hits);
  const [okHost, badHost] = c.hosts;
  assert.equal(okHost.stats.rq_time.count, m.ok.hits);
  assert.equal(badHost.stats.rq_time.count, m.bad.hits);
  assert.ok(okHost.stats.rq_time.cumulative().p50 > 0);
});

test('per-host stats: rq_total, rq_success, rq_error, rq_timeout, cx_connect_fail as Envoy charges them', () => {
  const snap = m.e.engine.snapshot!;
  const [okHost, badHost] = snap.clusters.get('payments')!.hosts;
  assert.equal(okHost.stats.rq_total.value, m.ok.hits);
  assert.equal(okHost.stats.rq_success.value, m.ok.hits);
  assert.equal(okHost.stats.rq_error.value, 0);
  assert.equal(badHost.stats.rq_total.value, m.bad.hits);
  assert.equal(badHost.stats.rq_error.value, m.bad.hits, 'a 5xx response is an rq_error');
  assert.equal(badHost.stats.rq_success.value, 0);
  assert.ok(okHost.stats.cx_total.value >= 1, 'connections opened are counted per host');
  const slowHost = snap.clusters.get('slow')!.hosts[0];
  assert.equal(slowHost.stats.rq_timeout.value, slowHost.stats.rq_total.value);
  assert.equal(slowHost.stats.rq_error.value, slowHost.stats.rq_total.value, 'a timeout is answered 504: an error');
  const deadHost = snap.clusters.get('dead')!.hosts[0];
  assert.equal(deadHost.stats.cx_connect_fail.value, deadHost.stats.rq_total.value);
  assert.ok(deadHost.stats.cx_connect_fail.value > 0);
});

test('?filter= is a regex matched anywhere in the name; ?usedonly drops what never changed', async () => {
  const f = await admin(m.e, '/stats?filter=upstream_rq_5');
  const names = [...statsMap(f.body).keys()];
  assert.ok(names.length >= 3);
  assert.ok(names.every((n) => /upstream_rq_5/.test(n)), names.join(', '));
  const anchored = [...statsMap((await admin(m.e, '/stats?filter=^cluster\\.payments\\.upstream_rq_2xx$')).body).keys()];
  assert.deepEqual(anchored, ['cluster.payments.upstream_rq_2xx']);
  const used = statsMap((await admin(m.e, '/stats?usedonly')).body);
  assert.ok(!used.has('cluster.payments.upstream_rq_retry'), 'a counter never incremented is not "used"');
  assert.ok(!used.has('cluster.slow.upstream_rq_time'), 'a histogram never recorded is not "used"');
  assert.ok(used.has('cluster.payments.upstream_rq_2xx'));
  assert.ok(used.has('cluster.payments.upstream_rq_active'), 'a gauge that went up and back to 0 was used');
  const all = statsMap((await admin(m.e, '/stats')).body);
  assert.ok(all.has('cluster.payments.upstream_rq_retry'));
  const bad = await admin(m.e, '/stats?filter=(?=x)');
  assert.equal(bad.status, 400, 'Envoy filters with RE2: a lookahead is an invalid regex');
  assert.match(bad.body, /Invalid re2 regex/);
});

test('?format=json: {"stats":[{name,value}…,{"histograms":{supported_quantiles,computed_quantiles}}]} as Envoy', async () => {
  // Envoy's documented example (admin.rst):
  //   {"histograms": {"supported_quantiles": [0, 25, 50, 75, 90, 95, 99, 99.9, 100],
  //     "computed_quantiles": [{"name": "cluster.external_auth_cluster.upstream_cx_length_ms",
  //       "values": [{"interval": 0, "cumulative": 0}, … {"interval": 260, "cumulative": 260}]}, …]}}
  // ("If a histogram is not updated during an interval, the output will have null for all the quantiles.")
  const r = await admin(m.e, '/stats?format=json');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  const j = JSON.parse(r.body) as { stats: Array<Record<string, unknown>> };
  const last = j.stats.at(-1) as { histograms: { supported_quantiles: number[]; computed_quantiles: Array<{ name: string; values: Array<{ interval: number | null; cumulative: number | null }> }> } };
  const numeric = j.stats.slice(0, -1) as Array<{ name: string; value: number }>;
  assert.ok(numeric.every((s) => typeof s.name === 'string' && typeof s.value === 'number' && Object.keys(s).length === 2));
  assert.equal(numeric.find((s) => s.name === 'cluster.payments.upstream_rq_2xx')?.value, m.ok.hits);
  assert.deepEqual(last.histograms.supported_quantiles, [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
  const slow = last.histograms.computed_quantiles.find((h) => h.name === 'cluster.slow.upstream_rq_time')!;
  assert.equal(slow.values.length, 10);
  assert.ok(slow.values.every((v) => v.interval === null && v.cumulative === null), 'no values: null, as Envoy');
  const pay = last.histograms.computed_quantiles.find((h) => h.name === 'cluster.payments.upstream_rq_time')!;
  assert.ok(pay.values.every((v) => typeof v.cumulative === 'number'));
  const cum = pay.values.map((v) => v.cumulative as number);
  assert.deepEqual(cum, [...cum].sort((a, b) => a - b), 'quantiles never decrease');
});

test('interval quantiles: nan until the first flush, then the last closed interval only; cumulative keeps everything', async () => {
  const e = m.e.engine;
  const h = e.stats.histogram('cluster.payments.upstream_rq_time');
  const before = h.count;
  e.stats.flush(); // an interval with no traffic
  const line = statsMap((await admin(m.e, '/stats?filter=^cluster\\.payments\\.upstream_rq_time$')).body).get('cluster.payments.upstream_rq_time')!;
  assert.match(line, SUMMARY);
  assert.match(line, /^P0\(nan,[\d.]+\) P25\(nan,/, 'an interval that recorded nothing prints nan, the cumulative stays');
  assert.equal(h.count, before);
});

test('unsupported query values are refused with 400, never silently ignored', async () => {
  assert.equal((await admin(m.e, '/stats?format=html')).status, 400);
  assert.equal((await admin(m.e, '/stats?histogram_buckets=detailed')).status, 400);
  assert.equal((await admin(m.e, '/stats?type=Nope')).status, 400);
  const counters = statsMap((await admin(m.e, '/stats?type=Counters')).body);
  assert.ok(counters.has('cluster.payments.upstream_rq_total') && !counters.has('server.live') && !counters.has('cluster.payments.upstream_rq_time'));
});
