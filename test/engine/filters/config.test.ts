// The config side of jwt_authn, rbac and local_ratelimit: what Meshdeck runs loads without "not
// run" warnings, and Envoy's config errors are located errors with Envoy's messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../engine/config/load';
import { filterYaml } from './helpers';

async function load(filters: string, routes?: string) {
  const r = await loadConfig(filterYaml({ port: 1, filters, routes }), { sourceName: 'test.yaml' });
  return { ok: r.ok, diags: r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.path.replace(/^.*?http_filters/, 'http_filters')}: ${d.message}`), raw: r.diagnostics };
}

test('the fields Meshdeck runs load without warnings (RBAC principals and permissions, per-route configs)', async () => {
  const r = await load(
    `
- name: envoy.filters.http.rbac
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
    rules_stat_prefix: edge.
    rules:
      action: ALLOW
      policies:
        mixed:
          permissions:
          - and_rules: { rules: [{ header: { name: ":method", string_match: { exact: POST } } }, { destination_port: 443 }] }
          - or_rules: { rules: [{ url_path: { path: { prefix: /a } } }, { not_rule: { any: true } }] }
          - destination_ip: { address_prefix: 10.0.0.0, prefix_len: 8 }
          - destination_port_range: { start: 8000, end: 9000 }
          - requested_server_name: { exact: pay.example.com }
          principals:
          - and_ids: { ids: [{ authenticated: { principal_name: { exact: "spiffe://x/y" } } }, { remote_ip: { address_prefix: 192.168.0.0, prefix_len: 16 } }] }
          - or_ids: { ids: [{ direct_remote_ip: { address_prefix: "::1", prefix_len: 128 } }, { not_id: { header: { name: x-a, present_match: true } } }] }
          - metadata: { filter: envoy.filters.http.jwt_authn, path: [{ key: p }, { key: sub }], value: { string_match: { exact: m } } }
    shadow_rules: { action: DENY, policies: {} }
- name: envoy.filters.http.local_ratelimit
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: rl
    status: { code: TooManyRequests }
    token_bucket: { max_tokens: 10, tokens_per_fill: 5, fill_interval: 1s }
    filter_enabled: { runtime_key: a, default_value: { numerator: 50, denominator: HUNDRED } }
    filter_enforced: { runtime_key: b, default_value: { numerator: 100, denominator: HUNDRED } }
    response_headers_to_add: [{ header: { key: x-rl, value: "1" } }]
    request_headers_to_add_when_not_enforced: [{ header: { key: x-rl-shadow, value: "1" } }]
    local_rate_limit_per_downstream_connection: true`,
    `
- match: { prefix: "/" }
  route: { cluster: app }
  typed_per_filter_config:
    envoy.filters.http.rbac:
      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute
    envoy.filters.http.local_ratelimit:
      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
      stat_prefix: route_rl`,
  );
  assert.equal(r.ok, true, r.diags.join('\n'));
  assert.deepEqual(r.diags, []);
});

test('fields Meshdeck does not run are located warnings, not silently ignored', async () => {
  const r = await load(`
- name: envoy.filters.http.local_ratelimit
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: rl
    descriptors: [{ entries: [{ key: k, value: v }], token_bucket: { max_tokens: 1, fill_interval: 1s } }]`);
  assert.equal(r.ok, true);
  assert.equal(r.diags.length, 1);
  assert.match(r.diags[0], /^warning not_supported http_filters\[0\]\.typed_config\.descriptors: not run by Meshdeck/);
});

test("Envoy's config errors: unknown provider, unknown requirement, bad JWKS, a fill interval under 50 ms; a bad JWKS URI warns", async () => {
  const r = await load(`
- name: envoy.filters.http.jwt_authn
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
    providers:
      a: { issuer: x, local_jwks: { inline_string: "not json" } }
      b: { issuer: y, local_jwks: { filename: /nonexistent/jwks.json } }
      c: { issuer: z, remote_jwks: { http_uri: { uri: "ftp:/x", cluster: c, timeout: 1s } } }
    rules:
    - match: { prefix: / }
      requires: { requires_any: { requirements: [{ provider_name: a }, { provider_name: zz }] } }
    - match: { prefix: /x }
      requirement_name: missing
- name: envoy.filters.http.local_ratelimit
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: rl
    token_bucket: { max_tokens: 1, fill_interval: 0.01s }`);
  assert.equal(r.ok, false);
  const errors = r.diags.filter((d) => d.startsWith('error')).map((d) => d.split(': ')[0]);
  assert.deepEqual(errors, [
    'error invalid_jwks http_filters[0].typed_config.providers["a"].local_jwks.inline_string',
    'error file_not_found http_filters[0].typed_config.providers["b"].local_jwks.filename',
    'error unknown_provider http_filters[0].typed_config.rules[0].requires.requires_any.requirements[1].provider_name',
    'error unknown_requirement http_filters[0].typed_config.rules[1].requirement_name',
    'error invalid_fill_interval http_filters[1].typed_config.token_bucket.fill_interval',
  ]);
  assert.ok(r.diags.some((d) => d.includes("Required provider ['zz'] is not configured.")));
  assert.ok(r.diags.includes(`warning invalid_uri http_filters[0].typed_config.providers["c"].remote_jwks.http_uri.uri: remote_jwks uri 'ftp:/x' is not an http(s) URL: fetching the JWKS will fail`));
  assert.ok(r.diags.some((d) => d.includes('local rate limit token bucket fill timer must be >= 50ms')));
  for (const d of r.raw) assert.ok(d.line > 0 && d.column > 0, `unlocated: ${d.path}`);
});
