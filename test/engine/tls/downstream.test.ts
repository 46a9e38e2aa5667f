// Downstream TLS on real sockets with certificates made in the test: SNI picks the filter chain
// and its certificate, require_client_certificate refuses clients without one in the handshake,
// a certificate file replaced on disk is served to the next connection, and the private key never
// shows in /config_dump.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { request } from 'undici';
import { makePki, type KeyPair, type Pki } from '../../helpers/certs';
import { startEngine, type RunningEngine } from '../../helpers/engine';

interface Answer {
  status: number;
  body: string;
  cert: PeerCertificate;
  alpn: string | false | null;
}

/** One HTTPS GET on a fresh connection; rejects when the handshake or the request fails. */
function get(port: number, opts: { servername?: string; ca: string; cert?: KeyPair; path?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/',
        servername: opts.servername,
        ca: opts.ca,
        cert: opts.cert?.cert,
        key: opts.cert?.key,
        agent: false,
        // The test certificates name test hosts, not 127.0.0.1: verify the chain, not the name.
        checkServerIdentity: () => undefined,
      },
      (res) => {
        const sock = res.socket as import('node:tls').TLSSocket;
        const cert = sock.getPeerCertificate();
        const alpn = sock.alpnProtocol;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert, alpn }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function chain(name: string, serverNames: string[], cert: KeyPair, extraTls = '', body = name): string {
  return `
    - name: ${name}
      ${serverNames.length ? `filter_chain_match: { server_names: [${serverNames.map((s) => `"${s}"`).join(', ')}] }` : ''}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates:
            - certificate_chain: { filename: "${cert.certPath}" }
              private_key: { filename: "${cert.keyPath}" }
${extraTls}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${name}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "${body}" } }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;
}

function config(chains: string, extra = ''): string {
  return `
static_resources:
  listeners:
  - name: tls
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
    filter_chains:${chains}
${extra}
  clusters: []
`;
}

const portOf = (e: RunningEngine) => Number(new URL(e.url()).port);

describe('downstream TLS', () => {
  let pki: Pki;
  let other: Pki;
  let a: KeyPair;
  let b: KeyPair;
  let fallback: KeyPair;
  before(() => {
    pki = makePki();
    other = makePki('Some Other CA');
    a = pki.issue('a', { cn: 'a.pay.test', sans: ['DNS:a.pay.test'] });
    b = pki.issue('b', { cn: 'b.pay.test', sans: ['DNS:b.pay.test', 'DNS:*.b.pay.test'] });
    fallback = pki.issue('fallback', { cn: 'default.pay.test', sans: ['DNS:default.pay.test'] });
  });
  after(() => {
    pki.remove();
    other.remove();
  });

  it('SNI selects the filter chain and its certificate; no SNI gets the chain without server_names', async () => {
    const e = await startEngine(
      config(chain('chain_a', ['a.pay.test'], a) + chain('chain_b', ['b.pay.test', '*.b.pay.test'], b) + chain('chain_default', [], fallback)),
    );
    try {
      const port = portOf(e);
      const ra = await get(port, { servername: 'a.pay.test', ca: pki.ca.cert });
      assert.equal(ra.status, 200);
      assert.equal(ra.body, 'chain_a');
      assert.equal(ra.cert.subject.CN, 'a.pay.test');
      const rb = await get(port, { servername: 'api.b.pay.test', ca: pki.ca.cert });
      assert.equal(rb.body, 'chain_b', 'a wildcard server name matches');
      assert.equal(rb.cert.subject.CN, 'b.pay.test');
      assert.match(rb.cert.subjectaltname ?? '', /DNS:b\.pay\.test/);
      const rd = await get(port, { ca: pki.ca.cert });
      assert.equal(rd.body, 'chain_default');
      assert.equal(rd.cert.subject.CN, 'default.pay.test');
      // HTTP/1.1 over TLS: x-forwarded-proto is https, and the handshake is counted.
      const text = await (await request(`${e.engine.adminUrl}/stats`, { headers: { authorization: 'Bearer test-token' } })).body.text();
      assert.match(text, /listener\.127\.0\.0\.1_\d+\.ssl\.handshake: 3/);
      assert.match(text, /http\.chain_a\.downstream_cx_ssl_total: 1/);
    } finally {
      await e.stop();
    }
  });

  it('require_client_certificate: a client without a certificate is refused at the handshake; one from the trusted CA is served', async () => {
    const client = pki.issue('client', { cn: 'checkout', sans: ['URI:spiffe://pay/checkout'] });
    const stranger = other.issue('stranger', { cn: 'stranger' });
    const vc = `
            validation_context:
              trusted_ca: { filename: "${pki.ca.certPath}" }`;
    const e = await startEngine(config(chain('mtls', [], a, vc).replace(/(common_tls_context:)/, `require_client_certificate: true\n          $1`)));
    try {
      const port = portOf(e);
      await assert.rejects(get(port, { servername: 'a.pay.test', ca: pki.ca.cert }), 'no client certificate: refused');
      await assert.rejects(get(port, { servername: 'a.pay.test', ca: pki.ca.cert, cert: stranger }), 'a certificate from another CA: refused');
      const ok = await get(port, { servername: 'a.pay.test', ca: pki.ca.cert, cert: client });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'mtls');
      const text = await (await request(`${e.engine.adminUrl}/stats`, { headers: { authorization: 'Bearer test-token' } })).body.text();
      assert.match(text, /ssl\.handshake: 1\b/);
      assert.match(text, /ssl\.connection_error: [1-9]/);
    } finally {
      await e.stop();
    }
  });

  it('a certificate file replaced on disk is served to the next connection, without a restart', async () => {
    const dir = pki.dir;
    const live = { certPath: join(dir, 'live.crt'), keyPath: join(dir, 'live.key') };
    copyFileSync(a.certPath, live.certPath);
    copyFileSync(a.keyPath, live.keyPath);
    const e = await startEngine(config(chain('rotating', [], { ...a, ...live })));
    try {
      const port = portOf(e);
      assert.equal((await get(port, { ca: pki.ca.cert })).cert.subject.CN, 'a.pay.test');
      const next = pki.issue('next', { cn: 'rotated.pay.test', sans: ['DNS:rotated.pay.test'] });
      // Replace the files the way certificate tools do: write beside, then rename over.
      copyFileSync(next.keyPath, `${live.keyPath}.tmp`);
      copyFileSync(next.certPath, `${live.certPath}.tmp`);
      renameSync(`${live.keyPath}.tmp`, live.keyPath);
      renameSync(`${live.certPath}.tmp`, live.certPath);
      let cn: string | string[] | undefined = '';
      for (let i = 0; i < 60 && cn !== 'rotated.pay.test'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        cn = (await get(port, { ca: pki.ca.cert })).cert.subject.CN;
      }
      assert.equal(cn, 'rotated.pay.test', 'the new certificate is served within 6 s');
    } finally {
      await e.stop();
    }
  });

  it('inline private keys never appear in /config_dump', async () => {
    const inline = chain('inline', [], a).replace(
      /tls_certificates:[\s\S]*?private_key: \{ filename: "[^"]+" \}/,
      `tls_certificates:\n            - certificate_chain: { inline_string: ${JSON.stringify(a.cert)} }\n              private_key: { inline_string: ${JSON.stringify(a.key)} }`,
    );
    const e = await startEngine(config(inline));
    try {
      const r = await get(portOf(e), { ca: pki.ca.cert });
      assert.equal(r.body, 'inline', 'the inline certificate and key are served');
      const dump = await (await request(`${e.engine.adminUrl}/config_dump`, { headers: { authorization: 'Bearer test-token' } })).body.text();
      assert.ok(dump.includes('BEGIN CERTIFICATE'), 'the certificate is shown');
      assert.ok(!dump.includes('PRIVATE KEY'), 'the key is not');
      assert.ok(dump.includes('[redacted]'));
    } finally {
      await e.stop();
    }
  });

  it('an unreadable certificate file refuses the config with a clear error', async () => {
    await assert.rejects(
      startEngine(config(chain('broken', [], { ...a, certPath: join(pki.dir, 'missing.crt') }))),
      /tls_certificates\[0\]\.certificate_chain: cannot read .*missing\.crt: ENOENT/,
    );
  });

  it('a raw TLS client sees the ALPN the chain offers for codec AUTO (h2, http/1.1)', async () => {
    const e = await startEngine(config(chain('alpn', [], a)));
    try {
      const alpn = await new Promise<string | false | null>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: portOf(e), ca: pki.ca.cert, checkServerIdentity: () => undefined, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
          resolve(s.alpnProtocol);
          s.destroy();
        });
        s.on('error', reject);
      });
      assert.equal(alpn, 'h2');
    } finally {
      await e.stop();
    }
  });

  it('a reload swaps a chain’s certificates; one naming an unreadable file is refused and the old ones keep serving', async () => {
    const e = await startEngine(config(chain('reloaded', [], a)));
    try {
      const port = portOf(e);
      assert.equal((await get(port, { ca: pki.ca.cert })).cert.subject.CN, 'a.pay.test');
      const bad = await e.engine.apply(config(chain('reloaded', [], { ...b, keyPath: join(pki.dir, 'missing.key') })), 'test.yaml');
      assert.equal(bad.ok, false);
      assert.equal(bad.diagnostics[0].code, 'tls_config');
      assert.match(bad.diagnostics[0].message, /private_key: cannot read .*missing\.key/);
      assert.equal((await get(port, { ca: pki.ca.cert })).cert.subject.CN, 'a.pay.test');
      const good = await e.engine.apply(config(chain('reloaded', [], b)), 'test.yaml');
      assert.equal(good.ok, true);
      assert.equal(portOf(e), port, 'the same socket');
      assert.equal((await get(port, { ca: pki.ca.cert })).cert.subject.CN, 'b.pay.test');
    } finally {
      await e.stop();
    }
  });
});
