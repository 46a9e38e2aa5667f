// Outlier detection on real sockets: the 5th consecutive 5xx ejects a host at once, for
// base_ejection_time, and for twice that on a second ejection; never more than
// max_ejection_percent of the hosts are out (but one always may be); the stats count it all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, staticCluster } from '../../helpers/engine';
import { get } from '../../helpers/client';
import { startUpstreams } from '../../helpers/upstream';
import { engineFor, onCleanup, waitFor } from './helpers';

const ROUTES = `- match: { prefix: "/" }\n  route: { cluster: pay }`;

async function ups(names: string[]) {
  const us = await startUpstreams(names);
  onCleanup(async () => void (await Promise.all(us.map((u) => u.close()))));
  return us;
}

test('five consecutive 5xx eject a host at once for base_ejection_time, longer on the second ejection', async () => {
  const [a, b, c] = await ups(['a', 'b', 'c']);
  b.behaviour.status = 500;
  const od = { outlier_detection: { consecutive_5xx: 5, interval: '0.05s', base_ejection_time: '0.8s', max_ejection_percent: 50 } };
  const e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', [{ port: a.port }, { port: b.port }, { port: c.port }], od) }));
  const host = e.engine.snapshot!.clusters.get('pay')!.hosts.find((h) => h.port === b.port)!;
  const stat = (n: string) => e.engine.stats.counter(`cluster.pay.outlier_detection.${n}`).value;

  // Round robin: b answers every third request. Its 5th 500 ejects it right away (not at the interval).
  let errors = 0;
  for (let i = 0; i < 15; i++) if ((await get(e.url())).status === 500) errors++;
  assert.equal(errors, 5);
  assert.equal(host.failedOutlierCheck, true);
  assert.equal(host.healthy, false);
  assert.equal(e.engine.stats.gauge('cluster.pay.outlier_detection.ejections_active').value, 1);
  const clusters = (await get(`${e.engine.adminUrl}/clusters`, { authorization: 'Bearer test-token' })).body;
  assert.match(clusters, new RegExp(`pay::127\\.0\\.0\\.1:${b.port}::health_flags::/failed_outlier_check\\n`));
  // While it is out (checked before and after each request), every answer comes from a or c.
  for (let i = 0; i < 15; i++) {
    const out = host.failedOutlierCheck;
    const status = (await get(e.url())).status;
    if (out && host.failedOutlierCheck) assert.equal(status, 200, 'b takes no traffic while ejected');
  }

  // It comes back after base_ejection_time (checked at each 50 ms interval).
  await waitFor(() => !host.failedOutlierCheck, 3000, 'b unejected');
  // Straight away five more 500s: ejected again, now for 2 × base_ejection_time.
  for (let i = 0; errors < 10 && i < 30; i++) if ((await get(e.url())).status === 500) errors++;
  assert.equal(host.failedOutlierCheck, true);
  await waitFor(() => !host.failedOutlierCheck, 3000, 'b unejected again');

  const ev = e.engine.healthHistory.of('pay', host.key);
  assert.deepEqual(ev.map((x) => [x.kind, x.reason]), [['ejected', 'consecutive_5xx'], ['unejected', 'ejection time elapsed'], ['ejected', 'consecutive_5xx'], ['unejected', 'ejection time elapsed']]);
  const first = ev[1].t - ev[0].t;
  const second = ev[3].t - ev[2].t;
  assert.equal(ev[0].ejectionMs, 800);
  assert.equal(ev[2].ejectionMs, 1600);
  assert.ok(first >= 800 && first < 800 + 50 + 250, `first ejection lasted ${first} ms (base 800 ms, interval 50 ms)`);
  assert.ok(second >= 1600 && second < 1600 + 50 + 250, `second ejection lasted ${second} ms (2 × base)`);
  assert.equal(stat('ejections_enforced_total'), 2);
  assert.equal(stat('ejections_enforced_consecutive_5xx'), 2);
  assert.equal(stat('ejections_detected_consecutive_5xx'), 2);
  assert.equal(e.engine.stats.gauge('cluster.pay.outlier_detection.ejections_active').value, 0);
});

test('never more than max_ejection_percent of the hosts are ejected, but one host always may be', async () => {
  // Four failing hosts, max 50%: two ejected, the rest overflow.
  const four = await ups(['p', 'q', 'r', 's']);
  for (const u of four) u.behaviour.status = 503;
  const od = (pct: number) => ({ outlier_detection: { consecutive_5xx: 3, interval: '10s', base_ejection_time: '30s', max_ejection_percent: pct } });
  let e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', four.map((u) => ({ port: u.port })), od(50)) }));
  for (let i = 0; i < 60; i++) await get(e.url());
  let cluster = e.engine.snapshot!.clusters.get('pay')!;
  assert.equal(cluster.hosts.filter((h) => h.failedOutlierCheck).length, 2);
  assert.equal(e.engine.stats.gauge('cluster.pay.outlier_detection.ejections_active').value, 2);
  assert.ok(e.engine.stats.counter('cluster.pay.outlier_detection.ejections_overflow').value > 0);
  assert.equal(e.engine.stats.counter('cluster.pay.outlier_detection.ejections_enforced_total').value, 2);

  // Two failing hosts, max 10%: one host is 50% > 10%, yet the first may go; the second may not.
  const two = await ups(['x', 'y']);
  for (const u of two) u.behaviour.status = 503;
  e = await engineFor(bootstrap({ routes: ROUTES.replace('pay', 'pay2'), clusters: staticCluster('pay2', two.map((u) => ({ port: u.port })), od(10)) }));
  for (let i = 0; i < 30; i++) await get(e.url());
  cluster = e.engine.snapshot!.clusters.get('pay2')!;
  assert.equal(cluster.hosts.filter((h) => h.failedOutlierCheck).length, 1);
  assert.ok(e.engine.stats.counter('cluster.pay2.outlier_detection.ejections_overflow').value > 0);
});

test('enforcing_consecutive_5xx 0 detects without ejecting; connection failures count as 5xx', async () => {
  const [a, b] = await ups(['a', 'b']);
  b.behaviour.status = 502;
  const od = { outlier_detection: { consecutive_5xx: 2, enforcing_consecutive_5xx: 0, consecutive_gateway_failure: 2, enforcing_consecutive_gateway_failure: 0, interval: '10s', max_ejection_percent: 100 } };
  const e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', [{ port: a.port }, { port: b.port }], od) }));
  for (let i = 0; i < 20; i++) await get(e.url());
  const c = (n: string) => e.engine.stats.counter(`cluster.pay.outlier_detection.${n}`).value;
  assert.ok(c('ejections_detected_consecutive_5xx') >= 4 && c('ejections_detected_consecutive_gateway_failure') >= 4);
  assert.equal(c('ejections_enforced_total'), 0);

  // A host refusing connections is ejected by consecutive_5xx (each refusal counts as a 503).
  const gone = await ups(['gone']);
  const port = gone[0].port;
  await gone[0].close();
  const e2 = await engineFor(bootstrap({ routes: ROUTES.replace('pay', 'pay3'), clusters: staticCluster('pay3', [{ port: a.port }, { port }], { outlier_detection: { consecutive_5xx: 3, interval: '10s' } }) }));
  for (let i = 0; i < 12; i++) await get(e2.url());
  const h = e2.engine.snapshot!.clusters.get('pay3')!.hosts.find((x) => x.port === port)!;
  assert.equal(h.failedOutlierCheck, true);
});

test('success-rate and failure-percentage ejections judge each interval’s requests', async () => {
  for (const kind of ['success_rate', 'failure_percentage'] as const) {
    const us = await ups(['h0', 'h1', 'h2', 'h3', 'h4']);
    // h4 fails every other request: never five in a row, so only the interval's statistics can catch it.
    let n = 0;
    us[4].handler = (_req, res) => {
      res.writeHead(n++ % 2 ? 500 : 200, { 'content-length': 0 });
      res.end();
      return true;
    };
    const od =
      kind === 'success_rate'
        ? { interval: '0.5s', success_rate_request_volume: 20, base_ejection_time: '30s' }
        : { interval: '0.5s', enforcing_success_rate: 0, enforcing_failure_percentage: 100, failure_percentage_threshold: 40, failure_percentage_request_volume: 20, base_ejection_time: '30s' };
    const e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', us.map((u) => ({ port: u.port })), { outlier_detection: od }) }));
    const cluster = e.engine.snapshot!.clusters.get('pay')!;
    const bad = cluster.hosts.find((h) => h.port === us[4].port)!;
    const stop = performance.now() + 3000;
    while (!bad.failedOutlierCheck && performance.now() < stop) await Promise.all(Array.from({ length: 10 }, () => get(e.url())));
    assert.equal(bad.failedOutlierCheck, true, `${kind}: h4 ejected`);
    assert.equal(cluster.hosts.filter((h) => h.failedOutlierCheck).length, 1, 'only h4');
    const c = (s: string) => e.engine.stats.counter(`cluster.pay.outlier_detection.${s}`).value;
    assert.equal(c(`ejections_enforced_${kind}`), 1);
    if (kind === 'success_rate') {
      // /clusters shows the success rate the detector judged over the last interval (traffic goes on meanwhile).
      const want = new RegExp(`pay::127\\.0\\.0\\.1:${us[0].port}::success_rate::100\\n`);
      let text = '';
      for (let i = 0; i < 40 && !want.test(text); i++) {
        await Promise.all(Array.from({ length: 10 }, () => get(e.url())));
        text = (await get(`${e.engine.adminUrl}/clusters`, { authorization: 'Bearer test-token' })).body;
      }
      assert.match(text, want);
    }
  }
});

test('split_external_local_origin_errors: connection failures feed consecutive_local_origin_failure, not consecutive_5xx', async () => {
  const [a] = await ups(['a']);
  const gone = await ups(['gone']);
  const port = gone[0].port;
  await gone[0].close();
  const od = { outlier_detection: { split_external_local_origin_errors: true, consecutive_local_origin_failure: 3, consecutive_5xx: 3, interval: '10s', max_ejection_percent: 50 } };
  const e = await engineFor(bootstrap({ routes: ROUTES, clusters: staticCluster('pay', [{ port: a.port }, { port }], od) }));
  for (let i = 0; i < 8; i++) await get(e.url());
  const c = (s: string) => e.engine.stats.counter(`cluster.pay.outlier_detection.${s}`).value;
  assert.equal(c('ejections_enforced_consecutive_local_origin_failure'), 1);
  assert.equal(c('ejections_detected_consecutive_5xx'), 0);
});
