// The listener's first-bytes inspection on real ClientHellos (captured from node's TLS client),
// split at every byte boundary: SNI read once the record is complete, the HTTP/2 preface told
// from HTTP/1.1, and Envoy's server_names precedence.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { classify, clientHelloServerName, matchServerName } from '../../../engine/listener/sniff';

/** The first bytes a TLS client sends (its ClientHello record), with or without SNI. */
async function clientHello(servername?: string): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (b: Buffer) => (resolve(b), s.destroy()))));
  const c = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername, rejectUnauthorized: false });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

test('the SNI of a real ClientHello, only once its record is complete', async () => {
  const hello = await clientHello('Vault.Pay.Test');
  assert.equal(clientHelloServerName(hello), 'vault.pay.test');
  for (const cut of [1, 4, 5, 40, hello.length - 1]) assert.equal(clientHelloServerName(hello.subarray(0, cut)), undefined, `cut at ${cut}`);
  assert.deepEqual(classify(hello, true, true), { kind: 'tls', serverName: 'vault.pay.test' });
  assert.equal(classify(hello.subarray(0, 30), true, true), undefined, 'wait for the rest');
  // With an IP address node sends no SNI.
  assert.equal(clientHelloServerName(await clientHello()), '');
  // A listener without TLS chains does not look for TLS.
  assert.deepEqual(classify(hello, false, true), { kind: 'other' });
});

test('the HTTP/2 preface at any split; HTTP/1.1 (even a PRI-like method) is other', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04', 'latin1');
  for (let cut = 1; cut < 24; cut++) assert.equal(classify(preface.subarray(0, cut), true, true), undefined, `cut at ${cut}`);
  assert.deepEqual(classify(preface, true, true), { kind: 'h2c' });
  assert.deepEqual(classify(Buffer.from('GET / HTTP/1.1\r\n'), true, true), { kind: 'other' });
  assert.deepEqual(classify(Buffer.from('PRINT / HTTP/1.1\r\n'), true, true), { kind: 'other' });
  assert.deepEqual(classify(preface, true, false), { kind: 'other' }, 'an HTTP1-only listener does not look for h2');
});

test('server_names: exact first, then the longest wildcard, then a chain without names', () => {
  const chains = [
    { id: 'any', serverNames: [] as string[] },
    { id: 'wild', serverNames: ['*.pay.test'] },
    { id: 'deeper', serverNames: ['*.eu.pay.test'] },
    { id: 'exact', serverNames: ['api.eu.pay.test'] },
  ];
  assert.equal(matchServerName(chains, 'api.eu.pay.test')?.id, 'exact');
  assert.equal(matchServerName(chains, 'web.eu.pay.test')?.id, 'deeper');
  assert.equal(matchServerName(chains, 'web.pay.test')?.id, 'wild');
  assert.equal(matchServerName(chains, 'other.test')?.id, 'any');
  assert.equal(matchServerName(chains, '')?.id, 'any');
  assert.equal(matchServerName(chains.slice(1), 'other.test'), undefined);
});
