// envoy.filters.http.jwt_authn on real sockets with keys generated here (jose): Envoy's status,
// body, WWW-Authenticate and RESPONSE_CODE_DETAILS for each failure, RS256/ES256/EdDSA/HS256,
// token locations, rules and requirements, per-route disabling, and a remote JWKS on a loopback
// server whose key rotation is picked up.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { request } from 'undici';
import { get } from '../../helpers/client';
import type { StreamInfo } from '../../../engine/observe/stream-info';
import { filterEngine, onCleanup, upstream } from './helpers';

const ISS = 'https://issuer.meshdeck.test';
const AUD = 'payments-api';
type Key = { alg: string; kid: string; priv: CryptoKey | Uint8Array; jwk: JWK };
const keys: Record<string, Key> = {};

async function asymmetric(alg: string, kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, priv: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

before(async () => {
  keys.rs = await asymmetric('RS256', 'rs-1');
  keys.es = await asymmetric('ES256', 'es-1');
  keys.ed = await asymmetric('EdDSA', 'ed-1');
  const secret = new TextEncoder().encode('a-32-byte-long-hmac-secret-here!');
  keys.hs = { alg: 'HS256', kid: 'hs-1', priv: secret, jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid: 'hs-1', alg: 'HS256' } };
  keys.rogue = await asymmetric('RS256', 'rs-1'); // same kid as rs, different key: a forged signature
});

const now = () => Math.floor(Date.now() / 1000);

function sign(k: Key, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ iss: ISS, aud: AUD, sub: 'merchant-42', iat: now(), exp: now() + 600, ...claims })
    .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT' })
    .sign(k.priv);
}

const jwks = (...ks: Key[]) => JSON.stringify({ keys: ks.map((k) => k.jwk) });

async function localEngine(log?: StreamInfo[]) {
  const app = await upstream();
  const e = await filterEngine(
    {
      port: app.port,
      filters: `
- name: envoy.filters.http.jwt_authn
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
    providers:
      local:
        issuer: ${ISS}
        audiences: [${AUD}]
        local_jwks: { inline_string: ${JSON.stringify(jwks(keys.rs, keys.es, keys.ed, keys.hs))} }
        forward_payload_header: x-jwt-payload
        payload_in_metadata: principal
        claim_to_headers: [{ header_name: x-merchant, claim_name: sub }]
      other:
        issuer: https://other.meshdeck.test
        from_headers: [{ name: x-other-token, value_prefix: "Token " }]
        from_params: [other_token]
        forward: true
        local_jwks: { inline_string: ${JSON.stringify(jwks(keys.rs))} }
    rules:
    - match: { prefix: /public }
    - match: { prefix: /optional }
      requires: { allow_missing: {} }
    - match: { prefix: /either }
      requires:
        requires_any:
          requirements: [{ provider_name: local }, { provider_name: other }]
    - match: { prefix: /other }
      requires: { provider_name: other }
    - match: { prefix: / }
      requires: { provider_name: local }`,
      routes: `
- match: { prefix: "/open" }
  route: { cluster: app }
  typed_per_filter_config:
    envoy.filters.http.jwt_authn:
      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig
      disabled: true
- match: { prefix: "/" }
  route: { cluster: app }`,
    },
    log,
  );
  return { app, e };
}

test('valid tokens signed with RS256, ES256, EdDSA and HS256 pass; the payload is forwarded and the JWT removed', async () => {
  const log: StreamInfo[] = [];
  const { app, e } = await localEngine(log);
  for (const k of [keys.rs, keys.es, keys.ed, keys.hs]) {
    const r = await get(e.url() + '/pay', { authorization: `Bearer ${await sign(k)}`, 'x-merchant': 'spoofed' });
    assert.equal(r.status, 200, `${k.alg}: ${r.body}`);
  }
  assert.equal(app.seen.length, 4);
  for (const s of app.seen) {
    assert.equal(s.headers.authorization, undefined, 'forward: false removes the token');
    assert.equal(JSON.parse(Buffer.from(String(s.headers['x-jwt-payload']), 'base64url').toString()).sub, 'merchant-42');
    assert.equal(s.headers['x-merchant'], 'merchant-42', 'claim_to_headers replaces what the client sent');
  }
  assert.deepEqual((log[0].dynamicMetadata?.['envoy.filters.http.jwt_authn']?.principal as JWTPayload).sub, 'merchant-42');
  assert.equal(e.engine.stats.get('http.ingress_http.jwt_authn.allowed'), 4);
});

test('each failure answers as Envoy: status, body, WWW-Authenticate and jwt_authn_access_denied details', async () => {
  const log: StreamInfo[] = [];
  const { app, e } = await localEngine(log);
  const cases: Array<{ name: string; token?: string; status: number; body: string }> = [
    { name: 'missing', status: 401, body: 'Jwt is missing' },
    { name: 'expired', token: await sign(keys.es, { exp: now() - 120 }), status: 401, body: 'Jwt is expired' },
    { name: 'not yet valid', token: await sign(keys.es, { nbf: now() + 300 }), status: 401, body: 'Jwt not yet valid' },
    { name: 'wrong issuer', token: await sign(keys.rs, { iss: 'https://evil.test' }), status: 401, body: 'Jwt issuer is not configured' },
    { name: 'wrong audience', token: await sign(keys.rs, { aud: 'someone-else' }), status: 403, body: 'Audiences in Jwt are not allowed' },
    { name: 'bad signature', token: await sign(keys.rogue), status: 401, body: 'Jwt verification fails' },
    { name: 'garbage', token: 'not-a-jwt', status: 401, body: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  ];
  for (const c of cases) {
    const r = await get(e.url() + '/pay/charge?x=1', c.token ? { authorization: `Bearer ${c.token}` } : {});
    assert.equal(r.status, c.status, c.name);
    assert.equal(r.body, c.body, c.name);
    const realm = `Bearer realm="http://${new URL(e.url()).host}/pay/charge?x=1"`;
    assert.equal(r.headers['www-authenticate'], c.name === 'missing' ? realm : `${realm}, error="invalid_token"`, c.name);
  }
  assert.equal(app.hits, 0);
  assert.deepEqual(
    log.map((i) => i.responseCodeDetails),
    cases.map((c) => `jwt_authn_access_denied{${c.body.replace(/ /g, '_')}}`),
  );
  assert.equal(e.engine.stats.get('http.ingress_http.jwt_authn.denied'), cases.length);
  // Within the default 60 s clock skew, an expired token still passes.
  const skewed = await get(e.url() + '/pay', { authorization: `Bearer ${await sign(keys.rs, { exp: now() - 30 })}` });
  assert.equal(skewed.status, 200);
});

test('rules: no requirement, allow_missing, requires_any, a provider with from_headers/from_params, per-route disabled', async () => {
  const { e } = await localEngine();
  const good = await sign(keys.rs);
  const otherGood = await sign(keys.rs, { iss: 'https://other.meshdeck.test' });
  assert.equal((await get(e.url() + '/public')).status, 200);
  assert.equal((await get(e.url() + '/open/anything')).status, 200, 'PerRouteConfig disabled');
  assert.equal((await get(e.url() + '/optional')).status, 200, 'allow_missing: no token is fine');
  const badOptional = await get(e.url() + '/optional', { authorization: `Bearer ${await sign(keys.rs, { exp: now() - 600 })}` });
  assert.equal(badOptional.status, 401, 'allow_missing: a bad token is not');
  assert.equal(badOptional.body, 'Jwt is expired');
  assert.equal((await get(e.url() + '/either', { authorization: `Bearer ${good}` })).status, 200);
  assert.equal((await get(e.url() + '/either', { 'x-other-token': `Token ${otherGood}` })).status, 200);
  assert.equal((await get(e.url() + '/either')).status, 401);
  assert.equal((await get(e.url() + `/other?other_token=${otherGood}`)).status, 200, 'from_params');
  const wrongPrefix = await get(e.url() + '/other', { 'x-other-token': `Bearer ${otherGood}` });
  assert.equal(wrongPrefix.status, 401);
  assert.equal(wrongPrefix.body, 'Jwt is missing');
});

test('remote_jwks: fetched from a loopback server, cached, and a key rotation is picked up', async () => {
  let served = [keys.rs];
  let fetches = 0;
  const jwksServer = createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks(...served));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => jwksServer.close(() => r())));
  const port = (jwksServer.address() as AddressInfo).port;
  const app = await upstream();
  const e = await filterEngine({
    port: app.port,
    filters: `
- name: envoy.filters.http.jwt_authn
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
    providers:
      remote:
        issuer: ${ISS}
        remote_jwks:
          http_uri: { uri: "http://127.0.0.1:${port}/.well-known/jwks.json", cluster: jwks, timeout: 2s }
          cache_duration: 300s
    rules: [{ match: { prefix: / }, requires: { provider_name: remote } }]`,
  });
  const first = await sign(keys.rs);
  assert.equal((await get(e.url(), { authorization: `Bearer ${first}` })).status, 200);
  assert.equal((await get(e.url(), { authorization: `Bearer ${first}` })).status, 200);
  assert.equal(fetches, 1, 'cached for cache_duration');
  // The issuer rotates to a new key with a new kid.
  const next = await asymmetric('ES256', 'es-rotated');
  served = [next];
  assert.equal((await get(e.url(), { authorization: `Bearer ${await sign(next)}` })).status, 200);
  assert.equal(fetches, 2);
  // A kid the endpoint does not have: refused, and not refetched again at once.
  const unknown = await asymmetric('ES256', 'nobody');
  const r1 = await get(e.url(), { authorization: `Bearer ${await sign(unknown)}` });
  const r2 = await get(e.url(), { authorization: `Bearer ${await sign(unknown)}` });
  assert.equal(r1.status, 401);
  assert.equal(r1.body, "Jwks doesn't have key to match kid or alg from Jwt");
  assert.equal(r2.status, 401);
  assert.equal(fetches, 3);
  assert.equal(e.engine.stats.get('http.ingress_http.jwt_authn.jwks_fetch_success'), 3);
  // The endpoint goes away: a new kid cannot be fetched, the cached keys still verify.
  await new Promise<void>((r) => jwksServer.close(() => r()));
  jwksServer.closeAllConnections();
  assert.equal((await get(e.url(), { authorization: `Bearer ${await sign(next)}` })).status, 200);
});

test('/config_dump never shows an inline JWKS (it may hold an HS256 secret)', async () => {
  const { e } = await localEngine();
  const r = await request(`${e.engine.adminUrl}/config_dump`, { headers: { authorization: 'Bearer test-token' } });
  const text = await r.body.text();
  assert.equal(r.statusCode, 200);
  assert.ok(text.includes('envoy.filters.http.jwt_authn'), 'the filter is in the dump');
  assert.ok(!text.includes(String(keys.hs.jwk.k)), 'the HMAC secret is not');
  assert.ok(text.includes('[redacted]'));
});
