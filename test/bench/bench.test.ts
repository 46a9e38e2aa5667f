// The bench harness's own pieces (scripts/bench/): parsing, statistics, config generation, and
// the two Node programs it runs (the undici reference proxy and the fixed-rate generator) against
// real sockets. wrk, nginx and HAProxy are not needed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

// The harness is plain .mjs; a computed specifier keeps the type checker out of it.
const load = (p: string): Promise<any> => import(new URL(`../../scripts/bench/${p}`, import.meta.url).href);
const script = (p: string) => fileURLToPath(new URL(`../../scripts/bench/${p}`, import.meta.url));

const WRK_OUTPUT = `Running 10s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   845.20us    1.02ms  41.30ms   97.51%
    Req/Sec    56.12k     3.10k   60.01k    80.00%
  Latency Distribution
     50%  635.91us
     75%    1.01ms
     90%    1.50ms
     99%    2.23s
  561234 requests in 10.00s, 90.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  56123.45
Transfer/sec:      9.01MB
`;

test('parseWrk reads req/s, percentiles in any unit, and errors', async () => {
  const { parseWrk } = await load('wrk.mjs');
  const r = parseWrk(WRK_OUTPUT);
  assert.equal(r.rps, 56123.45);
  assert.equal(r.latencyMs.p50, 0.63591);
  assert.equal(r.latencyMs.p75, 1.01);
  assert.equal(r.latencyMs.p99, 2230);
  assert.equal(r.latencyMs.max, 41.3);
  assert.equal(r.requests, 561234);
  assert.equal(r.non2xx3xx, 5);
  assert.deepEqual(r.socketErrors, { connect: 0, read: 2, write: 0, timeout: 1 });
  assert.equal(r.errors, 8);
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /could not parse wrk output/);
});

test('percentiles are exact nearest-rank over all samples', async () => {
  const { percentiles } = await load('stats.mjs');
  const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000, unsorted
  const p = percentiles(samples, [50, 99, 99.9]);
  assert.equal(p.p50, 500);
  assert.equal(p.p99, 990);
  assert.equal(p.p999, 999);
  assert.equal(p.max, 1000);
  assert.equal(p.count, 1000);
  assert.equal(percentiles([]).p50, null);
});

test('other processes: time of a reaped child moves to its parent and is not counted twice', async () => {
  const { othersPercent } = await load('stats.mjs');
  const before = new Map([[10, { jiffies: 100, comm: 'bash' }], [11, { jiffies: 300, comm: 'node' }]]);
  const after = new Map([[10, { jiffies: 100 + 350, comm: 'bash' }]]); // child 11 used 50 more, then was reaped
  assert.equal(othersPercent(before, after, 1).percent, 50);
});

test('options: defaults, --quick, --only, repeated --config, bad input', async () => {
  const { parseOptions } = await load('options.mjs');
  const d = parseOptions([], {});
  assert.equal(d.durationS, 10);
  assert.equal(d.warmupS, 3);
  assert.equal(d.connections, 50);
  assert.equal(d.rate, 2000);
  assert.equal(d.engine, null);
  const q = parseOptions(['--quick', '--only=meshdeck,nginx', '--config=a.yaml', '--config=b.yaml', '--duration=5s'], {});
  assert.equal(q.durationS, 5);
  assert.equal(q.fixedDurationS, 3);
  assert.deepEqual(q.only, ['meshdeck', 'nginx']);
  assert.deepEqual(q.configs, ['a.yaml', 'b.yaml']);
  assert.equal(parseOptions([], { BENCH_CONNECTIONS: '100', MESHDECK_BIN: 'x.mjs' }).connections, 100);
  assert.throws(() => parseOptions(['--bogus'], {}), /unknown option/);
  assert.throws(() => parseOptions(['--duration=abc'], {}), /expected seconds/);
});

test('rows: --only narrows, config rows follow their prefix, unknown ids are refused', async () => {
  const { buildRows, selectRows } = await load('rows.mjs');
  const rows = buildRows({ root: process.cwd(), cwd: process.cwd(), engine: null, configs: ['x/access-log.yaml'], configFixedRate: false });
  assert.deepEqual(rows.map((r: any) => r.id), [
    'direct', 'nginx', 'haproxy', 'meshdeck', 'meshdeck-accesslog', 'meshdeck-jwt-rbac', 'undici',
    'nginx-tls', 'meshdeck-tls', 'nginx-h2', 'meshdeck-h2', 'meshdeck:access-log',
  ]);
  assert.deepEqual(selectRows(rows, ['meshdeck', 'nginx']).map((r: any) => r.id), ['nginx', 'meshdeck', 'meshdeck:access-log']);
  assert.deepEqual(selectRows(rows, []).length, 12);
  assert.throws(() => selectRows(rows, ['envoy']), /unknown row/);
});

test('a user config is re-pointed at the bench upstream and keeps everything else', async () => {
  const { adaptUserConfig } = await load('configs.mjs');
  const YAML = (await import('yaml')).default;
  const src = `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }
    filter_chains:
    - transport_socket: { name: envoy.transport_sockets.tls }
      filters: [{ name: envoy.filters.network.http_connection_manager, typed_config: { stat_prefix: s, access_log: [{ name: x }] } }]
  clusters:
  - name: c
    type: STRICT_DNS
    load_assignment:
      cluster_name: c
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: api.example, port_value: 443 } } } }] }]
`;
  const { yaml, scheme } = adaptUserConfig(src, { host: '127.0.0.1', port: 4567 });
  assert.equal(scheme, 'https');
  const doc = YAML.parse(yaml);
  assert.deepEqual(doc.static_resources.listeners[0].address.socket_address, { address: '127.0.0.1', port_value: 0 });
  assert.deepEqual(doc.admin.address.socket_address, { address: '127.0.0.1', port_value: 0 });
  const c = doc.static_resources.clusters[0];
  assert.equal(c.type, 'STATIC');
  assert.deepEqual(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: '127.0.0.1', port_value: 4567 });
  assert.equal(doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].name, 'x');
});

async function withUpstream(fn: (port: number) => Promise<void>) {
  const { UPSTREAM_BODY } = await load('configs.mjs');
  const server = http.createServer((req, res) => { req.resume(); res.end(UPSTREAM_BODY); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try { await fn((server.address() as AddressInfo).port); } finally { server.close(); server.closeAllConnections(); }
}

test('the undici reference proxy prints the ready line and proxies to the cluster', async () => {
  const { envoyBootstrap, toYaml } = await load('configs.mjs');
  const { checkProxies } = await load('measure.mjs');
  await withUpstream(async (port) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    const file = join(dir, 'envoy.yaml');
    writeFileSync(file, toYaml(envoyBootstrap({ host: '127.0.0.1', port })));
    const child = spawn(process.execPath, [script('undici-proxy.mjs'), '-c', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line: string = await new Promise((resolve, reject) => {
        child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.split('\n')[0]));
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const ready = JSON.parse(line);
      assert.equal(ready.event, 'ready');
      assert.match(ready.admin, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ready.listeners[0].address, /^127\.0\.0\.1:\d+$/);
      await checkProxies(`http://${ready.listeners[0].address}/some/path?q=1`);
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the fixed-rate generator sends on schedule and counts every sample', async () => {
  const { fixedRate } = await load('fixed-rate.mjs');
  await withUpstream(async (port) => {
    const r = await fixedRate({ url: `http://127.0.0.1:${port}/`, rate: 400, durationS: 1, warmupS: 0.25, connections: 8 });
    assert.equal(r.measured, 400);
    assert.equal(r.ok, 400);
    assert.equal(r.errors, 0);
    assert.equal(r.latencyMs.count, 400);
    assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.p50 < 50, `p50 ${r.latencyMs.p50}`);
    assert.ok(r.achievedRps > 300 && r.achievedRps < 500, `achieved ${r.achievedRps}`);
  });
});

test('--repeat: medians over the undisturbed runs; failed and disturbed runs are left out', async () => {
  const { aggregate } = await load('aggregate.mjs');
  const row = (rps: number, p50: number, other: number, error?: string) => (error
    ? { id: 'm', label: 'm', error }
    : { id: 'm', label: 'm', wrk: { rps, errors: 0, latencyMs: { p50 } }, cpuBusy: [99, 40], others: { percent: other, top: [] } });
  const [m] = aggregate([[row(100, 5, 1)], [row(300, 1, 20)], [row(0, 0, 0, 'boom')], [row(200, 3, 2)], [row(150, 4, 0)]]);
  assert.equal(m.wrk.rps, 150);
  assert.equal(m.wrk.latencyMs.p50, 4);
  assert.equal(m.wrk.errors, 0);
  assert.deepEqual(m.rpsRange, [100, 200]);
  assert.deepEqual(m.medianOf, { wrk: 3, fixed: 0 });
  assert.equal(m.failedRuns, 1);
  assert.equal(m.others.percent, 2);
  assert.equal(m.error, undefined);
  const [all] = aggregate([[row(100, 5, 30)], [row(300, 1, 20)]]); // none quiet: use them all
  assert.equal(all.wrk.rps, 200);
  assert.equal(all.others.percent, 30);
});
