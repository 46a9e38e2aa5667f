// GET /stats/prometheus: Envoy's names, tag extraction, TYPE lines, histogram buckets, and
// `promtool check metrics` on the output after mixed traffic.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BUCKETS } from '../../../engine/observe/histogram';
import { extractTags, metricName } from '../../../engine/observe/prometheus';
import { admin, mixedEngine, mixedTraffic, type MixedSetup } from './helpers';

let m: MixedSetup;
let body: string;
let contentType: string;

before(async () => {
  m = await mixedEngine();
  await mixedTraffic(m.e, 300);
  const r = await admin(m.e, '/stats/prometheus');
  assert.equal(r.status, 200);
  body = r.body;
  contentType = String(r.headers['content-type']);
});
after(() => m.stop());

test("tag extraction follows Envoy's default tag regexes (well_known_names.cc)", () => {
  // The examples, as Envoy names them:
  //   envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="payments"}
  //   envoy_http_downstream_rq_xx{envoy_response_code_class=…,envoy_http_conn_manager_prefix=…}
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ['cluster.payments.upstream_rq_2xx', 'cluster.upstream_rq_xx', [['envoy_response_code_class', '2'], ['envoy_cluster_name', 'payments']]],
    ['cluster.payments.upstream_rq_503', 'cluster.upstream_rq', [['envoy_response_code', '503'], ['envoy_cluster_name', 'payments']]],
    ['cluster.payments.upstream_rq_total', 'cluster.upstream_rq_total', [['envoy_cluster_name', 'payments']]],
    ['cluster.payments.circuit_breakers.default.rq_open', 'cluster.circuit_breakers.default.rq_open', [['envoy_cluster_name', 'payments']]],
    ['http.ingress_http.downstream_rq_4xx', 'http.downstream_rq_xx', [['envoy_response_code_class', '4'], ['envoy_http_conn_manager_prefix', 'ingress_http']]],
    ['http.ingress_http.downstream_rq_time', 'http.downstream_rq_time', [['envoy_http_conn_manager_prefix', 'ingress_http']]],
    ['listener.127.0.0.1_10000.downstream_cx_total', 'listener.downstream_cx_total', [['envoy_listener_address', '127.0.0.1_10000']]],
    ['listener.[__1]_10000.downstream_cx_total', 'listener.downstream_cx_total', [['envoy_listener_address', '[__1]_10000']]],
    ['server.memory_allocated', 'server.memory_allocated', []],
  ];
  for (const [name, extracted, tags] of cases) {
    assert.deepEqual(extractTags(name), { name: extracted, tags }, name);
  }
  assert.equal(metricName('cluster.circuit_breakers.default.rq_open'), 'envoy_cluster_circuit_breakers_default_rq_open');
  assert.equal(metricName('listener.downstream_cx-total'), 'envoy_listener_downstream_cx_total', 'characters outside [a-zA-Z0-9_] become _');
});

test('served as Prometheus text 0.0.4 with the issue\'s example series', () => {
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  const pay2xx = m.ok.hits;
  assert.ok(body.includes(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="payments"} ${pay2xx}\n`));
  assert.ok(body.includes(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="payments"} ${m.bad.hits}\n`));
  assert.ok(body.includes(`envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="payments"} ${m.bad.hits}\n`));
  assert.match(body, /^envoy_http_downstream_rq_xx\{envoy_response_code_class="4",envoy_http_conn_manager_prefix="ingress_http"\} 30$/m);
  const port = m.e.engine.boundListeners()[0].address.split(':')[1];
  assert.match(body, new RegExp(`^envoy_listener_downstream_cx_total\\{envoy_listener_address="127\\.0\\.0\\.1_${port}"\\} [1-9]\\d*$`, 'm'));
  assert.match(body, /^envoy_server_live\{\} 1$/m, 'a stat without tags prints {} as Envoy does');
});

interface Family {
  type: string;
  samples: string[];
}

function parse(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const t = /^# TYPE ([a-zA-Z_][a-zA-Z0-9_]*) (counter|gauge|histogram)$/.exec(line);
    if (t) {
      assert.ok(!families.has(t[1]), `one TYPE line per family: ${t[1]}`);
      current = { type: t[2], samples: [] };
      families.set(t[1], current);
      continue;
    }
    assert.ok(current, `sample before any TYPE: ${line}`);
    current.samples.push(line);
  }
  return families;
}

test('every family: one # TYPE line, then its samples together; histograms with Envoy\'s buckets, _sum and _count', () => {
  const families = parse(body);
  assert.ok(families.size > 20);
  const series = new Set<string>();
  for (const [name, f] of families) {
    for (const s of f.samples) {
      const mm = /^([a-zA-Z_][a-zA-Z0-9_]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\} (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/.exec(s);
      assert.ok(mm, `sample line: ${s}`);
      const key = `${mm[1]}{${mm[2]}}`;
      assert.ok(!series.has(key), `duplicate series ${key}`);
      series.add(key);
      if (f.type === 'histogram') assert.ok([`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(mm[1]), s);
      else assert.equal(mm[1], name, s);
    }
  }
  const h = families.get('envoy_http_downstream_rq_time');
  assert.equal(h?.type, 'histogram');
  const buckets = h!.samples.filter((s) => s.includes('_bucket{'));
  assert.deepEqual(
    buckets.map((s) => /le="([^"]+)"/.exec(s)![1]),
    [...BUCKETS.map(String), '+Inf'],
    "Envoy's default buckets 0.5 … 3600000, then +Inf",
  );
  const counts = buckets.map((s) => Number(s.split(' ').at(-1)));
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'cumulative buckets never decrease');
  assert.equal(counts.at(-1), 300, '+Inf holds every request');
  assert.ok(h!.samples.includes('envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix="ingress_http"} 300'));
  assert.ok(h!.samples.some((s) => /^envoy_http_downstream_rq_time_sum\{envoy_http_conn_manager_prefix="ingress_http"\} \d+(\.\d+)?$/.test(s)));
  assert.equal(families.get('envoy_cluster_upstream_rq_xx')?.type, 'counter');
  assert.equal(families.get('envoy_cluster_membership_healthy')?.type, 'gauge');
  // Families are grouped: counters, then gauges, then histograms (Envoy's order).
  const order = [...families.values()].map((f) => f.type);
  const rank = { counter: 0, gauge: 1, histogram: 2 } as Record<string, number>;
  assert.deepEqual(order, [...order].sort((a, b) => rank[a] - rank[b]));
});

// The Prometheus lint rules that Envoy's own stat names break, whatever the exporter: Envoy's
// /stats/prometheus has no HELP lines, counters without _total (envoy_cluster_upstream_rq_xx),
// gauges ending in _total (membership_total) and _ms histograms (downstream_cx_length_ms).
// Renaming them would break every Envoy dashboard, so only these are tolerated.
const ENVOY_NAMING_LINT = [/ no help text$/, / counter metrics should have "_total" suffix$/, / non-counter metrics should not have "_total" suffix$/, / metric names should not contain abbreviated units$/];

test('promtool check metrics: the exposition parses, and lint finds nothing beyond the naming Envoy itself uses', () => {
  const which = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    assert.fail(
      'promtool is not installed: install the Debian package "prometheus" (apt-get install -y prometheus), ' +
        'which provides /usr/bin/promtool; .ci/run must install it before the tests run',
    );
  }
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  assert.ok(!/error while linting|parsing error/.test(out), `promtool cannot parse the exposition:\n${out}`);
  assert.ok(r.status === 0 || r.status === 3, `promtool exited ${r.status} (1 is a parse error):\n${out}`);
  const problems = out.split('\n').filter((l) => l.trim());
  const unexpected = problems.filter((l) => !ENVOY_NAMING_LINT.some((re) => re.test(l)));
  assert.deepEqual(unexpected, [], `promtool lint beyond Envoy's naming:\n${unexpected.join('\n')}`);
  // The check has teeth: a malformed exposition is rejected.
  const broken = spawnSync('promtool', ['check', 'metrics'], { input: body.replace('# TYPE envoy_server_live gauge', '# TYPE envoy_server_live gauge\n# TYPE envoy_server_live gauge'), encoding: 'utf8' });
  assert.equal(broken.status, 1, 'promtool rejects a second TYPE line');
});

test('?usedonly and ?filter apply to the Prometheus output too; /stats?format=prometheus is the same', async () => {
  const used = (await admin(m.e, '/stats/prometheus?usedonly')).body;
  assert.ok(!used.includes('envoy_cluster_upstream_rq_retry{'));
  assert.ok(used.includes('envoy_cluster_upstream_rq_total{envoy_cluster_name="payments"}'));
  const filtered = (await admin(m.e, '/stats/prometheus?filter=^cluster\\.payments\\.')).body;
  assert.ok(filtered.length > 0 && filtered.split('\n').filter((l) => l && !l.startsWith('#')).every((l) => l.includes('envoy_cluster_name="payments"')));
  const viaStats = await admin(m.e, '/stats?format=prometheus&filter=^cluster\\.payments\\.upstream_rq_total$');
  assert.equal(viaStats.body, '# TYPE envoy_cluster_upstream_rq_total counter\n' + `envoy_cluster_upstream_rq_total{envoy_cluster_name="payments"} ${m.ok.hits + m.bad.hits}\n\n`);
});
