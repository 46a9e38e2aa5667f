// envoy.filters.http.local_ratelimit on real sockets: a burst above max_tokens gets Envoy's 429
// `local_rate_limited` (flag RL), the bucket refills on schedule, enforcement and per-route
// overrides as Envoy configures them, and the stats under Envoy's names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from '../../helpers/client';
import { formatResponseFlags } from '../../../engine/observe/response-flags';
import type { StreamInfo } from '../../../engine/observe/stream-info';
import { filterEngine, sleep, upstream } from './helpers';

const limiter = (bucket: string, extra = '') => `
- name: envoy.filters.http.local_ratelimit
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: rl
    token_bucket: ${bucket}
    filter_enabled: { runtime_key: e, default_value: { numerator: 100, denominator: HUNDRED } }
${extra}`;

test('a burst above max_tokens gets 429 local_rate_limited with flag RL, the configured headers and Envoy stats', async () => {
  const app = await upstream();
  const log: StreamInfo[] = [];
  const e = await filterEngine(
    {
      port: app.port,
      filters: limiter(
        '{ max_tokens: 5, tokens_per_fill: 5, fill_interval: 10s }',
        `    filter_enforced: { runtime_key: f, default_value: { numerator: 100, denominator: HUNDRED } }
    response_headers_to_add:
    - append_action: OVERWRITE_IF_EXISTS_OR_ADD
      header: { key: x-local-rate-limit, value: "true" }`,
      ),
    },
    log,
  );
  const replies = await Promise.all(Array.from({ length: 12 }, () => get(e.url() + '/pay')));
  const ok = replies.filter((r) => r.status === 200);
  const limited = replies.filter((r) => r.status === 429);
  assert.equal(ok.length, 5);
  assert.equal(limited.length, 7);
  for (const r of limited) {
    assert.equal(r.body, 'local_rate_limited');
    assert.equal(r.headers['x-local-rate-limit'], 'true');
    assert.equal(r.headers['content-type'], 'text/plain');
  }
  assert.equal(app.hits, 5);
  const refused = log.filter((i) => i.responseCode === 429);
  assert.equal(refused.length, 7);
  for (const i of refused) {
    assert.equal(formatResponseFlags(i.responseFlags), 'RL');
    assert.equal(i.responseCodeDetails, 'local_rate_limited');
  }
  const s = (n: string) => e.engine.stats.get(`rl.http_local_rate_limit.${n}`);
  assert.equal(s('enabled'), 12);
  assert.equal(s('ok'), 5);
  assert.equal(s('rate_limited'), 7);
  assert.equal(s('enforced'), 7);
});

test('the bucket refills on schedule: one token per fill_interval, capped at max_tokens', async () => {
  const app = await upstream();
  const e = await filterEngine({
    port: app.port,
    filters: limiter(
      '{ max_tokens: 3, tokens_per_fill: 1, fill_interval: 0.1s }',
      '    filter_enforced: { runtime_key: f, default_value: { numerator: 100, denominator: HUNDRED } }',
    ),
  });
  // Drain it.
  const first = await Promise.all(Array.from({ length: 6 }, () => get(e.url())));
  assert.equal(first.filter((r) => r.status === 200).length, 3);
  // A request every 25 ms for ~1 s: about one in four gets a token (10 fills), whatever the timer jitter.
  const started = performance.now();
  let ok = 0;
  let sent = 0;
  while (performance.now() - started < 1000) {
    if ((await get(e.url())).status === 200) ok++;
    sent++;
    await sleep(25);
  }
  const elapsed = performance.now() - started;
  const expected = elapsed / 100;
  assert.ok(sent > ok * 2, `sent ${sent}, ok ${ok}`);
  assert.ok(ok >= Math.floor(expected) - 2 && ok <= Math.ceil(expected) + 1, `${ok} tokens in ${elapsed.toFixed(0)} ms (expected ~${expected.toFixed(1)})`);
  // Idle for 6 intervals: the bucket is full again but holds no more than max_tokens.
  await sleep(600);
  const burst = await Promise.all(Array.from({ length: 6 }, () => get(e.url())));
  assert.equal(burst.filter((r) => r.status === 200).length, 3);
});

test('not enforced: requests over the limit pass, are counted as rate_limited and carry request_headers_to_add_when_not_enforced', async () => {
  const app = await upstream();
  const e = await filterEngine({
    port: app.port,
    filters: limiter(
      '{ max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s }',
      `    request_headers_to_add_when_not_enforced:
    - header: { key: x-would-be-limited, value: "yes" }`,
    ),
  });
  const replies = await Promise.all([get(e.url()), get(e.url()), get(e.url())]);
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
  const marked = app.seen.filter((s) => s.headers['x-would-be-limited'] === 'yes');
  assert.equal(marked.length, 2);
  assert.equal(e.engine.stats.get('rl.http_local_rate_limit.rate_limited'), 2);
  assert.equal(e.engine.stats.get('rl.http_local_rate_limit.enforced'), 0);
});

test('per-route typed_per_filter_config replaces the filter config for that route; status is configurable', async () => {
  const app = await upstream();
  const e = await filterEngine({
    port: app.port,
    // The filter itself is disabled (filter_enabled absent = 0%); only /limited is limited.
    filters: `
- name: envoy.filters.http.local_ratelimit
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: base`,
    routes: `
- match: { prefix: "/limited" }
  route: { cluster: app }
  typed_per_filter_config:
    envoy.filters.http.local_ratelimit:
      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
      stat_prefix: route_rl
      status: { code: ServiceUnavailable }
      token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s }
      filter_enabled: { runtime_key: e, default_value: { numerator: 100 } }
      filter_enforced: { runtime_key: f, default_value: { numerator: 100 } }
- match: { prefix: "/" }
  route: { cluster: app }`,
  });
  const limited = [await get(e.url() + '/limited'), await get(e.url() + '/limited')];
  assert.deepEqual(limited.map((r) => r.status), [200, 503]);
  assert.equal(limited[1].body, 'local_rate_limited');
  const free = await Promise.all(Array.from({ length: 5 }, () => get(e.url() + '/free')));
  assert.deepEqual(free.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(e.engine.stats.get('route_rl.http_local_rate_limit.enforced'), 1);
  assert.equal(e.engine.stats.get('base.http_local_rate_limit.enabled'), 0);
});

test('local_rate_limit_per_downstream_connection gives each connection its own bucket', async () => {
  const app = await upstream();
  const e = await filterEngine({
    port: app.port,
    filters: limiter(
      '{ max_tokens: 2, tokens_per_fill: 1, fill_interval: 60s }',
      `    filter_enforced: { runtime_key: f, default_value: { numerator: 100, denominator: HUNDRED } }
    local_rate_limit_per_downstream_connection: true`,
    ),
  });
  const { Client } = await import('undici');
  const statuses: number[][] = [];
  for (let c = 0; c < 2; c++) {
    const client = new Client(e.url(), { pipelining: 1 });
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await client.request({ path: '/', method: 'GET' });
      await r.body.text();
      got.push(r.statusCode);
    }
    await client.close();
    statuses.push(got);
  }
  assert.deepEqual(statuses, [
    [200, 200, 429],
    [200, 200, 429],
  ]);
});
