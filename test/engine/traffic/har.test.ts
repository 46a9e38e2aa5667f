// HAR import from real files (the shared corpus: browsers, proxies, REST clients) and export.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarError, parseHar, toHar } from '../../../engine/traffic/har';
import type { RecordedExchange } from '../../../engine/traffic/exchange';

const CORPUS = new URL('../../../../shared/corpus/har/', import.meta.url).pathname;

const index = readFileSync(join(CORPUS, 'INDEX.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .map((c) => ({ file: c[0], entries: Number(c[5]), versions: c[7], traits: c[9] }));

test('the corpus index lists files', () => assert.ok(index.length >= 9));

for (const row of index) {
  test(`imports ${row.file} with its ${row.entries} entries`, () => {
    const har = parseHar(readFileSync(join(CORPUS, row.file)));
    assert.equal(har.exchanges.length, row.entries);
    for (const x of har.exchanges) {
      assert.match(x.method, /^[A-Z]+$/);
      assert.ok(Number.isFinite(x.startedMs));
      assert.doesNotThrow(() => new URL(x.url));
    }
    // Base64 bodies are decoded to their bytes, not kept as text.
    if (/base64_content=/.test(row.traits)) {
      const raw = JSON.parse(readFileSync(join(CORPUS, row.file), 'utf8')) as { log: { entries: Array<{ response: { content: { encoding?: string; text?: string } } }> } };
      raw.log.entries.forEach((e, i) => {
        const c = e.response.content;
        if (c.encoding === 'base64' && c.text) assert.deepEqual(har.exchanges[i].responseBody!.data, Buffer.from(c.text, 'base64'));
      });
    }
    // And it goes out again as HAR that reads back the same.
    const again = parseHar(JSON.stringify(toHar(har.exchanges)));
    assert.equal(again.exchanges.length, row.entries);
    again.exchanges.forEach((x, i) => {
      const o = har.exchanges[i];
      assert.equal(x.method, o.method);
      assert.equal(x.url, o.url);
      assert.equal(x.status, o.status);
      assert.deepEqual(x.requestHeaders, o.requestHeaders);
      assert.deepEqual(x.requestBody?.data, o.requestBody?.data);
      assert.deepEqual(x.responseBody?.data, o.responseBody?.data);
    });
  });
}

test('Chrome\'s export: HTTP/2 and h3 entries, a status-0 (blocked) entry', () => {
  const har = parseHar(readFileSync(join(CORPUS, 'mitmproxy__chrome.har')));
  assert.ok(har.exchanges.some((x) => x.status === 0));
  const versions = new Set(har.exchanges.map((x) => x.httpVersion));
  assert.ok(versions.has('http/2.0') && versions.has('h3'), [...versions].join());
});

test('a byte-order mark and missing optional fields are tolerated', () => {
  const doc = { log: { version: '1.2', entries: [{ startedDateTime: '2024-01-01T00:00:00.000Z', request: { method: 'GET', url: 'http://example.test/a' } }, { request: { method: 'POST', url: 'http://example.test/b', postData: { text: '{"x":1}' } }, response: { status: 201 } }] } };
  const har = parseHar(`\uFEFF${JSON.stringify(doc)}`);
  assert.equal(har.exchanges.length, 2);
  assert.equal(har.exchanges[0].status, 0);
  assert.deepEqual(har.exchanges[0].requestHeaders, []);
  assert.equal(har.exchanges[1].startedMs, har.exchanges[0].startedMs);
  assert.equal(har.exchanges[1].requestBody!.data.toString(), '{"x":1}');
  assert.match(har.warnings[0], /entry 1: no startedDateTime/);
});

test('microsecond start times keep their order', () => {
  const e = (t: string) => ({ startedDateTime: t, request: { method: 'GET', url: 'http://h/' } });
  const har = parseHar(JSON.stringify({ log: { entries: [e('2024-01-01T00:00:00.000100Z'), e('2024-01-01T00:00:00.000900Z')] } }));
  assert.ok(har.exchanges[1].startedMs - har.exchanges[0].startedMs > 0.5);
});

function brokenAt(doc: unknown): HarError {
  try {
    parseHar(JSON.stringify(doc));
  } catch (e) {
    assert.ok(e instanceof HarError, String(e));
    return e;
  }
  assert.fail('no error');
}

test('a broken file: the error names the entry (index) and the field', () => {
  const ok = { startedDateTime: '2024-01-01T00:00:00Z', request: { method: 'GET', url: 'http://h/' } };
  let e = brokenAt({ log: { entries: [ok, ok, { ...ok, request: { method: 'GET', url: '/relative' } }] } });
  assert.equal(e.entry, 2);
  assert.equal(e.field, 'request.url');
  assert.match(e.message, /entry 2 \(log\.entries\[2\]\): request\.url: not an absolute URL: "\/relative"/);
  e = brokenAt({ log: { entries: [{ ...ok, startedDateTime: 'yesterday' }] } });
  assert.equal(e.field, 'startedDateTime');
  e = brokenAt({ log: { entries: [ok, { ...ok, response: { status: 'fine' } }] } });
  assert.deepEqual([e.entry, e.field], [1, 'response.status']);
  e = brokenAt({ log: { entries: [{ ...ok, request: { ...ok.request, headers: [{ value: 'x' }] } }] } });
  assert.equal(e.field, 'request.headers[0]');
  e = brokenAt({ log: { entries: [{ ...ok, response: { status: 200, content: { text: '!!!', encoding: 'base64' } } }] } });
  assert.equal(e.field, 'response.content.text');
  e = brokenAt({ log: {} });
  assert.equal(e.field, 'log.entries');
  assert.throws(() => parseHar('{"log": {"entries": [}'), /not JSON: .*line 1, column \d+/);
});

test('export: binary bodies base64, text as text, truncation and Meshdeck facts in _ fields', () => {
  const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0x80]);
  const x: RecordedExchange = {
    index: 0,
    startedMs: Date.parse('2024-05-01T10:00:00.000Z') + 0.25,
    method: 'PUT',
    url: 'http://api.test/v1/blob?x=1',
    httpVersion: 'HTTP/1.1',
    requestHeaders: [['Content-Type', 'application/octet-stream']],
    requestBody: { data: bin, size: bin.length, truncated: false, mimeType: 'application/octet-stream' },
    status: 200,
    statusText: 'OK',
    responseHeaders: [['content-type', 'application/json']],
    responseBody: { data: Buffer.from('{"ok":true}'), size: 5000, truncated: true, mimeType: 'application/json' },
    timeMs: 12.5,
    meshdeck: { listener: 'ingress', route: 'r', cluster: 'c', upstreamHost: '127.0.0.1:9000', responseFlags: '-', responseCodeDetails: 'via_upstream', requestId: 'id-1', attempts: 1, upstreamServiceTimeMs: 10 },
  };
  const har = toHar([x]) as { log: { version: string; entries: Array<Record<string, any>> } };
  assert.equal(har.log.version, '1.2');
  const e = har.log.entries[0];
  assert.equal(e.startedDateTime, '2024-05-01T10:00:00.000250Z');
  assert.equal(e.request.postData._encoding, 'base64');
  assert.equal(e.request.postData.text, bin.toString('base64'));
  assert.equal(e.response.content.text, '{"ok":true}');
  assert.equal(e.response.content.encoding, undefined);
  assert.equal(e.response.content._truncated, true);
  assert.equal(e.response.content.size, 5000);
  assert.equal(e._meshdeck.cluster, 'c');
  assert.equal(e.serverIPAddress, '127.0.0.1');
  assert.deepEqual(e.request.queryString, [{ name: 'x', value: '1' }]);
  for (const k of Object.keys(e)) assert.ok(['startedDateTime', 'time', 'request', 'response', 'cache', 'timings', 'serverIPAddress'].includes(k) || k.startsWith('_'), k);
  const back = parseHar(JSON.stringify(har)).exchanges[0];
  assert.deepEqual(back.requestBody!.data, bin);
  assert.equal(back.meshdeck!.upstreamHost, '127.0.0.1:9000');
  assert.equal(back.responseBody!.truncated, true);
});
