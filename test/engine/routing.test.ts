// Route matching, rewrites, DNS clusters and Meshdeck's latency-aware policy on real sockets,
// and bad configs thrown at a running engine.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { bootstrap, staticCluster, startEngine, type RunningEngine } from '../helpers/engine';
import { startUpstream, startUpstreams, type Upstream } from '../helpers/upstream';
import { countBy, get, hammer } from '../helpers/client';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

let ups: Upstream[];
let e: RunningEngine;
before(async () => {
  ups = await startUpstreams(['regex', 'header', 'query', 'ci', 'default', 'rewrite']);
  const [regex, header, query, ci, dflt] = ups;
  const rewrite = await startUpstream('rewrite-echo', {}, { record: true });
  ups.push(rewrite);
  cleanups.push(async () => void (await Promise.all(ups.map((u) => u.close()))));
  e = await startEngine(
    bootstrap({
      routes: `
- match: { safe_regex: { regex: "/v1/payments/(?P<id>[0-9]+)/capture" } }
  route: { cluster: regex }
- match:
    prefix: "/v1/"
    headers:
    - name: x-psp
      string_match: { exact: adyen }
  route: { cluster: header }
- match:
    prefix: "/v1/"
    query_parameters:
    - name: debug
      present_match: true
  route: { cluster: query }
- match: { prefix: "/CaseLess", case_sensitive: false }
  route: { cluster: ci }
- match: { prefix: "/rw/" }
  route:
    cluster: rewrite
    regex_rewrite:
      pattern: { regex: "^/rw/(\\\\w+)/(\\\\d+)$" }
      substitution: "/\\\\2/\\\\1"
- match: { prefix: "/" }
  route: { cluster: default }`,
      clusters:
        staticCluster('regex', [{ port: regex.port }]) +
        staticCluster('header', [{ port: header.port }]) +
        staticCluster('query', [{ port: query.port }]) +
        staticCluster('ci', [{ port: ci.port }]) +
        staticCluster('default', [{ port: dflt.port }]) +
        staticCluster('rewrite', [{ port: rewrite.port }]),
    }),
  );
  cleanups.push(() => e.stop());
});

test('safe_regex routes use RE2 syntax ((?P<name>)) with full-match semantics', async () => {
  assert.equal((await get(`${e.url()}/v1/payments/42/capture`)).body.trim(), 'regex');
  assert.equal((await get(`${e.url()}/v1/payments/42/capture/x`)).body.trim(), 'default', 'a partial match is no match');
});

test('header and query-parameter matchers; first matching route wins', async () => {
  assert.equal((await get(`${e.url()}/v1/charge`, { 'x-psp': 'adyen' })).body.trim(), 'header');
  assert.equal((await get(`${e.url()}/v1/charge`, { 'x-psp': 'stripe' })).body.trim(), 'default');
  assert.equal((await get(`${e.url()}/v1/charge?debug`)).body.trim(), 'query');
  assert.equal((await get(`${e.url()}/v1/charge?debug=1`, { 'x-psp': 'adyen' })).body.trim(), 'header');
});

test('case_sensitive: false matches the prefix in any case', async () => {
  assert.equal((await get(`${e.url()}/caseless/x`)).body.trim(), 'ci');
  assert.equal((await get(`${e.url()}/CASELESS`)).body.trim(), 'ci');
});

test('regex_rewrite rewrites the upstream path with RE2 substitutions', async () => {
  await get(`${e.url()}/rw/refund/77?x=1`);
  const rw = ups.find((u) => u.name === 'rewrite-echo')!;
  assert.equal(rw.seen.at(-1)!.url, '/77/refund?x=1');
});

test('STRICT_DNS resolves every address of a name; LOGICAL_DNS uses the first', async () => {
  const up = await startUpstream('dns');
  cleanups.push(() => up.close());
  const cluster = (name: string, type: string) =>
    stringify([
      {
        name,
        type,
        dns_lookup_family: 'V4_ONLY',
        dns_refresh_rate: '0.5s',
        load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'localhost', port_value: up.port } } } }] }] },
      },
    ]);
  const dns = await startEngine(
    bootstrap({
      routes: `- match: { prefix: "/strict" }\n  route: { cluster: strict }\n- match: { prefix: "/logical" }\n  route: { cluster: logical }`,
      clusters: cluster('strict', 'STRICT_DNS') + cluster('logical', 'LOGICAL_DNS'),
    }),
  );
  cleanups.push(() => dns.stop());
  assert.equal((await get(`${dns.url()}/strict`)).body.trim(), 'dns');
  assert.equal((await get(`${dns.url()}/logical`)).body.trim(), 'dns');
  const hosts = dns.engine.snapshot!.clusters.get('strict')!.hosts.map((h) => h.key);
  assert.deepEqual(hosts, [`127.0.0.1:${up.port}`]);
});

test('a name that does not resolve leaves the cluster empty: 503 with flag UH, and the engine serves on', async () => {
  const nowhere = await startEngine(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: ghost }`,
      clusters: stringify([
        {
          name: 'ghost',
          type: 'STRICT_DNS',
          load_assignment: { cluster_name: 'ghost', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'no-such-host.invalid', port_value: 80 } } } }] }] },
        },
      ]),
    }),
  );
  cleanups.push(() => nowhere.stop());
  const r = await get(nowhere.url());
  assert.equal(r.status, 503);
  assert.equal(r.body, 'no healthy upstream');
});

test("Meshdeck's latency-aware policy (peak EWMA, via load_balancing_policy) steers away from a slow host", async () => {
  const [fast1, fast2, slow] = await startUpstreams(['fast1', 'fast2', 'slow']);
  cleanups.push(async () => void (await Promise.all([fast1, fast2, slow].map((u) => u.close()))));
  slow.behaviour.delayMs = 40;
  const lat = await startEngine(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: psp }`,
      clusters: staticCluster('psp', [{ port: fast1.port }, { port: fast2.port }, { port: slow.port }], {
        load_balancing_policy: {
          policies: [
            {
              typed_extension_config: {
                name: 'meshdeck.load_balancing_policies.peak_ewma',
                typed_config: { '@type': 'type.googleapis.com/meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma', decay_time: '5s' },
              },
            },
            {
              typed_extension_config: {
                name: 'envoy.load_balancing_policies.least_request',
                typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest' },
              },
            },
          ],
        },
      }),
    }),
  );
  cleanups.push(() => lat.stop());
  assert.equal(lat.engine.snapshot!.bootstrap.clusters[0].lbPolicy, 'meshdeck.load_balancing_policies.peak_ewma');
  // Sequential requests: in-flight counts are equal, so only latency can tell the hosts apart.
  const n = 300;
  const by = countBy(await hammer(lat.url(), n, 1), (r) => r.body.trim());
  const slowShare = (by.get('slow') ?? 0) / n;
  assert.ok(slowShare < 0.1, `slow host got ${(slowShare * 100).toFixed(1)}% (round robin would give 33%)`);
});

test('bad configs applied to a running engine are rejected with located errors, and it keeps serving', async () => {
  const good = bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: default }`, clusters: staticCluster('default', [{ port: ups[4].port }]) });
  const bad: Array<[string, string, string]> = [
    ['truncated YAML', good.slice(0, Math.floor(good.length * 0.6)) + '\n  - name: "unterminated', 'yaml'],
    ['a wrong type', good.replace('connect_timeout: 1s', 'connect_timeout: [1]'), 'invalid_type'],
    ['duplicate cluster names', good + staticCluster('default', [{ port: 1 }]).replace(/^/gm, '  '), 'duplicate_cluster'],
    ['a route to a missing cluster', good.replace('cluster: default }', 'cluster: nope }'), 'unknown_cluster'],
    [
      'weights summing to 0',
      good.replace('route: { cluster: default }', 'route: { weighted_clusters: { clusters: [{ name: default, weight: 0 }] } }'),
      'weight',
    ],
    ['an invalid regex', good.replace('match: { prefix: "/" }', 'match: { safe_regex: { regex: "(unclosed" } }'), 'regex'],
    ['a lookahead RE2 cannot run', good.replace('match: { prefix: "/" }', 'match: { safe_regex: { regex: "/(?=x)" } }'), 'regex'],
    ['a port out of range', good.replace('port_value: 0', 'port_value: 70000'), 'out_of_range'],
  ];
  const running = await startEngine(good);
  cleanups.push(() => running.stop());
  for (const [what, text, code] of bad) {
    const r = await running.engine.apply(text, 'bad.yaml');
    assert.equal(r.ok, false, `${what} must be rejected`);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.ok(errors.length > 0, what);
    assert.ok(errors.some((d) => d.code.includes(code) || d.message.toLowerCase().includes(code)), `${what}: ${errors.map((d) => `${d.code}: ${d.message}`).join('; ')}`);
    for (const d of errors) assert.ok(d.line > 0 && d.column > 0, `${what}: ${d.code} is located`);
    const still = await get(running.url());
    assert.equal(still.status, 200, `still serving after ${what}`);
  }
  assert.equal(running.engine.snapshot!.version, 1);
});
