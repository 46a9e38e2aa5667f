// The bench's jwt_authn + rbac variant: a fresh RS256 key (local JWKS), a token valid for an hour,
// and the two filters in front of the router as a payment edge would run them. jwt_cache_config is
// off (Envoy's default), so every request's signature is verified.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export async function withJwtRbac(bootstrap) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-1';
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const token = await new SignJWT({ scope: 'payments:write' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer('https://auth.bench.local')
    .setAudience('payments-api')
    .setSubject('merchant-a')
    .setExpirationTime('1h')
    .sign(privateKey);
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  hcm.http_filters.unshift(
    {
      name: 'envoy.filters.http.jwt_authn',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
        providers: {
          bench: {
            issuer: 'https://auth.bench.local',
            audiences: ['payments-api'],
            local_jwks: { inline_string: jwks },
            payload_in_metadata: 'jwt_payload',
          },
        },
        rules: [{ match: { prefix: '/' }, requires: { provider_name: 'bench' } }],
      },
    },
    {
      name: 'envoy.filters.http.rbac',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
        rules: {
          action: 'ALLOW',
          policies: {
            merchants: {
              permissions: [{ url_path: { path: { prefix: '/' } } }],
              principals: [{
                metadata: {
                  filter: 'envoy.filters.http.jwt_authn',
                  path: [{ key: 'jwt_payload' }, { key: 'sub' }],
                  value: { string_match: { prefix: 'merchant-' } },
                },
              }],
            },
          },
        },
      },
    },
  );
  // wrk sends no custom headers: the token rides in access_token, one of jwt_authn's default locations.
  return { bootstrap, query: `?access_token=${token}` };
}
