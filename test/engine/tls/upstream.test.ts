// Upstream TLS on real sockets: a cluster with an UpstreamTlsContext verifies its upstream against
// the trusted CA and the subject-alt-name matchers, sends SNI and a client certificate (mTLS to the
// upstream), and a failed verification answers 503 with flag UF and Envoy's transport failure reason.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makePki, type KeyPair, type Pki } from '../../helpers/certs';
import { bootstrap, startEngine, staticCluster } from '../../helpers/engine';
import { get } from '../../helpers/client';
import type { StreamInfo } from '../../../engine/observe/stream-info';
import { compileTextFormat } from '../../../engine/observe/access-log';
import { MockInstance } from '../../../engine/sim/mock';
import { loadScenario } from '../../../engine/sim/scenario';

interface TlsUpstream {
  port: number;
  /** SNI and client certificate CN of each request. */
  seen: Array<{ sni: string; clientCn: string }>;
  close(): Promise<void>;
}

async function startTlsUpstream(cert: KeyPair, opts: { ca?: string; requireClientCert?: boolean } = {}): Promise<TlsUpstream> {
  const seen: TlsUpstream['seen'] = [];
  const server: Server = createServer(
    { cert: cert.cert, key: cert.key, ca: opts.ca, requestCert: opts.requireClientCert ?? false, rejectUnauthorized: opts.requireClientCert ?? false },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      const cn = sock.getPeerCertificate()?.subject?.CN;
      seen.push({ sni: (sock as unknown as { servername?: string }).servername || '', clientCn: Array.isArray(cn) ? cn.join(',') : (cn ?? '') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('secure upstream\n');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function tlsCluster(port: number, ctx: string): string {
  const c = staticCluster('psp', [{ port }]).replace(/^(- )?name: psp$/m, '$&');
  return `${c.trimEnd()}\n  transport_socket:\n    name: envoy.transport_sockets.tls\n    typed_config:\n      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n${ctx}`;
}

const routes = `- match: { prefix: "/" }\n  route: { cluster: psp }`;

describe('upstream TLS', () => {
  let pki: Pki;
  let wrong: Pki;
  let server: KeyPair;
  let client: KeyPair;
  before(() => {
    pki = makePki('PSP CA');
    wrong = makePki('Wrong CA');
    server = pki.issue('psp', { cn: 'psp.internal', sans: ['DNS:psp.internal', 'URI:spiffe://pay/psp'] });
    client = pki.issue('gateway', { cn: 'gateway' });
  });
  after(() => {
    pki.remove();
    wrong.remove();
  });

  it('verifies the upstream against trusted_ca and the SAN matcher, sends SNI and a client certificate (mTLS)', async () => {
    const up = await startTlsUpstream(server, { ca: pki.ca.cert, requireClientCert: true });
    const ctx = `      sni: psp.internal
      common_tls_context:
        tls_certificates:
        - certificate_chain: { filename: "${client.certPath}" }
          private_key: { filename: "${client.keyPath}" }
        validation_context:
          trusted_ca: { filename: "${pki.ca.certPath}" }
          match_typed_subject_alt_names:
          - san_type: URI
            matcher: { exact: "spiffe://pay/psp" }`;
    const e = await startEngine(bootstrap({ routes, clusters: tlsCluster(up.port, ctx) }));
    try {
      const r = await get(`${e.url()}/charge`);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'secure upstream\n');
      assert.deepEqual(up.seen[0], { sni: 'psp.internal', clientCn: 'gateway' });
    } finally {
      await e.stop();
      await up.close();
    }
  });

  it('a wrong CA fails the request with 503, flag UF and CERTIFICATE_VERIFY_FAILED as the transport failure reason', async () => {
    const up = await startTlsUpstream(server);
    const infos: StreamInfo[] = [];
    const ctx = `      common_tls_context:
        validation_context:
          trusted_ca: { filename: "${wrong.ca.certPath}" }`;
    const e = await startEngine(bootstrap({ routes, clusters: tlsCluster(up.port, ctx) }), { accessLog: (i) => infos.push(i) });
    try {
      const r = await get(`${e.url()}/charge`);
      assert.equal(r.status, 503);
      assert.match(r.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure, transport failure reason: TLS_error:\|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED/);
      assert.equal(up.seen.length, 0, 'no request reached the unverified upstream');
      const info = infos.at(-1)!;
      // As the access log prints it (Envoy's formatter turns spaces into '_' in this operator).
      const line = compileTextFormat('%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_TRANSPORT_FAILURE_REASON%\n')(info);
      assert.equal(line, '503 UF TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end\n');
    } finally {
      await e.stop();
      await up.close();
    }
  });

  it('a certificate whose subject alt names match none of the matchers is refused the same way', async () => {
    const up = await startTlsUpstream(server);
    const ctx = `      common_tls_context:
        validation_context:
          trusted_ca: { filename: "${pki.ca.certPath}" }
          match_typed_subject_alt_names:
          - san_type: DNS
            matcher: { exact: "vault.internal" }`;
    const e = await startEngine(bootstrap({ routes, clusters: tlsCluster(up.port, ctx) }));
    try {
      const r = await get(`${e.url()}/charge`);
      assert.equal(r.status, 503);
      assert.match(r.body, /CERTIFICATE_VERIFY_FAILED/);
      assert.equal(up.seen.length, 0);
    } finally {
      await e.stop();
      await up.close();
    }
  });

  it('without a validation context the upstream certificate is not verified (Envoy’s default)', async () => {
    const up = await startTlsUpstream(wrong.issue('self', { cn: 'anything' }));
    const e = await startEngine(bootstrap({ routes, clusters: tlsCluster(up.port, '      common_tls_context: {}') }));
    try {
      assert.equal((await get(`${e.url()}/`)).status, 200);
    } finally {
      await e.stop();
      await up.close();
    }
  });

  it('a simulator mock with tls in its scenario serves HTTPS, verified by the cluster (a scenario runs encrypted)', async () => {
    const loaded = loadScenario(
      `clusters: {}\nservices:\n  psp:\n    latency: { model: fixed, ms: 0 }\n    tls: { certificate_chain: psp.crt, private_key: psp.key }\n`,
      { baseDir: pki.dir },
    );
    assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
    const svc = loaded.scenario!.services[0];
    const mock = new MockInstance('psp', 0, svc.instances[0], 1, 0, svc.tls);
    await mock.listen();
    const ctx = `      common_tls_context:
        validation_context:
          trusted_ca: { filename: "${pki.ca.certPath}" }
          match_typed_subject_alt_names: [{ san_type: DNS, matcher: { exact: psp.internal } }]`;
    const e = await startEngine(bootstrap({ routes, clusters: tlsCluster(mock.port, ctx) }));
    try {
      const r = await get(`${e.url()}/v1/charges`);
      assert.equal(r.status, 200);
    } finally {
      await e.stop();
      await mock.close();
    }
    const missing = loadScenario(`clusters: {}\nservices:\n  psp:\n    tls: { certificate_chain: nope.crt, private_key: psp.key }\n`, { baseDir: pki.dir });
    assert.equal(missing.ok, false);
    assert.match(missing.diagnostics[0].message, /cannot read nope\.crt: ENOENT/);
  });
});
