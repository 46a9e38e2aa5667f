// The security kit: everything a simulation needs to try mTLS and JWT in a minute — a local CA,
// a server certificate (localhost / 127.0.0.1), client certificates with a SPIFFE-style URI SAN,
// an ES256 signing key with its JWKS, sample tokens (valid, expired) and an Envoy config that
// uses them (downstream TLS with require_client_certificate, jwt_authn, rbac).
//
// Certificates come from the `openssl` binary (node:crypto can read X.509 but not issue it).
// Private keys are written to files (mode 0600) and never returned or printed.

import { execFile } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const run = promisify(execFile);

export interface KitClient {
  /** Certificate subject CN, also the last segment of its URI SAN. */
  name: string;
  /** spiffe://meshdeck.local/<name> */
  uri: string;
  cert: string;
  key: string;
}

export interface KitOptions {
  dir: string;
  /** JWT issuer and audience (default https://auth.meshdeck.local, payments-api). */
  issuer?: string;
  audience?: string;
  /** Client certificates to issue (default: merchant-a, merchant-b). */
  clients?: string[];
  /** Validity of certificates, days (default 30). */
  days?: number;
}

/** What a kit holds: file paths and public facts only (no private key material). */
export interface Kit {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clients: KitClient[];
  jwt: {
    issuer: string;
    audience: string;
    kid: string;
    alg: 'ES256';
    /** Public keys (JSON Web Key Set) for local_jwks / a JWKS endpoint. */
    jwks: string;
    /** The private signing key (JWK), for minting more tokens. */
    signingKey: string;
    /** A token valid for `days`, sub = the first client. */
    token: string;
    /** An expired token, to see Envoy's `Jwt is expired`. */
    expiredToken: string;
  };
  /** An Envoy config using all of it (listener on 127.0.0.1:10443). */
  envoyConfig: string;
}

export const KIT_URI_PREFIX = 'spiffe://meshdeck.local/';

/** Options a caller got wrong (as opposed to openssl or the file system failing). */
export class KitInputError extends Error {}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('the security kit needs the `openssl` command on the PATH to issue certificates');
    throw new Error(`openssl ${args[0]} failed: ${(err.stderr ?? err.message).trim()}`);
  }
}

/** A key and a certificate signed by the kit's CA (or self-signed for the CA itself). */
async function issue(dir: string, name: string, subject: string, ext: string, days: number, ca?: { cert: string; key: string }): Promise<{ cert: string; key: string }> {
  const key = `${name}.key`;
  const cert = `${name}.crt`;
  const extFile = `${name}.ext`;
  await writeFile(join(dir, extFile), ext);
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key];
  if (!ca) {
    await openssl(['req', '-x509', ...keyArgs, '-out', cert, '-subj', subject, '-days', String(days), '-extensions', 'v3', '-config', extFile], dir);
  } else {
    const csr = `${name}.csr`;
    await openssl(['req', '-new', ...keyArgs, '-out', csr, '-subj', subject], dir);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', String(days), '-extfile', extFile, '-extensions', 'v3'], dir);
  }
  await chmod(join(dir, key), 0o600);
  return { cert: join(dir, cert), key: join(dir, key) };
}

const V3 = (lines: string[]) => `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${lines.join('\n')}\n`;

export async function createKit(opts: KitOptions): Promise<Kit> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const days = opts.days ?? 30;
  const issuer = opts.issuer ?? 'https://auth.meshdeck.local';
  const audience = opts.audience ?? 'payments-api';
  const clientNames = opts.clients?.length ? opts.clients : ['merchant-a', 'merchant-b'];
  for (const n of clientNames) if (!/^[A-Za-z0-9._-]+$/.test(n)) throw new KitInputError(`client name '${n}': use letters, digits, '.', '_' or '-'`);

  const ca = await issue(dir, 'ca', '/O=Meshdeck/CN=Meshdeck Local CA', V3(['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash']), days);
  const server = await issue(
    dir,
    'server',
    '/O=Meshdeck/CN=localhost',
    V3(['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost, IP:127.0.0.1']),
    days,
    ca,
  );
  const clients: KitClient[] = [];
  for (const name of clientNames) {
    const uri = KIT_URI_PREFIX + name;
    const c = await issue(
      dir,
      `client-${name}`,
      `/O=Meshdeck/CN=${name}`,
      V3(['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = clientAuth', `subjectAltName = URI:${uri}`]),
      days,
      ca,
    );
    clients.push({ name, uri, ...c });
  }

  const kid = `kit-${Date.now().toString(36)}`;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = join(dir, 'jwks.json');
  await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }, null, 2));
  const signingKey = join(dir, 'jwt-signing-key.jwk.json');
  await writeFile(signingKey, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, null, 2), { mode: 0o600 });
  const now = Math.floor(Date.now() / 1000);
  const mint = (iat: number, exp: number) =>
    new SignJWT({ scope: 'payments:write' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(clientNames[0])
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
  const token = await mint(now, now + days * 86400);
  const expiredToken = await mint(now - 7200, now - 3600);
  await writeFile(join(dir, 'token.jwt'), `${token}\n`);
  await writeFile(join(dir, 'expired-token.jwt'), `${expiredToken}\n`);

  const kit: Kit = {
    dir,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clients,
    jwt: { issuer, audience, kid, alg: 'ES256', jwks, signingKey, token: join(dir, 'token.jwt'), expiredToken: join(dir, 'expired-token.jwt') },
    envoyConfig: join(dir, 'envoy-security.yaml'),
  };
  // openssl's working files (requests, extension sections, the serial counter) are of no further use.
  const scratch = ['ca.ext', 'ca.srl', 'server.csr', 'server.ext', ...clientNames.flatMap((n) => [`client-${n}.csr`, `client-${n}.ext`])];
  await Promise.all(scratch.map((f) => rm(join(dir, f), { force: true })));
  await writeFile(kit.envoyConfig, kitEnvoyConfig(kit));
  await writeFile(join(dir, 'README.txt'), kitReadme(kit));
  return kit;
}

/** An Envoy config over the kit: mTLS on 127.0.0.1:10443, JWT required, RBAC by certificate and claim. */
export function kitEnvoyConfig(kit: Kit, port = 10443, upstreamPort = 8080): string {
  const first = kit.clients[0];
  return `# Generated by \`meshdeck kit\`: mTLS + JWT + RBAC in front of one upstream (127.0.0.1:${upstreamPort}).
static_resources:
  listeners:
  - name: secure_ingress
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            tls_certificates:
            - certificate_chain: { filename: ${JSON.stringify(kit.serverCert)} }
              private_key: { filename: ${JSON.stringify(kit.serverKey)} }
            validation_context:
              trusted_ca: { filename: ${JSON.stringify(kit.caCert)} }
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: secure_ingress
          route_config:
            name: local
            virtual_hosts:
            - name: payments
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: payments }
          http_filters:
          - name: envoy.filters.http.jwt_authn
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
              providers:
                kit:
                  issuer: ${kit.jwt.issuer}
                  audiences: [${kit.jwt.audience}]
                  local_jwks: { filename: ${JSON.stringify(kit.jwt.jwks)} }
                  payload_in_metadata: jwt_payload
              rules:
              - match: { prefix: "/" }
                requires: { provider_name: kit }
          - name: envoy.filters.http.rbac
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
              rules:
                action: ALLOW
                policies:
                  ${first.name}-with-its-token:
                    permissions: [{ any: true }]
                    principals:
                    - and_ids:
                        ids:
                        - authenticated: { principal_name: { exact: ${JSON.stringify(first.uri)} } }
                        - metadata:
                            filter: envoy.filters.http.jwt_authn
                            path: [{ key: jwt_payload }, { key: sub }]
                            value: { string_match: { exact: ${JSON.stringify(first.name)} } }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: payments
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: payments
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;
}

function kitReadme(kit: Kit): string {
  const c = kit.clients[0];
  return `Meshdeck security kit — for local simulations only.

  ca.crt                     the local CA (trust it as validation_context.trusted_ca)
  server.crt / server.key    localhost, 127.0.0.1
${kit.clients.map((x) => `  client-${x.name}.crt/.key   URI SAN ${x.uri}`).join('\n')}
  jwks.json                  public key set for jwt_authn local_jwks (kid ${kit.jwt.kid}, ES256)
  jwt-signing-key.jwk.json   private signing key (keep it local)
  token.jwt / expired-token.jwt   iss ${kit.jwt.issuer}, aud ${kit.jwt.audience}, sub ${c.name}
  envoy-security.yaml        mTLS + jwt_authn + rbac on 127.0.0.1:10443

Try it:
  meshdeck -c envoy-security.yaml
  curl --cacert ca.crt --cert client-${c.name}.crt --key client-${c.name}.key \\
       -H "Authorization: Bearer $(cat token.jwt)" https://127.0.0.1:10443/
`;
}
