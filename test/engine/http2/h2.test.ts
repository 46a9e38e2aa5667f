// HTTP/2 end to end on real sockets: client → Meshdeck → upstream, over h2c (prior knowledge,
// found by its preface on a codec AUTO listener) and over TLS with ALPN, with a gRPC-style request
// whose response carries trailers (grpc-status, grpc-message); %PROTOCOL% is HTTP/2. The same
// cleartext port still serves HTTP/1.1, and an upstream that resets a stream is retried.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  constants,
  createSecureServer,
  createServer,
  type ClientHttp2Session,
  type Http2Server,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { makePki, type KeyPair, type Pki } from '../../helpers/certs';
import { bootstrap, startEngine, staticCluster } from '../../helpers/engine';
import { get } from '../../helpers/client';
import type { StreamInfo } from '../../../engine/observe/stream-info';
import { compileTextFormat } from '../../../engine/observe/access-log';

/** A gRPC length-prefixed message. */
const frame = (msg: string) => {
  const body = Buffer.from(msg);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};

interface H2Upstream {
  port: number;
  seen: Array<{ headers: IncomingHttpHeaders; body: Buffer }>;
  /** Reset this many upcoming streams with REFUSED_STREAM before answering. */
  refuse: number;
  close(): Promise<void>;
}

async function startH2Upstream(tls?: KeyPair): Promise<H2Upstream> {
  const u: H2Upstream = { port: 0, seen: [], refuse: 0, close: async () => {} };
  const server: Http2Server | Http2SecureServer = tls ? createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: false }) : createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on('error', () => {});
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (u.refuse > 0) {
        u.refuse--;
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      const body = Buffer.concat(chunks);
      u.seen.push({ headers, body });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'charged' }));
      stream.end(frame(`receipt for ${body.subarray(5).toString()}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.port = (server.address() as AddressInfo).port;
  u.close = () => new Promise<void>((r) => server.close(() => r()));
  return u;
}

interface GrpcReply {
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders;
}

function grpcCall(session: ClientHttp2Session, msg: string): Promise<GrpcReply> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/pay.Payments/Charge', 'content-type': 'application/grpc', te: 'trailers' });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    req.end(frame(msg));
  });
}

const h2Options = `
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      explicit_http_config:
        http2_protocol_options: { max_concurrent_streams: 50 }`;

const routes = `- match: { prefix: "/" }\n  route: { cluster: grpc, retry_policy: { retry_on: "refused-stream", num_retries: 2 } }`;

describe('HTTP/2', () => {
  let pki: Pki;
  let cert: KeyPair;
  before(() => {
    pki = makePki();
    cert = pki.issue('edge', { cn: 'edge.pay.test', sans: ['DNS:edge.pay.test'] });
  });
  after(() => pki.remove());

  it('h2c downstream (prior knowledge) to an h2c upstream: a gRPC call with trailers, logged as HTTP/2; HTTP/1.1 on the same port', async () => {
    const up = await startH2Upstream();
    const infos: StreamInfo[] = [];
    const e = await startEngine(bootstrap({ routes, clusters: `${staticCluster('grpc', [{ port: up.port }]).trimEnd()}${h2Options}` }), { accessLog: (i) => infos.push(i) });
    const session = connect(e.url());
    try {
      const reply = await grpcCall(session, 'order-42');
      assert.equal(reply.headers[':status'], 200);
      assert.equal(reply.headers['content-type'], 'application/grpc');
      assert.equal(reply.body.subarray(5).toString(), 'receipt for order-42');
      assert.equal(reply.trailers['grpc-status'], '0');
      assert.equal(reply.trailers['grpc-message'], 'charged');
      // The upstream got the call over HTTP/2 with its te: trailers and the body byte for byte.
      assert.equal(up.seen[0].headers[':path'], '/pay.Payments/Charge');
      assert.equal(up.seen[0].headers.te, 'trailers');
      assert.deepEqual(up.seen[0].body, frame('order-42'));
      const info = infos.at(-1)!;
      assert.equal(compileTextFormat('%PROTOCOL% %RESPONSE_CODE% %GRPC_STATUS(NUMBER)%\n')(info), 'HTTP/2 200 0\n');
      // Several calls share one downstream connection, concurrently.
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => grpcCall(session, `o${i}`)));
      assert.deepEqual(many.map((r) => r.trailers['grpc-status']), Array(20).fill('0'));
      // The same port still speaks HTTP/1.1 (codec AUTO).
      assert.equal((await get(`${e.url()}/`, {}, 'POST', 'x')).status, 200);
      assert.equal(infos.at(-1)!.protocol, 'HTTP/1.1');
    } finally {
      session.close();
      await e.stop();
      await up.close();
    }
  });

  it('h2 over TLS negotiated by ALPN, to an upstream speaking h2 over TLS', async () => {
    const up = await startH2Upstream(cert);
    const infos: StreamInfo[] = [];
    const yaml = bootstrap({
      routes,
      clusters: `${staticCluster('grpc', [{ port: up.port }]).trimEnd()}${h2Options}
  transport_socket:
    name: envoy.transport_sockets.tls
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
      sni: edge.pay.test
      common_tls_context:
        validation_context: { trusted_ca: { filename: "${pki.ca.certPath}" } }`,
    }).replace(
      /(    filter_chains:\n    - )filters:/,
      `$1transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            alpn_protocols: [h2, http/1.1]
            tls_certificates:
            - certificate_chain: { filename: "${cert.certPath}" }
              private_key: { filename: "${cert.keyPath}" }
      filters:`,
    );
    const e = await startEngine(yaml, { accessLog: (i) => infos.push(i) });
    const session = connect(e.url().replace('http:', 'https:'), { ca: pki.ca.cert, servername: 'edge.pay.test' });
    try {
      const alpn = await new Promise<string | false | undefined>((r) => session.once('connect', () => r(session.alpnProtocol)));
      assert.equal(alpn, 'h2');
      const reply = await grpcCall(session, 'order-tls');
      assert.equal(reply.headers[':status'], 200);
      assert.equal(reply.trailers['grpc-status'], '0');
      assert.equal(reply.body.subarray(5).toString(), 'receipt for order-tls');
      assert.equal(infos.at(-1)!.protocol, 'HTTP/2');
      assert.equal(up.seen[0].headers[':scheme'], 'https');
    } finally {
      session.close();
      await e.stop();
      await up.close();
    }
  });

  it('a stream the upstream refuses (REFUSED_STREAM) is retried under retry_on: refused-stream', async () => {
    const up = await startH2Upstream();
    const e = await startEngine(bootstrap({ routes, clusters: `${staticCluster('grpc', [{ port: up.port }]).trimEnd()}${h2Options}` }));
    const session = connect(e.url());
    try {
      up.refuse = 1;
      const reply = await grpcCall(session, 'retry-me');
      assert.equal(reply.headers[':status'], 200);
      assert.equal(reply.trailers['grpc-status'], '0');
      assert.equal(up.refuse, 0, 'the first try was refused');
      assert.equal(up.seen.length, 1);
    } finally {
      session.close();
      await e.stop();
      await up.close();
    }
  });
});
