// envoy.filters.http.fault on real sockets: abort and delay percentages, header-controlled faults
// (and their percentage headers), per-route overrides, max_active_faults, flags FI/DI, details
// fault_filter_abort, the body "fault filter abort" and the fault.* stats.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, staticCluster } from '../../helpers/engine';
import { get, hammer } from '../../helpers/client';
import { startUpstreams } from '../../helpers/upstream';
import { engineFor, onCleanup } from './helpers';
import { formatResponseFlags } from '../../../engine/observe/response-flags';
import type { StreamInfo } from '../../../engine/observe/stream-info';

const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

function config(port: number): string {
  const perRoute = (cfg: string) => `typed_per_filter_config:\n    envoy.filters.http.fault:\n      "@type": ${FAULT_TYPE}\n${cfg.replace(/^/gm, '      ')}`;
  const routes = `
- match: { prefix: "/delay" }
  route: { cluster: pay }
  ${perRoute('delay: { fixed_delay: 0.08s, percentage: { numerator: 50 } }')}
- match: { prefix: "/header" }
  route: { cluster: pay }
  ${perRoute('delay: { header_delay: {}, percentage: { numerator: 100 } }\nabort: { header_abort: {}, percentage: { numerator: 100 } }')}
- match: { prefix: "/max" }
  route: { cluster: pay }
  ${perRoute('delay: { fixed_delay: 0.3s, percentage: { numerator: 100 } }\nmax_active_faults: 1')}
- match: { prefix: "/only-gold" }
  route: { cluster: pay }
  ${perRoute('abort: { http_status: 418, percentage: { numerator: 100 } }\nheaders: [{ name: x-tier, string_match: { exact: gold } }]\nupstream_cluster: pay')}
- match: { prefix: "/" }
  route: { cluster: pay }`;
  const y = bootstrap({ routes, clusters: staticCluster('pay', [{ port }]) });
  // The filter itself (before the router): abort 30% with 503.
  return y.replace(
    /( *)- name: envoy\.filters\.http\.router\n/,
    (_m, pad: string) =>
      `${pad}- name: envoy.filters.http.fault\n${pad}  typed_config:\n${pad}    "@type": ${FAULT_TYPE}\n${pad}    abort: { http_status: 503, percentage: { numerator: 30 } }\n${pad}- name: envoy.filters.http.router\n`,
  );
}

test('fault abort and delay percentages, header control, per-route overrides, max_active_faults, flags FI and DI', async () => {
  const [u] = await startUpstreams(['u']);
  onCleanup(() => u.close());
  const log: StreamInfo[] = [];
  const e = await engineFor(config(u.port), log);
  const stat = (n: string) => e.engine.stats.counter(`http.ingress_http.fault.${n}`).value;

  // 30% aborts on the default route.
  let replies = await hammer(e.url(), 1000, 16);
  const aborted = replies.filter((r) => r.status === 503);
  assert.ok(aborted.length > 250 && aborted.length < 350, `${aborted.length} of 1000 aborted (30%)`);
  assert.equal(aborted[0].body, 'fault filter abort');
  assert.equal(stat('aborts_injected'), aborted.length);
  const fi = log.filter((i) => i.responseCode === 503);
  assert.ok(fi.every((i) => formatResponseFlags(i.responseFlags) === 'FI' && i.responseCodeDetails === 'fault_filter_abort'));
  assert.equal(u.hits, 1000 - aborted.length, 'aborted requests never reach the upstream');

  // Per-route override: /delay delays 50% by 80 ms and never aborts.
  log.length = 0;
  replies = await hammer(`${e.url()}/delay`, 200, 16);
  assert.ok(replies.every((r) => r.status === 200));
  const delayed = log.filter((i) => formatResponseFlags(i.responseFlags) === 'DI');
  assert.ok(delayed.length > 70 && delayed.length < 130, `${delayed.length} of 200 delayed (50%)`);
  assert.ok(delayed.every((i) => i.lastDownstreamTxMono - i.startMono >= 78), 'each delayed request took the 80 ms');
  assert.equal(stat('delays_injected'), delayed.length);

  // Header control: x-envoy-fault-abort-request / -delay-request, and the percentage headers.
  let t0 = performance.now();
  let r = await get(`${e.url()}/header`, { 'x-envoy-fault-delay-request': '120', 'x-envoy-fault-abort-request': '429' });
  assert.ok(performance.now() - t0 >= 118, 'delayed by the header');
  assert.equal(r.status, 429);
  assert.equal(formatResponseFlags(log.at(-1)!.responseFlags), 'DI,FI');
  r = await get(`${e.url()}/header`);
  assert.equal(r.status, 200, 'no header: no fault');
  r = await get(`${e.url()}/header`, { 'x-envoy-fault-abort-request': '429', 'x-envoy-fault-abort-request-percentage': '0' });
  assert.equal(r.status, 200, 'a percentage header of 0 turns the abort off');

  // max_active_faults 1: of three concurrent requests one is delayed, the other two overflow.
  t0 = performance.now();
  const times = await Promise.all([0, 1, 2].map(async () => {
    const s = performance.now();
    await get(`${e.url()}/max`);
    return performance.now() - s;
  }));
  assert.equal(times.filter((t) => t >= 290).length, 1, `times ${times.map((t) => t.toFixed(0))}`);
  assert.equal(stat('faults_overflow'), 2);
  assert.equal(e.engine.stats.gauge('http.ingress_http.fault.active_faults').value, 0);

  // headers and upstream_cluster narrow who is faulted.
  assert.equal((await get(`${e.url()}/only-gold`, { 'x-tier': 'gold' })).status, 418);
  assert.equal((await get(`${e.url()}/only-gold`, { 'x-tier': 'silver' })).status, 200);
});
