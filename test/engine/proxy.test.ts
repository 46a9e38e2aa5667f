// The engine on real sockets in front of real upstream servers: load balancing, splits, retries,
// timeouts, circuit breakers and local replies as Envoy behaves.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, staticCluster, startEngine } from '../helpers/engine';
import { startUpstream, startUpstreams, type Upstream } from '../helpers/upstream';
import { countBy, get, hammer } from '../helpers/client';
import { formatResponseFlags } from '../../engine/observe/response-flags';
import type { StreamInfo } from '../../engine/observe/stream-info';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function upstreams(names: string[]): Promise<Upstream[]> {
  const us = await startUpstreams(names);
  cleanups.push(async () => void (await Promise.all(us.map((u) => u.close()))));
  return us;
}

async function engineFor(yaml: string, log?: StreamInfo[]) {
  const e = await startEngine(yaml, { accessLog: log ? (i) => log.push({ ...i }) : undefined });
  cleanups.push(() => e.stop());
  return e;
}

const share = (m: Map<string, number>, k: string, n: number) => ((m.get(k) ?? 0) / n) * 100;

test('weighted round robin 1:2:3 over 6,000 requests lands within ±1 point of 1/6, 2/6, 3/6', async () => {
  const [a, b, c] = await upstreams(['a', 'b', 'c']);
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: pay }`,
      clusters: staticCluster('pay', [
        { port: a.port, weight: 1 },
        { port: b.port, weight: 2 },
        { port: c.port, weight: 3 },
      ]),
    }),
  );
  const n = 6000;
  const replies = await hammer(e.url(), n, 16);
  assert.ok(replies.every((r) => r.status === 200));
  const by = countBy(replies, (r) => r.body.trim());
  assert.ok(Math.abs(share(by, 'a', n) - 100 / 6) <= 1, `a: ${share(by, 'a', n)}%`);
  assert.ok(Math.abs(share(by, 'b', n) - 200 / 6) <= 1, `b: ${share(by, 'b', n)}%`);
  assert.ok(Math.abs(share(by, 'c', n) - 300 / 6) <= 1, `c: ${share(by, 'c', n)}%`);
});

test('least request steers away from a slow host', async () => {
  const [fast1, fast2, slow] = await upstreams(['fast1', 'fast2', 'slow']);
  slow.behaviour.delayMs = 80;
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: pay }`,
      clusters: staticCluster('pay', [{ port: fast1.port }, { port: fast2.port }, { port: slow.port }], { lb_policy: 'LEAST_REQUEST' }),
    }),
  );
  const n = 1200;
  const replies = await hammer(e.url(), n, 24);
  const by = countBy(replies, (r) => r.body.trim());
  // Round robin would give the slow host a third; with ~24 in flight it holds several at once
  // and power-of-two-choices avoids it.
  assert.ok(share(by, 'slow', n) < 15, `slow got ${share(by, 'slow', n)}%`);
});

test('ring hash keeps a header value on one host and moves about 1/N of keys when a host is added', async () => {
  const us = await upstreams(['h1', 'h2', 'h3', 'h4']);
  const routes = `- match: { prefix: "/" }\n  route:\n    cluster: pay\n    hash_policy: [{ header: { header_name: x-user } }]`;
  const cfg = (k: number) =>
    bootstrap({ routes, clusters: staticCluster('pay', us.slice(0, k).map((u) => ({ port: u.port })), { lb_policy: 'RING_HASH' }) });
  const e = await engineFor(cfg(3));
  const keys = Array.from({ length: 600 }, (_, i) => `user-${i}`);
  const first = await hammer(e.url(), keys.length, 16, (i) => ({ headers: { 'x-user': keys[i] } }));
  const again = await hammer(e.url(), keys.length, 16, (i) => ({ headers: { 'x-user': keys[i] } }));
  assert.deepEqual(again.map((r) => r.body), first.map((r) => r.body), 'same key, same host');
  const r = await e.engine.apply(cfg(4), 'test.yaml');
  assert.ok(r.ok);
  const after4 = await hammer(e.url(), keys.length, 16, (i) => ({ headers: { 'x-user': keys[i] } }));
  // Envoy's ring gives each of n equal hosts ceil(1024/n) points, so going from 3 to 4 hosts
  // moves about 1/4 of keys to the new host and a few (~8%) between old ones whose points shrank.
  const toNew = after4.filter((r, i) => r.body !== first[i].body && r.body.trim() === 'h4').length / keys.length;
  const moved = after4.filter((r, i) => r.body !== first[i].body).length / keys.length;
  assert.ok(toNew > 0.15 && toNew < 0.35, `moved to the new host: ${toNew}`);
  assert.ok(moved - toNew < 0.15, `moved between old hosts: ${moved - toNew}`);
});

test('maglev keeps a header value on one host and moves about 1/N of keys when a host is added', async () => {
  const us = await upstreams(['m1', 'm2', 'm3', 'm4']);
  const routes = `- match: { prefix: "/" }\n  route:\n    cluster: pay\n    hash_policy: [{ header: { header_name: x-user } }]`;
  const cfg = (k: number) =>
    bootstrap({ routes, clusters: staticCluster('pay', us.slice(0, k).map((u) => ({ port: u.port })), { lb_policy: 'MAGLEV' }) });
  const e = await engineFor(cfg(3));
  const keys = Array.from({ length: 600 }, (_, i) => `card-${i}`);
  const first = await hammer(e.url(), keys.length, 16, (i) => ({ headers: { 'x-user': keys[i] } }));
  const again = await hammer(e.url(), keys.length, 16, (i) => ({ headers: { 'x-user': keys[i] } }));
  assert.deepEqual(again.map((r) => r.body), first.map((r) => r.body));
  assert.ok((await e.engine.apply(cfg(4), 'test.yaml')).ok);
  const after4 = await hammer(e.url(), keys.length, 16, (i) => ({ headers: { 'x-user': keys[i] } }));
  const moved = after4.filter((r, i) => r.body !== first[i].body).length / keys.length;
  const toNew = after4.filter((r, i) => r.body !== first[i].body && r.body.trim() === 'm4').length / keys.length;
  assert.ok(moved > 0.15 && moved < 0.35, `moved ${moved}`);
  assert.ok(moved - toNew < 0.02, 'maglev moves keys to the new host, almost never between old ones');
});

test('a 90/10 weighted_clusters split lands within ±2 points over 10,000 requests', async () => {
  const [v1, v2] = await upstreams(['v1', 'v2']);
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }
  route:
    weighted_clusters:
      clusters:
      - { name: stable, weight: 90 }
      - { name: canary, weight: 10 }`,
      clusters: staticCluster('stable', [{ port: v1.port }]) + staticCluster('canary', [{ port: v2.port }]),
    }),
  );
  const n = 10_000;
  const by = countBy(await hammer(e.url(), n, 32), (r) => r.body.trim());
  assert.ok(Math.abs(share(by, 'v1', n) - 90) <= 2, `v1 ${share(by, 'v1', n)}%`);
  assert.ok(Math.abs(share(by, 'v2', n) - 10) <= 2, `v2 ${share(by, 'v2', n)}%`);
});

test('a retry reaches a healthy host after a 503', async () => {
  const [bad, good] = await upstreams(['bad', 'good']);
  bad.behaviour.status = 503;
  const log: StreamInfo[] = [];
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }
  route:
    cluster: psp
    retry_policy: { retry_on: "5xx", num_retries: 2, retry_back_off: { base_interval: 0.005s } }`,
      clusters: staticCluster('psp', [{ port: bad.port }, { port: good.port }]),
    }),
    log,
  );
  // One at a time: round robin alternates, so nearly every first try meets the bad host and its
  // retry the good one. (Concurrent retries are capped by circuit_breakers max_retries, default 3.)
  const replies = await hammer(e.url(), 40, 1);
  assert.ok(replies.every((r) => r.status === 200 && r.body.trim() === "good"), JSON.stringify([...countBy(replies, (r) => `${r.status} ${r.body.trim()}`)]));
  assert.ok(bad.hits >= 39, `first tries on the failing host: ${bad.hits}`);
  assert.ok(log.some((i) => i.attemptCount === 2));
  assert.equal(e.engine.stats.get('cluster.psp.upstream_rq_retry'), bad.hits);
  assert.equal(e.engine.stats.get('cluster.psp.upstream_rq_retry_success'), bad.hits);
});

test('retries exhausted forward the last 503 with flag URX', async () => {
  const [bad] = await upstreams(['bad']);
  bad.behaviour.status = 503;
  const log: StreamInfo[] = [];
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }
  route: { cluster: psp, retry_policy: { retry_on: "gateway-error", num_retries: 2, retry_back_off: { base_interval: 0.001s } } }`,
      clusters: staticCluster('psp', [{ port: bad.port }]),
    }),
    log,
  );
  const r = await get(e.url());
  assert.equal(r.status, 503);
  assert.equal(bad.hits, 3);
  await waitFor(() => log.length === 1);
  assert.equal(formatResponseFlags(log[0].responseFlags), 'URX');
});

test('a route timeout answers 504 with flag UT', async () => {
  const [slow] = await upstreams(['slow']);
  slow.behaviour.delayMs = 1500;
  const log: StreamInfo[] = [];
  const e = await engineFor(
    bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: psp, timeout: 0.2s }`, clusters: staticCluster('psp', [{ port: slow.port }]) }),
    log,
  );
  const t0 = performance.now();
  const r = await get(e.url());
  const took = performance.now() - t0;
  assert.equal(r.status, 504);
  assert.equal(r.body, 'upstream request timeout');
  assert.ok(took >= 190 && took < 1000, `answered after ${took} ms`);
  await waitFor(() => log.length === 1);
  assert.equal(formatResponseFlags(log[0].responseFlags), 'UT');
  assert.equal(e.engine.stats.get('cluster.psp.upstream_rq_timeout'), 1);
});

test('a per-try timeout retries on another host', async () => {
  const [slow, fast] = await upstreams(['slow', 'fast']);
  slow.behaviour.delayMs = 1000;
  const log: StreamInfo[] = [];
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }
  route: { cluster: psp, timeout: 3s, retry_policy: { retry_on: "5xx", num_retries: 1, per_try_timeout: 0.1s, retry_back_off: { base_interval: 0.001s } } }`,
      clusters: staticCluster('psp', [{ port: slow.port }, { port: fast.port }]),
    }),
    log,
  );
  const replies = await hammer(e.url(), 6, 1);
  assert.ok(replies.every((r) => r.status === 200 && r.body.trim() === 'fast'));
  // The upstream service time is the answering try's, not the timed-out one's.
  await waitFor(() => log.length === 6);
  const retried = log.filter((i) => i.attemptCount === 2);
  assert.ok(retried.length >= 2);
  for (const i of retried) {
    assert.ok(i.upstreamServiceTimeMs >= 0 && i.upstreamServiceTimeMs < 80, `service time ${i.upstreamServiceTimeMs} ms`);
    assert.ok(i.lastDownstreamTxMono - i.startMono >= 100, 'the request as a whole includes the timed-out try');
  }
});

test('circuit-breaker overflow answers 503 with flag UO', async () => {
  const [slow] = await upstreams(['slow']);
  slow.behaviour.delayMs = 300;
  const log: StreamInfo[] = [];
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: psp }`,
      clusters: staticCluster('psp', [{ port: slow.port }], { circuit_breakers: { thresholds: [{ max_requests: 2 }] } }),
    }),
    log,
  );
  const replies = await Promise.all(Array.from({ length: 5 }, () => get(e.url())));
  const codes = replies.map((r) => r.status).sort();
  assert.deepEqual(codes, [200, 200, 503, 503, 503]);
  const overflow = replies.find((r) => r.status === 503)!;
  assert.match(overflow.body, /reset reason: overflow/);
  await waitFor(() => log.length === 5);
  assert.equal(log.filter((i) => formatResponseFlags(i.responseFlags) === 'UO').length, 3);
  assert.equal(e.engine.stats.get('cluster.psp.upstream_rq_pending_overflow'), 3);
});

test('no route answers 404 with flag NR; a refused connection answers 503 with flag UF', async () => {
  const closed = await startUpstream('gone');
  await closed.close(); // its port now refuses connections
  const log: StreamInfo[] = [];
  const e = await engineFor(
    bootstrap({ routes: `- match: { prefix: "/pay" }\n  route: { cluster: psp }`, clusters: staticCluster('psp', [{ port: closed.port }]) }),
    log,
  );
  const r = await get(`${e.url()}/nothing-here`);
  assert.equal(r.status, 404);
  const uf = await get(`${e.url()}/pay`);
  assert.equal(uf.status, 503);
  assert.match(uf.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/);
  await waitFor(() => log.length === 2);
  assert.deepEqual(log.map((i) => formatResponseFlags(i.responseFlags)).sort(), ['NR', 'UF']);
});

test('Envoy request and response headers: x-request-id, x-envoy-upstream-service-time, server, rewrites, header mutations', async () => {
  const up = await startUpstream('echo', {}, { record: true });
  cleanups.push(() => up.close());
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/api/" }
  route: { cluster: svc, prefix_rewrite: "/v2/", host_rewrite_literal: ledger.internal }
  request_headers_to_add: [{ header: { key: x-route, value: ledger } }]
  response_headers_to_add: [{ header: { key: x-served-by, value: meshdeck } }]
  response_headers_to_remove: [x-upstream]
- match: { path: "/health" }
  direct_response: { status: 200, body: { inline_string: "ok" } }
- match: { prefix: "/old" }
  redirect: { path_redirect: "/new", response_code: PERMANENT_REDIRECT }`,
      clusters: staticCluster('svc', [{ port: up.port }]),
    }),
  );
  const r = await get(`${e.url()}/api/payments?id=7`, { connection: 'keep-alive', 'x-custom': 'yes' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.server, 'envoy');
  assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
  assert.equal(r.headers['x-served-by'], 'meshdeck');
  assert.equal(r.headers['x-upstream'], undefined);
  const seen = up.seen[0];
  assert.equal(seen.url, '/v2/payments?id=7');
  assert.equal(seen.headers.host, 'ledger.internal');
  assert.equal(seen.headers['x-route'], 'ledger');
  assert.equal(seen.headers['x-custom'], 'yes');
  assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(seen.headers['x-envoy-expected-rq-timeout-ms'], '15000');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');

  const health = await get(`${e.url()}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.body, 'ok');
  const redirect = await get(`${e.url()}/old?x=1`);
  assert.equal(redirect.status, 308);
  assert.match(String(redirect.headers.location), /^http:\/\/127\.0\.0\.1:\d+\/new\?x=1$/);
});

test('POST bodies reach the upstream byte for byte, with and without a retry policy', async () => {
  const up = await startUpstream('echo', {}, { record: true });
  cleanups.push(() => up.close());
  const e = await engineFor(
    bootstrap({
      routes: `- match: { prefix: "/retry" }\n  route: { cluster: svc, retry_policy: { retry_on: 5xx } }\n- match: { prefix: "/" }\n  route: { cluster: svc }`,
      clusters: staticCluster('svc', [{ port: up.port }]),
    }),
  );
  const body = JSON.stringify({ amount: 1299, currency: 'EUR', idempotency_key: 'k-1' }) + 'é'.repeat(5000);
  for (const path of ['/retry', '/stream']) {
    const r = await get(`${e.url()}${path}`, { 'content-type': 'application/json' }, 'POST', body);
    assert.equal(r.status, 200);
  }
  assert.equal(up.seen.length, 2);
  for (const s of up.seen) assert.equal(s.body.toString("utf8"), body, `${s.url} ${JSON.stringify(s.headers)}`);
});

test('virtual hosts are chosen by Envoy domain order: exact, then longest suffix wildcard, then prefix, then *', async () => {
  const us = await upstreams(['exact', 'suffix', 'prefix', 'any']);
  const vh = (name: string, domains: string[], port: number) => ({ name, domains, routes: [{ match: { prefix: '/' }, route: { cluster: name } }], port });
  const hosts = [
    vh('exact', ['api.pay.example'], us[0].port),
    vh('suffix', ['*.pay.example'], us[1].port),
    vh('prefix', ['api.*'], us[2].port),
    vh('any', ['*'], us[3].port),
  ];
  const yaml = `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: l
          route_config:
            virtual_hosts: ${JSON.stringify(hosts.map(({ port: _p, ...h }) => h))}
          http_filters: [{ name: envoy.filters.http.router }]
  clusters: ${JSON.stringify(
    hosts.map((h) => ({
      name: h.name,
      load_assignment: { cluster_name: h.name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: h.port } } } }] }] },
    })),
  )}
`;
  const e = await engineFor(yaml);
  const ask = async (host: string) => (await get(e.url(), { host })).body.trim();
  assert.equal(await ask('api.pay.example'), 'exact');
  assert.equal(await ask('ledger.pay.example'), 'suffix');
  assert.equal(await ask('api.other.example'), 'prefix');
  assert.equal(await ask('unknown.example'), 'any');
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
