// Malformed HTTP from clients gets a 4xx and a closed connection, and never takes the engine down.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { bootstrap, staticCluster, startEngine, type RunningEngine } from '../helpers/engine';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { get } from '../helpers/client';

let e: RunningEngine;
let up: Upstream;
before(async () => {
  up = await startUpstream('ok');
  e = await startEngine(bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: svc }`, clusters: staticCluster('svc', [{ port: up.port }]) }));
});
after(async () => {
  await e.stop();
  await up.close();
});

/** Writes raw bytes, returns everything the engine answered until it closed the connection. */
function raw(payload: string | Buffer): Promise<string> {
  const u = new URL(e.url());
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.setTimeout(3000, () => {
      s.destroy();
      reject(new Error(`connection not closed; got ${JSON.stringify(got)}`));
    });
    s.write(payload);
  });
}

const cases: Array<[string, string | Buffer, RegExp]> = [
  ['a bad request line', 'GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 /],
  ['a request line with no version', 'GET /\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
  ['both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /^HTTP\/1\.1 400 /],
  ['a header with no colon', 'GET / HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n', /^HTTP\/1\.1 400 /],
  ['an invalid chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /^HTTP\/1\.1 400 /],
  // Envoy answers 431 for headers over max_request_headers_kb (60 KiB by default).
  ['oversized headers', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
  // Envoy refuses HTTP/1.0 with 426 unless http_protocol_options.accept_http_10 is set.
  ['HTTP/1.0 without accept_http_10', 'GET / HTTP/1.0\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 426 /],
  ['binary junk', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), /^HTTP\/1\.1 400 /],
];

for (const [name, payload, expected] of cases) {
  test(`${name}: 4xx and a closed connection; others keep being served`, async () => {
    const answer = await raw(payload);
    assert.match(answer, expected);
    assert.match(answer.toLowerCase(), /connection: close/);
    const ok = await get(e.url());
    assert.equal(ok.status, 200);
  });
}

test('a client that disconnects mid-request does not disturb the engine', async () => {
  const u = new URL(e.url());
  await new Promise<void>((resolve) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part');
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 50);
    });
  });
  assert.equal((await get(e.url())).status, 200);
  assert.ok(e.engine.stats.get('http.ingress_http.downstream_cx_protocol_error')! >= cases.length);
});

test('HTTP/1.0 is served when http_protocol_options.accept_http_10 is set', async () => {
  const e10 = await startEngine(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: svc }`,
      clusters: staticCluster('svc', [{ port: up.port }]),
      hcmExtra: 'http_protocol_options: { accept_http_10: true }',
    }),
  );
  try {
    const u = new URL(e10.url());
    const answer = await new Promise<string>((resolve) => {
      const s = connect(Number(u.port), u.hostname);
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.[01] 200 /);
    assert.match(answer, /\r\n\r\nok\n$/);
  } finally {
    await e10.stop();
  }
});
