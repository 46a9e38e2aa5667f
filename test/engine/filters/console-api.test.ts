// The console's side of issue 7 through the real admin API: each listener's filter chain in
// order with its counters, the access log filtered by the refusing filter, and the security kit
// (POST /api/v1/kit, `meshdeck kit`) whose output the engine runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { get } from '../../helpers/client';
import type { AccessLogPage, FilterChainsResponse, KitResponse } from '../../../engine/admin/contract';
import { main } from '../../../engine/cli';
import { loadConfig } from '../../../engine/config/load';
import { filterEngine, onCleanup, upstream } from './helpers';

const AUTH = { authorization: 'Bearer test-token' };

async function api<T>(admin: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await request(`${admin}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.statusCode, body: (await r.body.json()) as T };
}

test('GET /api/v1/filters lists each chain in order with counters; GET /api/v1/logs?filter= finds who refused', async () => {
  const app = await upstream();
  const e = await filterEngine({
    port: app.port,
    filters: `
- name: envoy.filters.http.local_ratelimit
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: edge_rl
    token_bucket: { max_tokens: 3, tokens_per_fill: 1, fill_interval: 60s }
    filter_enabled: { runtime_key: e, default_value: { numerator: 100 } }
    filter_enforced: { runtime_key: f, default_value: { numerator: 100 } }
- name: envoy.filters.http.jwt_authn
  disabled: true
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
- name: envoy.filters.http.rbac
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
    rules:
      action: DENY
      policies:
        no-admin: { permissions: [{ url_path: { path: { prefix: /admin } } }], principals: [{ any: true }] }`,
  });
  const statuses = [];
  for (const path of ['/ok', '/admin', '/ok', '/ok']) statuses.push((await get(e.url() + path)).status);
  assert.deepEqual(statuses, [200, 403, 200, 429]);
  const admin = e.engine.adminUrl;

  const chains = await api<FilterChainsResponse>(admin, '/filters');
  assert.equal(chains.status, 200);
  assert.equal(chains.body.chains.length, 1);
  const chain = chains.body.chains[0];
  assert.equal(chain.listener, 'ingress');
  assert.equal(chain.tls, false);
  assert.deepEqual(
    chain.filters.map((f) => [f.name, f.state]),
    [
      ['envoy.filters.http.local_ratelimit', 'running'],
      ['envoy.filters.http.jwt_authn', 'disabled'],
      ['envoy.filters.http.rbac', 'running'],
      ['envoy.filters.http.router', 'terminal'],
    ],
  );
  const counters = (i: number) => Object.fromEntries(chain.filters[i].counters.map((c) => [c.name, c.value]));
  assert.deepEqual(counters(0), {
    'edge_rl.http_local_rate_limit.enabled': 4,
    'edge_rl.http_local_rate_limit.enforced': 1,
    'edge_rl.http_local_rate_limit.ok': 3,
    'edge_rl.http_local_rate_limit.rate_limited': 1,
  });
  assert.equal(counters(2)['http.ingress_http.rbac.denied'], 1);
  assert.equal(counters(2)['http.ingress_http.rbac.allowed'], 2);
  assert.equal(chain.requests.find((c) => c.name === 'http.ingress_http.downstream_rq_total')?.value, 4);

  // The console's access log: entries say which filter refused them, and filter by it.
  let page: AccessLogPage | undefined;
  for (let i = 0; i < 50; i++) {
    page = (await api<AccessLogPage>(admin, '/logs?filter=rbac')).body;
    if (page.entries.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(page!.entries.map((x) => [x.path, x.status, x.refusedBy, x.responseCodeDetails]), [
    ['/admin', 403, 'envoy.filters.http.rbac', 'rbac_access_denied_matched_policy[no-admin]'],
  ]);
  const limited = (await api<AccessLogPage>(admin, '/logs?filter=envoy.filters.http.local_ratelimit')).body;
  assert.deepEqual(limited.entries.map((x) => [x.status, x.flags]), [[429, 'RL']]);
  const all = (await api<AccessLogPage>(admin, '/logs')).body;
  assert.equal(all.entries.filter((x) => x.refusedBy === undefined).length, 2);
});

test('POST /api/v1/kit issues a kit whose Envoy config loads, and never returns private keys', async () => {
  const app = await upstream();
  const e = await filterEngine({ port: app.port, filters: '' });
  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-kit-api-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const r = await api<KitResponse>(e.engine.adminUrl, '/kit', { dir: join(dir, 'kit'), clients: ['shop-7'], audience: 'orders' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const k = r.body;
  assert.deepEqual(k.clients.map((c) => c.uri), ['spiffe://meshdeck.local/shop-7']);
  assert.equal(k.jwt.audience, 'orders');
  for (const f of [k.caCert, k.serverCert, k.serverKey, k.clients[0].cert, k.clients[0].key, k.jwt.jwks, k.envoyConfig]) assert.ok(existsSync(f), f);
  const text = JSON.stringify(k);
  assert.ok(!text.includes('PRIVATE KEY'), 'no PEM private key in the response');
  const signing = JSON.parse(readFileSync(k.jwt.signingKey, 'utf8'));
  assert.ok(signing.d && !text.includes(signing.d), 'the signing key stays in its file');
  const payload = JSON.parse(Buffer.from(k.sampleToken.split('.')[1], 'base64url').toString());
  assert.equal(payload.sub, 'shop-7');
  const loaded = await loadConfig(readFileSync(k.envoyConfig, 'utf8'), { sourceName: 'kit' });
  assert.equal(loaded.ok, true);
  assert.deepEqual(loaded.diagnostics, []);
  const bad = await api<{ error: string }>(e.engine.adminUrl, '/kit', { clients: ['no spaces/please'] });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /client name/);
});

test('meshdeck kit writes the kit and says where', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-kit-cli-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  const code = await main(['kit', '--out', join(dir, 'k'), '--days', '2'], sink((s) => (out += s)), sink((s) => (err += s)));
  assert.equal(code, 0, err);
  assert.match(out, /Security kit written to/);
  assert.ok(existsSync(join(dir, 'k', 'envoy-security.yaml')));
  assert.equal(await main(['kit', '--days', 'zero'], sink(() => {}), sink((s) => (err += s))), 1);
  assert.match(err, /--days/);
});
