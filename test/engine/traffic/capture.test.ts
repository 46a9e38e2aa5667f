// Capture → HAR → replay through the real engine on real sockets: what the replay target receives
// is what the client originally sent (method, path, headers, body byte for byte, binary included).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { bootstrap, staticCluster, startEngine, type RunningEngine } from '../../helpers/engine';
import { startUpstream, type Upstream } from '../../helpers/upstream';
import { trafficFor } from '../../../engine/traffic/service';
import { parseHar, toHar } from '../../../engine/traffic/har';
import { Replayer, replayOptions } from '../../../engine/traffic/replay';
import { streamStartChannel } from '../../../engine/traffic/tap';

const dir = mkdtempSync(join(tmpdir(), 'meshdeck-capture-test-'));
let upstream: Upstream;
let replayTarget: Upstream;
let eng: RunningEngine;
const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37 + (i >> 3)) & 0xff));
const PNGISH = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0xd8, 0x00]);

before(async () => {
  upstream = await startUpstream('app', {}, { record: true });
  upstream.handler = (req, res, body) => {
    if (req.url?.startsWith('/img')) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNGISH.length });
      res.end(PNGISH);
      return true;
    }
    if (req.url?.startsWith('/big')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(40_000, 7));
      res.end(Buffer.alloc(40_000, 8));
      return true;
    }
    res.writeHead(201, { 'content-type': 'text/plain' });
    res.end(`got ${body.length}`);
    return true;
  };
  replayTarget = await startUpstream('replay-target', {}, { record: true });
  eng = await startEngine(bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: app }`, clusters: staticCluster('app', [{ port: upstream.port }]) }));
  trafficFor(eng.engine, { root: dir, bodyCapBytes: 64 * 1024 });
});

after(async () => {
  await trafficFor(eng.engine).close();
  await eng.stop();
  await upstream.close();
  await replayTarget.close();
  rmSync(dir, { recursive: true, force: true });
});

const SENT = [
  { method: 'GET', path: '/v1/items?q=a%20b&x=1', headers: ['X-Custom-Case', 'Value One', 'accept', '*/*'], body: undefined },
  { method: 'POST', path: '/v1/upload', headers: ['Content-Type', 'application/octet-stream', 'Idempotency-Key', 'k-1'], body: BINARY },
  { method: 'PUT', path: '/v1/items/42', headers: ['content-type', 'application/json; charset=utf-8'], body: Buffer.from('{"name":"Zoë","price":12.5}') },
  { method: 'GET', path: '/img/logo.png', headers: [] as string[], body: undefined },
  { method: 'DELETE', path: '/v1/items/42', headers: ['authorization', 'Bearer old-token'], body: undefined },
];

test('capture is off until switched on: no subscriber on the connection manager', () => {
  assert.equal(streamStartChannel.hasSubscribers, false);
});

test('capture → HAR → replay reproduces method, path, headers and body byte for byte', async () => {
  const t = trafficFor(eng.engine);
  const session = t.capture.enable('ingress');
  assert.equal(streamStartChannel.hasSubscribers, true);
  for (const s of SENT) {
    const r = await request(`${eng.url()}${s.path}`, { method: s.method as 'GET', headers: s.headers, body: s.body });
    await r.body.arrayBuffer();
  }
  const read = await t.capture.read(session.id);
  assert.equal(read.exchanges.length, SENT.length);
  assert.equal(read.torn, 0);
  const img = read.exchanges.find((x) => x.url.endsWith('/img/logo.png'))!;
  assert.deepEqual(img.responseBody!.data, PNGISH);
  assert.equal(img.meshdeck!.cluster, 'app');
  assert.equal(img.meshdeck!.upstreamHost, `127.0.0.1:${upstream.port}`);
  assert.equal(img.status, 200);

  // Out through HAR (as a user would save it) and back in.
  const harText = JSON.stringify(toHar(read.exchanges));
  const har = JSON.parse(harText);
  const upload = har.log.entries.find((e: any) => e.request.url.endsWith('/v1/upload'));
  assert.equal(upload.request.postData._encoding, 'base64');
  assert.equal(har.log.entries.find((e: any) => e.request.url.endsWith('/img/logo.png')).response.content.encoding, 'base64');
  const imported = parseHar(harText);

  const replayer = new Replayer(imported.exchanges, replayOptions({ target: `http://127.0.0.1:${replayTarget.port}`, mode: 'asap', concurrency: 1 }));
  await replayer.start();
  assert.equal(replayer.summary().sent, SENT.length);
  assert.equal(replayTarget.seen.length, SENT.length);
  const ignore = new Set(['host', 'connection', 'content-length']);
  SENT.forEach((s, i) => {
    const seen = replayTarget.seen[i];
    assert.equal(seen.method, s.method);
    assert.equal(seen.url, s.path);
    assert.deepEqual(seen.body, s.body ?? Buffer.alloc(0), `${s.method} ${s.path} body`);
    // What the client sent, in its order and case, is what the replay sent.
    const recorded = read.exchanges[i].requestHeaders.filter(([k]) => !ignore.has(k.toLowerCase()));
    const replayed: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(seen.headers)) if (!ignore.has(k)) replayed.push([k, String(v)]);
    assert.deepEqual(replayed, recorded.map(([k, v]) => [k.toLowerCase(), v]));
    for (let k = 0; k < s.headers.length; k += 2) assert.ok(recorded.some(([n, v]) => n === s.headers[k] && v === s.headers[k + 1]), `header ${s.headers[k]} kept as sent`);
    assert.equal(seen.headers.host, eng.url().replace('http://', ''));
  });
  await t.capture.disable('ingress');
  assert.equal(streamStartChannel.hasSubscribers, false);
});

test('bodies beyond the cap are cut there and marked truncated, with their full size', async () => {
  const t = trafficFor(eng.engine);
  const session = t.capture.enable('ingress', 10_000);
  const big = Buffer.alloc(50_000, 3);
  const r = await request(`${eng.url()}/big`, { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
  const got = Buffer.from(await r.body.arrayBuffer());
  assert.equal(got.length, 80_000);
  const x = (await t.capture.read(session.id)).exchanges[0];
  assert.equal(x.requestBody!.data.length, 10_000);
  assert.equal(x.requestBody!.size, 50_000);
  assert.equal(x.requestBody!.truncated, true);
  assert.equal(x.responseBody!.size, 80_000);
  assert.equal(x.responseBody!.truncated, true);
  assert.deepEqual(x.responseBody!.data, Buffer.alloc(10_000, 7));
  const entry = (toHar([x]) as any).log.entries[0];
  assert.equal(entry.request.postData._truncated, true);
  assert.equal(entry.request.postData._size, 50_000);
  assert.equal(entry.response.content._truncated, true);
  await t.capture.disable('ingress');
});

test('replay rewrites Host, drops and overrides headers (fresh idempotency keys, a new token)', async () => {
  replayTarget.seen.length = 0;
  const read = await trafficFor(eng.engine).capture.read(trafficFor(eng.engine).capture.sessions().find((x) => x.listeners.includes('ingress') && x.bodyCapBytes === 64 * 1024)!.id);
  const replayer = new Replayer(
    read.exchanges,
    replayOptions({
      target: `http://127.0.0.1:${replayTarget.port}`,
      mode: 'asap',
      concurrency: 1,
      loop: 2,
      host: 'staging.example',
      dropHeaders: ['X-Custom-Case'],
      setHeaders: { authorization: 'Bearer new-token', 'Idempotency-Key': '{{uuid}}' },
      filter: { methods: ['post', 'get'] },
    }),
  );
  await replayer.start();
  const seen = replayTarget.seen;
  assert.equal(seen.length, 2 * 3); // GET, POST, GET img — twice
  assert.ok(seen.every((s) => s.headers.host === 'staging.example'));
  assert.ok(seen.every((s) => s.headers['x-custom-case'] === undefined));
  assert.ok(seen.every((s) => s.headers.authorization === 'Bearer new-token'));
  const keys = seen.map((s) => s.headers['idempotency-key']);
  assert.equal(new Set(keys).size, keys.length, 'a fresh key per request');
  assert.ok(keys.every((k) => typeof k === 'string' && /^[0-9a-f-]{36}$/.test(k)));
});
