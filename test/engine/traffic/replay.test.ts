// Replay's schedule and open-loop sending, against real sockets. No speed targets here (those
// are measured by `npm run bench -- --replay`): only what must hold however busy the machine is.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedExchange } from '../../../engine/traffic/exchange';
import { planSchedule, rawPath, replayOptions, Replayer, selectEntries, statusPredicate } from '../../../engine/traffic/replay';
import { routeSummaries } from '../../../engine/traffic/compare';

function ex(i: number, startedMs: number, over: Partial<RecordedExchange> = {}): RecordedExchange {
  return { index: i, startedMs, method: 'GET', url: `http://shop.test/item/${i}`, httpVersion: 'HTTP/1.1', requestHeaders: [], status: 200, statusText: '', responseHeaders: [], timeMs: 5, ...over };
}

/** A target that holds every request `holdMs`, answering with `status(path)`; counts concurrency. */
let server: Server;
let target = '';
let holdMs = 0;
let inside = 0;
let maxInside = 0;
let seen: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    inside++;
    maxInside = Math.max(maxInside, inside);
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    setTimeout(() => {
      inside--;
      const status = req.url?.includes('/missing') ? 404 : 200;
      res.writeHead(status, { 'content-type': 'text/plain', 'x-envoy-upstream-service-time': '3' });
      res.end('ok');
    }, holdMs);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

function reset(hold: number): void {
  holdMs = hold;
  inside = maxInside = 0;
  seen = [];
}

test('entries out of order are sorted by start time, not waited for', () => {
  const entries = [ex(0, 1000), ex(1, 1300), ex(2, 1100), ex(3, 900), ex(4, 1100)];
  const plan = planSchedule(selectEntries(entries, {}), { mode: 'recorded', speed: 1, rate: 0, loop: 1 });
  assert.deepEqual(plan.map((p) => p.x.index), [3, 0, 2, 4, 1]);
  assert.deepEqual(plan.map((p) => p.dueMs), [0, 100, 200, 200, 400]);
});

test('speed scales the recorded gaps; rate spaces evenly; loops follow one another', () => {
  const entries = [ex(0, 0), ex(1, 100), ex(2, 300)];
  assert.deepEqual(planSchedule(entries, { mode: 'recorded', speed: 10, rate: 0, loop: 1 }).map((p) => p.dueMs), [0, 10, 30]);
  assert.deepEqual(planSchedule(entries, { mode: 'recorded', speed: 0.5, rate: 0, loop: 1 }).map((p) => p.dueMs), [0, 200, 600]);
  assert.deepEqual(planSchedule(entries, { mode: 'rate', speed: 1, rate: 50, loop: 2 }).map((p) => p.dueMs), [0, 20, 40, 60, 80, 100]);
  // The second pass starts one mean gap (150 ms) after the first pass's last entry.
  assert.deepEqual(planSchedule(entries, { mode: 'recorded', speed: 1, rate: 0, loop: 2 }).map((p) => p.dueMs), [0, 100, 300, 450, 550, 750]);
  assert.deepEqual(planSchedule(entries, { mode: 'asap', speed: 1, rate: 0, loop: 1 }).map((p) => p.dueMs), [0, 0, 0]);
});

test('filters: method, URL pattern, recorded status', () => {
  const entries = [ex(0, 0, { method: 'POST', status: 201 }), ex(1, 1, { url: 'http://shop.test/missing' , status: 404 }), ex(2, 2, { status: 0 }), ex(3, 3, { status: 503 })];
  assert.deepEqual(selectEntries(entries, { methods: ['post'] }).map((x) => x.index), [0]);
  assert.deepEqual(selectEntries(entries, { url: 'missing$' }).map((x) => x.index), [1]);
  assert.deepEqual(selectEntries(entries, { status: '2xx,0' }).map((x) => x.index), [0, 2]);
  assert.deepEqual(selectEntries(entries, { status: '5xx, 404' }).map((x) => x.index), [1, 3]);
  assert.throws(() => statusPredicate('abc'), /'abc' is not a status/);
  assert.throws(() => replayOptions({ target: target, speed: 200 }), /speed must be between 0.1 and 100/);
  assert.throws(() => replayOptions({ target: 'nowhere' }), /target must be a URL/);
  assert.throws(() => replayOptions({ target, filter: { url: '(' } }), /not a regular expression/);
});

test('the path goes out exactly as recorded (no URL normalisation)', () => {
  assert.equal(rawPath('http://h:8080/a/../b/%7euser?q=a b&x'), '/a/../b/%7euser?q=a b&x');
  assert.equal(rawPath('https://h'), '/');
  assert.equal(rawPath('http://h/p#frag'), '/p');
});

test('open-loop: a slow target does not stretch the schedule', async () => {
  reset(1200);
  // 20 requests recorded 10 ms apart; the target holds each one 1.2 s.
  const entries = Array.from({ length: 20 }, (_, i) => ex(i, 5000 + i * 10));
  const r = new Replayer(entries, replayOptions({ target, mode: 'recorded', speed: 1 }));
  await r.start();
  const s = r.summary();
  assert.equal(s.sent, 20);
  assert.equal(s.ok, 20);
  // Every request was sent while the earlier ones were still held: all 20 in flight at once.
  assert.equal(maxInside, 20);
  assert.ok(r.results.every((x) => x.latencyMs >= 1150), 'each answer took the hold time');
  assert.deepEqual([...r.results].sort((a, b) => a.seq - b.seq).map((x) => x.scheduledMs), entries.map((_, i) => i * 10));
  assert.equal(s.sendDelayMs.count, 20);
});

test('the concurrency cap holds requests back, and their lateness is reported', async () => {
  reset(150);
  const entries = Array.from({ length: 6 }, (_, i) => ex(i, i));
  const r = new Replayer(entries, replayOptions({ target, mode: 'recorded', concurrency: 2 }));
  await r.start();
  assert.equal(maxInside, 2);
  const s = r.summary();
  assert.equal(s.sent, 6);
  // The last pair waited for two rounds of 150 ms.
  assert.ok(s.sendDelayMs.max! >= 250, `max send delay ${s.sendDelayMs.max}`);
});

test('results: status next to the original, mismatches, per-route figures, upstream time from the header', async () => {
  reset(0);
  const entries = [
    ex(0, 0, { status: 200, timeMs: 40 }),
    ex(1, 1, { url: 'http://shop.test/missing', status: 200 }),
    ex(2, 2, { url: 'http://shop.test/item/7', status: 0 }),
    ex(3, 3, { url: 'http://shop.test/item/8', method: 'POST', requestBody: { data: Buffer.from([0, 255, 1]), size: 3, truncated: false, mimeType: 'application/octet-stream' } }),
  ];
  const r = new Replayer(entries, replayOptions({ target, mode: 'asap' }));
  await r.start();
  const s = r.summary();
  assert.deepEqual(s.byStatus, { '200': 3, '404': 1 });
  // 404 for a recorded 200 is a mismatch; a recorded 0 (no answer) has nothing to compare with.
  assert.equal(s.statusMismatches, 1);
  const first = r.results.find((x) => x.index === 0)!;
  assert.equal(first.original.status, 200);
  assert.equal(first.original.timeMs, 40);
  assert.equal(first.upstreamServiceTimeMs, 3);
  assert.equal(first.route, 'GET /item/:id');
  const routes = routeSummaries(r.results);
  const items = routes.find((x) => x.route === 'GET /item/:id')!;
  assert.equal(items.replay.count, 2);
  // The recorded status-0 entry has no latency to count.
  assert.equal(items.original.latencyMs.count, 1);
  assert.equal(items.original.latencyMs.p50, 40);
  assert.ok(seen.includes('POST /item/8'));
});

test('cancel stops sending and ends the run; what was in flight counts as failed', async () => {
  reset(300);
  const entries = Array.from({ length: 50 }, (_, i) => ex(i, i * 20));
  const r = new Replayer(entries, replayOptions({ target, mode: 'recorded' }));
  const done = r.start();
  await new Promise((res) => setTimeout(res, 150));
  await r.cancel();
  await done;
  const s = r.summary();
  assert.ok(s.sent > 0 && s.sent < 50, `sent ${s.sent}`);
  assert.equal(r.results.length, s.sent);
  assert.ok(s.failed > 0);
});

test('an unreachable target: every request failed with status 0 and its error', async () => {
  const closed = createServer();
  await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((res) => closed.close(() => res()));
  const r = new Replayer([ex(0, 0), ex(1, 1)], replayOptions({ target: `http://127.0.0.1:${port}`, mode: 'asap' }));
  await r.start();
  const s = r.summary();
  assert.equal(s.failed, 2);
  assert.equal(s.ok, 0);
  assert.ok(r.results.every((x) => x.status === 0 && x.error === 'ECONNREFUSED'), JSON.stringify(r.results.map((x) => x.error)));
});
