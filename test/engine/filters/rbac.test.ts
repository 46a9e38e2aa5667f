// envoy.filters.http.rbac on real sockets: ALLOW / DENY by header, path and source address,
// shadow rules that count without enforcing, per-route overrides, and the authenticated principal
// of a client certificate on a real mTLS listener (certificates issued by the security kit,
// openssl) together with a JWT claim through jwt_authn's metadata.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { get } from '../../helpers/client';
import { startEngine } from '../../helpers/engine';
import type { StreamInfo } from '../../../engine/observe/stream-info';
import { certificatePrincipals } from '../../../engine/filters/rbac/peer';
import { createKit, kitEnvoyConfig, type Kit } from '../../../engine/kit/kit';
import { filterEngine, onCleanup, upstream } from './helpers';

const rbacFilter = (body: string) => `
- name: envoy.filters.http.rbac
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
${body}`;

test('ALLOW by header and path; everything else is refused with Envoy body and details', async () => {
  const app = await upstream();
  const log: StreamInfo[] = [];
  const e = await filterEngine(
    {
      port: app.port,
      filters: rbacFilter(`
    rules_stat_prefix: "ingress."
    rules:
      action: ALLOW
      policies:
        admins:
          permissions: [{ url_path: { path: { prefix: /admin } } }]
          principals: [{ header: { name: x-role, string_match: { exact: admin } } }]
        reads:
          permissions:
          - and_rules:
              rules:
              - header: { name: ":method", string_match: { exact: GET } }
              - url_path: { path: { prefix: /catalog } }
          principals: [{ any: true }]`),
    },
    log,
  );
  assert.equal((await get(e.url() + '/admin/users', { 'x-role': 'admin' })).status, 200);
  assert.equal((await get(e.url() + '/catalog/items?page=2')).status, 200);
  const noRole = await get(e.url() + '/admin/users', { 'x-role': 'viewer' });
  assert.equal(noRole.status, 403);
  assert.equal(noRole.body, 'RBAC: access denied');
  const post = await get(e.url() + '/catalog/items', {}, 'POST', 'x');
  assert.equal(post.status, 403);
  assert.equal(app.hits, 2);
  assert.deepEqual(
    log.map((i) => i.responseCodeDetails).filter((d) => d.startsWith('rbac')),
    ['rbac_access_denied_matched_policy[none]', 'rbac_access_denied_matched_policy[none]'],
  );
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.ingress.allowed'), 2);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.ingress.denied'), 2);
});

test('DENY by source address: direct_remote_ip and remote_ip (the client address from x-forwarded-for)', async () => {
  const app = await upstream();
  const log: StreamInfo[] = [];
  const e = await filterEngine(
    {
      port: app.port,
      filters: rbacFilter(`
    rules:
      action: DENY
      policies:
        blocked-office:
          permissions: [{ any: true }]
          principals: [{ remote_ip: { address_prefix: 10.20.0.0, prefix_len: 16 } }]
        no-loopback-to-internal:
          permissions: [{ url_path: { path: { prefix: /internal } } }]
          principals: [{ direct_remote_ip: { address_prefix: 127.0.0.0, prefix_len: 8 } }]`),
    },
    log,
  );
  assert.equal((await get(e.url() + '/pay')).status, 200);
  assert.equal((await get(e.url() + '/pay', { 'x-forwarded-for': '192.0.2.7' })).status, 200);
  const office = await get(e.url() + '/pay', { 'x-forwarded-for': '203.0.113.9, 10.20.3.4' });
  assert.equal(office.status, 403);
  const internal = await get(e.url() + '/internal/metrics');
  assert.equal(internal.status, 403);
  assert.deepEqual(
    log.filter((i) => i.responseCode === 403).map((i) => i.responseCodeDetails),
    ['rbac_access_denied_matched_policy[blocked-office]', 'rbac_access_denied_matched_policy[no-loopback-to-internal]'],
  );
});

test('shadow rules are counted and recorded, never enforced; a route can override or disable the filter', async () => {
  const app = await upstream();
  const log: StreamInfo[] = [];
  const e = await filterEngine(
    {
      port: app.port,
      filters: rbacFilter(`
    shadow_rules_stat_prefix: "trial."
    shadow_rules:
      action: ALLOW
      policies:
        only-partners:
          permissions: [{ any: true }]
          principals: [{ header: { name: x-partner, present_match: true } }]`),
      routes: `
- match: { prefix: "/locked" }
  route: { cluster: app }
  typed_per_filter_config:
    envoy.filters.http.rbac:
      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute
      rbac:
        rules:
          action: DENY
          policies:
            everyone: { permissions: [{ any: true }], principals: [{ any: true }] }
- match: { prefix: "/free" }
  route: { cluster: app }
  typed_per_filter_config:
    envoy.filters.http.rbac:
      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute
- match: { prefix: "/" }
  route: { cluster: app }`,
    },
    log,
  );
  const replies = await Promise.all([get(e.url() + '/a'), get(e.url() + '/b', { 'x-partner': 'acme' }), get(e.url() + '/c')]);
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.trial.shadow_denied'), 2);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.trial.shadow_allowed'), 1);
  const partner = log.find((i) => i.originalPath === '/b')!;
  assert.deepEqual(partner.dynamicMetadata?.['envoy.filters.http.rbac'], {
    'trial.shadow_engine_result': 'allowed',
    'trial.shadow_effective_policy_id': 'only-partners',
  });
  assert.equal(log.find((i) => i.originalPath === '/a')!.dynamicMetadata?.['envoy.filters.http.rbac']?.['trial.shadow_engine_result'], 'denied');
  // The route's RBACPerRoute replaces the filter's rules (and shadow rules) for that route.
  const locked = await get(e.url() + '/locked');
  assert.equal(locked.status, 403);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.trial.shadow_denied'), 2);
  // RBACPerRoute without rbac: the filter does nothing on that route (no shadow evaluation either).
  assert.equal((await get(e.url() + '/free')).status, 200);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.trial.shadow_denied'), 2);
  assert.equal(log.find((i) => i.originalPath === '/free')!.dynamicMetadata, undefined);
});

let kit: Kit;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-rbac-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  kit = await createKit({ dir, clients: ['merchant-a', 'merchant-b'], days: 1 });
});

test('principal extraction of a real certificate: URI SAN, DNS SAN and the RFC 2253 subject', () => {
  const client = certificatePrincipals(new X509Certificate(readFileSync(kit.clients[0].cert)));
  assert.deepEqual(client, { uriSans: ['spiffe://meshdeck.local/merchant-a'], dnsSans: [], subject: 'CN=merchant-a,O=Meshdeck' });
  const server = certificatePrincipals(new X509Certificate(readFileSync(kit.serverCert)));
  assert.deepEqual(server.dnsSans, ['localhost']);
  assert.equal(server.subject, 'CN=localhost,O=Meshdeck');
});

test('mTLS listener: RBAC allows by the client certificate principal and a JWT claim through jwt_authn metadata', async () => {
  const app = await upstream();
  const yaml = kitEnvoyConfig(kit, 0, app.port);
  const e = await startEngine(yaml);
  onCleanup(() => e.stop());
  const url = e.url().replace('http://', 'https://');
  const token = readFileSync(kit.jwt.token, 'utf8').trim();
  const ca = readFileSync(kit.caCert);
  async function call(client: number, headers: Record<string, string>) {
    const c = kit.clients[client];
    const agent = new Agent({ connect: { ca, cert: readFileSync(c.cert), key: readFileSync(c.key), servername: 'localhost' } });
    try {
      const r = await request(url + '/charge', { headers, dispatcher: agent });
      return { status: r.statusCode, body: await r.body.text() };
    } finally {
      await agent.close();
    }
  }
  assert.deepEqual(await call(0, { authorization: `Bearer ${token}` }), { status: 200, body: 'app\n' });
  // merchant-b's certificate with merchant-a's token: the principal does not match.
  assert.deepEqual(await call(1, { authorization: `Bearer ${token}` }), { status: 403, body: 'RBAC: access denied' });
  assert.equal((await call(0, {})).status, 401);
  // merchant-a's certificate with a valid token for another subject: the claim does not match.
  const signing = JSON.parse(readFileSync(kit.jwt.signingKey, 'utf8'));
  const other = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: kit.jwt.kid })
    .setIssuer(kit.jwt.issuer)
    .setAudience(kit.jwt.audience)
    .setSubject('merchant-b')
    .setExpirationTime('5m')
    .sign(await importJWK(signing, 'ES256'));
  assert.equal((await call(0, { authorization: `Bearer ${other}` })).status, 403);
  assert.equal(e.engine.stats.get('http.secure_ingress.rbac.allowed'), 1);
  assert.equal(e.engine.stats.get('http.secure_ingress.rbac.denied'), 2);
  assert.equal(e.engine.stats.get('http.secure_ingress.jwt_authn.denied'), 1);
});

test('LOG action: every request passes; matches are counted as logged and hinted to the access log', async () => {
  const app = await upstream();
  const log: StreamInfo[] = [];
  const e = await filterEngine(
    {
      port: app.port,
      filters: rbacFilter(`
    rules:
      action: LOG
      policies:
        refunds: { permissions: [{ url_path: { path: { prefix: /refunds } } }], principals: [{ any: true }] }`),
    },
    log,
  );
  assert.deepEqual([(await get(e.url() + '/refunds/9')).status, (await get(e.url() + '/pay')).status], [200, 200]);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.logged'), 1);
  assert.equal(e.engine.stats.get('http.ingress_http.rbac.not_logged'), 1);
  assert.deepEqual(
    log.map((i) => [i.originalPath, i.dynamicMetadata?.['envoy.common']?.access_log_hint]),
    [['/refunds/9', true], ['/pay', false]],
  );
});
