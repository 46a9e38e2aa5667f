// Slow start on real sockets: a host that comes back healthy (its health check passes again)
// ramps up over slow_start_window — its share of round-robin and least-request traffic rises from
// about min_weight_percent toward an equal share, as Envoy's weight * max(min, t/window) gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, staticCluster } from '../../helpers/engine';
import { get } from '../../helpers/client';
import { checkedUpstreams, engineFor, waitFor } from './helpers';

const ROUTES = `- match: { prefix: "/" }\n  route: { cluster: pay }`;

for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST'] as const) {
  test(`${policy}: a host back from a failed health check ramps up over slow_start_window`, async () => {
    const [a, b] = await checkedUpstreams(['a', 'b']);
    b.hc = 500;
    const ss = { slow_start_config: { slow_start_window: '2s', min_weight_percent: { value: 10 } } };
    const extra = {
      lb_policy: policy,
      [policy === 'ROUND_ROBIN' ? 'round_robin_lb_config' : 'least_request_lb_config']: ss,
      health_checks: [{ timeout: '0.2s', interval: '0.05s', no_traffic_interval: '0.05s', unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/healthz' } }],
    };
    const e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', [{ port: a.port }, { port: b.port }], extra) }));
    const host = e.engine.snapshot!.clusters.get('pay')!.hosts.find((h) => h.port === b.port)!;
    assert.equal(host.healthy, false);
    // a's own slow start began with its first passing check: let it end first.
    await new Promise((r) => setTimeout(r, 2100));
    b.hc = 200;
    await waitFor(() => host.healthy, 2000, 'b healthy');
    // Four quarters of the window, then after it: b's share per bucket.
    const t0 = performance.now();
    const buckets = Array.from({ length: 5 }, () => ({ a: 0, b: 0 }));
    const worker = async () => {
      for (;;) {
        const i = Math.floor((performance.now() - t0) / 500);
        if (i >= 5) return;
        const r = await get(e.url());
        buckets[i][r.body.trim() as 'a' | 'b']++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const shares = buckets.map((x) => x.b / (x.a + x.b));
    const text = shares.map((s) => `${(s * 100).toFixed(0)}%`).join(' → ');
    assert.ok(buckets.every((x) => x.a + x.b >= 10), `enough requests per bucket: ${JSON.stringify(buckets)}`);
    // Expected for round robin (min 10%, linear ramp over 2 s, 500 ms buckets): about 14%, 27%,
    // 38%, 46%, then 50%. Least request also weighs in requests in flight, which flattens the ramp.
    assert.ok(shares[0] < 0.3, `first quarter: ${text}`);
    assert.ok(shares[0] < shares[2] && shares[0] < shares[4] - 0.15, `rising share: ${text}`);
    assert.ok(shares[4] > 0.42, `equal share after the window: ${text}`);
  });
}
