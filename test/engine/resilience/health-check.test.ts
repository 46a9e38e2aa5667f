// Active HTTP health checks on real sockets: hosts leave the load balancer when their checks fail
// (after unhealthy_threshold network-type failures, at once on an unexpected status) and come back
// after healthy_threshold passes; /clusters, membership_healthy and the health_check.* stats
// follow; the panic threshold sends traffic to every host when too few are healthy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, staticCluster } from '../../helpers/engine';
import { countBy, get, hammer } from '../../helpers/client';
import { checkedUpstreams, engineFor, waitFor } from './helpers';

const HC = (extra: Record<string, unknown> = {}) => ({
  health_checks: [
    {
      timeout: '0.2s',
      interval: '0.1s',
      interval_jitter: '0.02s',
      no_traffic_interval: '0.1s',
      unhealthy_threshold: 3,
      healthy_threshold: 2,
      http_health_check: { path: '/healthz', retriable_statuses: [{ start: 503, end: 504 }] },
      ...extra,
    },
  ],
});

const ROUTES = `- match: { prefix: "/" }\n  route: { cluster: pay }`;

async function adminText(e: { engine: { adminUrl: string } }, path: string): Promise<string> {
  return (await get(`${e.engine.adminUrl}${path}`, { authorization: 'Bearer test-token' })).body;
}

test('a host failing its health check leaves rotation within interval × unhealthy_threshold (+ jitter) and is back after healthy_threshold passes', async () => {
  const [a, b, c] = await checkedUpstreams(['a', 'b', 'c']);
  b.hc = 503; // retriable: it takes unhealthy_threshold of them
  const e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', [{ port: a.port }, { port: b.port }, { port: c.port }], HC()) }));
  const cluster = e.engine.snapshot!.clusters.get('pay')!;
  const host = (u: { port: number }) => cluster.hosts.find((h) => h.port === u.port)!;

  // Start-up: the engine waited for the first round. b's first check failed (a retriable status),
  // so it never left its initial FAILED_ACTIVE_HC; a and c passed their first check and are in.
  assert.equal(host(a).healthy, true);
  assert.equal(host(b).healthy, false);
  assert.match(await adminText(e, '/clusters'), new RegExp(`pay::127\\.0\\.0\\.1:${b.port}::health_flags::/failed_active_hc\\n`));
  let replies = await hammer(e.url(), 300, 8);
  assert.deepEqual([...countBy(replies, (r) => r.body.trim()).keys()].sort(), ['a', 'c']);

  // b recovers: back after healthy_threshold (2) passes, i.e. one or two intervals.
  b.hc = 200;
  const back = await waitFor(() => host(b).healthy, 2000, 'b healthy');
  assert.ok(back <= 2 * 120 + 250, `b came back after ${back.toFixed(0)} ms`);
  replies = await hammer(e.url(), 300, 8);
  const spread = countBy(replies, (r) => r.body.trim());
  assert.ok((spread.get('b') ?? 0) >= 80, `b gets its share again: ${JSON.stringify([...spread])}`);

  // c starts failing with a retriable status: out after 3 failed checks — not on the first one.
  c.hc = 503;
  const t0 = performance.now();
  await waitFor(() => c.hcHits > 0 && !host(c).healthy, 2000, 'c unhealthy');
  const out = performance.now() - t0;
  assert.ok(out <= 3 * (100 + 20) + 250, `c left after ${out.toFixed(0)} ms (interval 100 ms × threshold 3 + jitter ≤ 20 ms each)`);
  assert.ok(out >= 2 * 100 - 20, `c needed three failures in a row, not one: out after ${out.toFixed(0)} ms`);
  replies = await hammer(e.url(), 300, 8);
  assert.equal(countBy(replies, (r) => r.body.trim()).get('c'), undefined, 'no request reaches c');
  assert.equal(e.engine.stats.gauge('cluster.pay.membership_healthy').value, 2);

  // An unexpected (non-retriable) status fails a host on its first failing check.
  a.hc = 500;
  const outA = await waitFor(() => !host(a).healthy, 1000, 'a unhealthy');
  assert.ok(outA <= 120 + 250, `a left after ${outA.toFixed(0)} ms: one check`);

  // A timed-out check is a network failure (counted as such).
  a.hc = 200;
  b.hc = 'hang';
  await waitFor(() => !host(b).healthy, 3000, 'b unhealthy by timeouts');
  const s = (n: string) => e.engine.stats.counter(`cluster.pay.health_check.${n}`).value;
  assert.ok(s('attempt') >= s('success') + s('failure') && s('success') > 10 && s('failure') >= 7, `attempt ${s('attempt')}, success ${s('success')}, failure ${s('failure')}`);
  assert.ok(s('network_failure') >= 3, `network_failure ${s('network_failure')}`);
  const text = await adminText(e, '/clusters');
  assert.match(text, new RegExp(`pay::127\\.0\\.0\\.1:${c.port}::health_flags::/failed_active_hc\\n`));
  // The history the console draws: c's failure, with what the check saw.
  const events = e.engine.healthHistory.of('pay', `127.0.0.1:${c.port}`);
  assert.deepEqual(events.map((x) => [x.kind, x.reason, x.healthy]), [['hc_passed', 'status 200', true], ['hc_failed', 'status 503', false]]);
  // … and the console's API serves the same.
  const api = JSON.parse((await get(`${e.engine.adminUrl}/api/v1/health`, { authorization: 'Bearer test-token' })).body) as import('../../../engine/admin/contract').HostHealthResponse;
  const hostC = api.clusters[0].hosts.find((x) => x.address === `127.0.0.1:${c.port}`)!;
  assert.equal(api.clusters[0].activeHealthCheck, true);
  assert.deepEqual([hostC.healthy, hostC.flags, hostC.events.length], [false, '/failed_active_hc', 2]);
});

test('the health check sends its path, host and headers, and honours expected_statuses ranges', async () => {
  const [a] = await checkedUpstreams(['a']);
  const seen: Array<{ method?: string; host?: string; x?: string | string[] }> = [];
  const inner = a.handler!;
  a.handler = (req, res, body) => {
    if (req.url === '/healthz') seen.push({ method: req.method, host: req.headers.host, x: req.headers['x-probe'] });
    return inner(req, res, body);
  };
  a.hc = 204;
  const e = await engineFor(
    bootstrap({
      routes: ROUTES,
      clusters: staticCluster('pay', [{ port: a.port }], HC({
        http_health_check: {
          path: '/healthz',
          host: 'psp.internal',
          method: 'HEAD',
          expected_statuses: [{ start: 200, end: 300 }],
          request_headers_to_add: [{ header: { key: 'x-probe', value: 'meshdeck' } }],
        },
      })),
    }),
  );
  const host = e.engine.snapshot!.clusters.get('pay')!.hosts[0];
  assert.equal(host.healthy, true, '204 is within [200, 300)');
  assert.deepEqual(seen[0], { method: 'HEAD', host: 'psp.internal', x: 'meshdeck' });
});

test('the panic threshold sends traffic to all hosts when too few are healthy (and not when it is 0)', async () => {
  for (const threshold of [50, 0]) {
    const us = await checkedUpstreams(['p', 'q', 'r', 's']);
    const e = await engineFor(
      bootstrap({
        routes: ROUTES,
        clusters: staticCluster('pay', us.map((u) => ({ port: u.port })), { ...HC(), common_lb_config: { healthy_panic_threshold: { value: threshold } } }),
      }),
    );
    const cluster = e.engine.snapshot!.clusters.get('pay')!;
    // Two of four out: 50% healthy is not below 50%, so only the healthy two take traffic.
    us[2].hc = 500;
    us[3].hc = 500;
    await waitFor(() => cluster.hosts.filter((h) => h.healthy).length === 2, 2000, 'two unhealthy');
    let spread = countBy(await hammer(e.url(), 200, 8), (r) => r.body.trim());
    assert.deepEqual([...spread.keys()].sort(), ['p', 'q']);
    // A third one out: 25% healthy < 50% → panic: all four hosts, healthy or not, share the load.
    us[1].hc = 500;
    await waitFor(() => cluster.hosts.filter((h) => h.healthy).length === 1, 2000, 'three unhealthy');
    spread = countBy(await hammer(e.url(), 400, 8), (r) => r.body.trim());
    const panic = e.engine.stats.counter('cluster.pay.lb_healthy_panic').value;
    if (threshold === 50) {
      assert.deepEqual([...spread.keys()].sort(), ['p', 'q', 'r', 's'], JSON.stringify([...spread]));
      for (const n of ['p', 'q', 'r', 's']) assert.ok((spread.get(n) ?? 0) >= 60, `${n}: ${spread.get(n)} of 400`);
      assert.ok(panic >= 400, `lb_healthy_panic ${panic}`);
    } else {
      assert.deepEqual([...spread.keys()], ['p'], 'panic disabled: only the healthy host');
      assert.equal(panic, 0);
    }
  }
});

test('no_traffic_interval applies until the cluster has carried traffic, then interval', async () => {
  const [a] = await checkedUpstreams(['a']);
  const e = await engineFor(
    bootstrap({
      routes: ROUTES,
      clusters: staticCluster('pay', [{ port: a.port }], { health_checks: [{ timeout: '0.2s', interval: '0.05s', no_traffic_interval: '0.6s', unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/healthz' } }] }),
    }),
  );
  const before = a.hcHits;
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(a.hcHits - before <= 1, `${a.hcHits - before} checks in 500 ms without traffic (no_traffic_interval 600 ms)`);
  await get(e.url());
  await new Promise((r) => setTimeout(r, 700)); // the pending no-traffic wait ends, then every 50 ms
  const mid = a.hcHits;
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(a.hcHits - mid >= 4, `${a.hcHits - mid} checks in 500 ms once traffic flowed (interval 50 ms)`);
});
