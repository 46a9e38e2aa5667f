// The capture journal on disk: batches written and read back, a torn last record skipped,
// rotation that bounds the size and counts what it dropped.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalBytes, JournalWriter, readJournal } from '../../../engine/traffic/journal';
import type { RecordedExchange } from '../../../engine/traffic/exchange';

const root = mkdtempSync(join(tmpdir(), 'meshdeck-journal-'));
after(() => rmSync(root, { recursive: true, force: true }));

function ex(i: number, bodyBytes = 0): RecordedExchange {
  const body = Buffer.alloc(bodyBytes, i & 0xff);
  return {
    index: i,
    startedMs: 1_700_000_000_000 + i,
    method: 'POST',
    url: `http://h/x/${i}`,
    httpVersion: 'HTTP/1.1',
    requestHeaders: [['Content-Type', 'application/octet-stream']],
    requestBody: bodyBytes ? { data: body, size: bodyBytes, truncated: false, mimeType: 'application/octet-stream' } : undefined,
    status: 200,
    statusText: '',
    responseHeaders: [['content-type', 'text/plain']],
    responseBody: { data: Buffer.from([0, 0xff, 0x80, 10]), size: 4, truncated: false, mimeType: 'application/octet-stream' },
    timeMs: 1.5,
  };
}

test('appended exchanges are read back, binary bodies intact', async () => {
  const dir = join(root, 'a');
  const w = new JournalWriter(dir);
  for (let i = 0; i < 500; i++) w.append(ex(i, i % 7 === 0 ? 300 : 0));
  await w.close();
  const r = readJournal(dir);
  assert.equal(r.exchanges.length, 500);
  assert.equal(r.torn + r.corrupt, 0);
  assert.deepEqual(r.exchanges[7].requestBody!.data, Buffer.alloc(300, 7));
  assert.deepEqual(r.exchanges[499].responseBody!.data, Buffer.from([0, 0xff, 0x80, 10]));
  assert.equal(w.stats.written, 500);
});

test('batches reach the disk within the flush interval, without close', async () => {
  const dir = join(root, 'b');
  const w = new JournalWriter(dir, { flushMs: 50 });
  w.append(ex(1));
  const t0 = Date.now();
  while (readJournal(dir).exchanges.length === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(readJournal(dir).exchanges.length, 1);
  assert.equal(w.stats.written, 1);
  await w.close();
});

test('a record cut short by a crash is skipped; the rest reads', async () => {
  const dir = join(root, 'c');
  const w = new JournalWriter(dir);
  for (let i = 0; i < 3; i++) w.append(ex(i));
  await w.close();
  const seg = readdirSync(dir).find((f) => f.endsWith('.ndjson'))!;
  appendFileSync(join(dir, seg), '{"index":3,"startedMs":17000000000');
  const r = readJournal(dir);
  assert.equal(r.exchanges.length, 3);
  assert.equal(r.torn, 1);
  assert.equal(r.corrupt, 0);
});

test('rotation keeps the journal within its size and counts what it dropped', async () => {
  const dir = join(root, 'd');
  const w = new JournalWriter(dir, { maxBytes: 200_000, segments: 4, flushMs: 10 });
  for (let i = 0; i < 400; i++) {
    w.append(ex(i, 2000));
    if (i % 20 === 19) await w.flushed();
  }
  await w.close();
  const segments = readdirSync(dir).filter((f) => f.endsWith('.ndjson'));
  assert.ok(segments.length <= 5, segments.join());
  // At most one segment over its share (the batch that crossed the line).
  assert.ok(journalBytes(dir) <= 200_000 + 60_000, `${journalBytes(dir)} bytes`);
  assert.ok(w.stats.droppedRotated > 0);
  const r = readJournal(dir);
  assert.equal(r.exchanges.length, 400 - w.stats.droppedRotated);
  assert.equal(r.exchanges.at(-1)!.index, 399);
});

test('when the disk falls behind, new exchanges are dropped and counted, never buffered without end', async () => {
  const dir = join(root, 'e');
  const w = new JournalWriter(dir, { maxPendingBytes: 50_000 });
  for (let i = 0; i < 100; i++) w.append(ex(i, 5000));
  assert.ok(w.stats.droppedPending >= 85, `${w.stats.droppedPending}`);
  await w.close();
  assert.equal(readJournal(dir).exchanges.length, 100 - w.stats.droppedPending);
});
