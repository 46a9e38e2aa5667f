// /api/v1/traffic and `meshdeck replay` against a real engine: capture switched on per listener,
// HAR import/export, replay with the engine's own facts per request, and two configs compared.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { main } from '../../../engine/cli';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { bootstrap, staticCluster, startEngine, type RunningEngine } from '../../helpers/engine';
import { startUpstreams, type Upstream } from '../../helpers/upstream';
import { trafficFor } from '../../../engine/traffic/service';
import type { ImportError, ReplayComparison, ReplayRunDetail, ReplayRunResponse, TrafficOverview, TrafficSetResponse } from '../../../engine/admin/contract';
import { assertValidHar } from './har-check';

const BIN = new URL('../../../bin/meshdeck.mjs', import.meta.url).pathname;
const CORPUS = new URL('../../../../shared/corpus/har/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'meshdeck-traffic-api-'));
let e: RunningEngine;
let ups: Upstream[];
let admin: string;

const config = (w: [number, number]) =>
  bootstrap({
    routes: `- name: pay\n  match: { prefix: "/pay" }\n  route: { cluster: pay }\n- match: { prefix: "/" }\n  route: { cluster: pay }`,
    clusters: staticCluster('pay', [{ port: ups[0].port, weight: w[0] }, { port: ups[1].port, weight: w[1] }], { lb_policy: 'ROUND_ROBIN' }),
  });

async function api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await request(`${admin}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: 'Bearer test-token', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.body.text();
  return { status: r.statusCode, body: JSON.parse(text) as T };
}

async function finished(id: string): Promise<ReplayRunDetail> {
  for (;;) {
    const d = await api<ReplayRunDetail>(`/traffic/run?id=${id}&limit=5000`);
    if (d.body.run.state !== 'running') return d.body;
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  ups = await startUpstreams(['a', 'b']);
  e = await startEngine(config([1, 1]));
  admin = e.engine.adminUrl;
  trafficFor(e.engine, { root: join(dir, 'captures') });
});
after(async () => {
  await trafficFor(e.engine).close();
  await e.stop();
  for (const u of ups) await u.close();
  rmSync(dir, { recursive: true, force: true });
});

let setId = '';
let runA = '';

test('capture on one listener via the API, exported as valid HAR', async () => {
  let o = await api<TrafficOverview>('/traffic/capture', { listener: 'ingress', enabled: true });
  assert.equal(o.status, 200);
  assert.deepEqual(o.body.listeners.map((l) => [l.name, l.capturing]), [['ingress', true]]);
  for (let i = 0; i < 40; i++) {
    const r = await request(`${e.url()}/pay/${i}`, { method: 'POST', body: `{"amount":${i}}`, headers: { 'content-type': 'application/json' } });
    await r.body.dump();
  }
  o = await api<TrafficOverview>('/traffic/capture', { listener: 'ingress', enabled: false });
  const session = o.body.sessions[0];
  assert.equal(session.active, false);
  assert.ok(session.bytes > 0);
  const har = await request(`${admin}/api/v1/traffic/export?session=${session.id}`, { headers: { authorization: 'Bearer test-token' } });
  assert.match(String(har.headers['content-disposition']), /attachment; filename=".*\.har"/);
  const doc = (await har.body.json()) as any;
  assertValidHar(doc);
  assert.equal(doc.log.entries.length, 40);
  assert.ok(doc.log.entries.every((x: any) => x._meshdeck.cluster === 'pay'));
  const set = await api<TrafficSetResponse>('/traffic/from-capture', { session: session.id });
  assert.equal(set.body.set.entries, 40);
  setId = set.body.set.id;
  assert.equal((await api('/traffic/capture', { listener: 'nope', enabled: true })).status, 400);
});

test('HAR import via the API: a corpus file, and a broken one with its entry and field', async () => {
  const ok = await api<TrafficSetResponse>('/traffic/import', { har: readFileSync(join(CORPUS, 'mitmproxy__firefox.har'), 'utf8'), name: 'firefox.har' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.set.entries, 14);
  const doc = { log: { entries: [{ startedDateTime: '2024-01-01T00:00:00Z', request: { method: 'GET', url: 'http://h/' } }, { startedDateTime: '2024-01-01T00:00:00Z', request: { method: 'G T', url: 'http://h/' } }] } };
  const bad = await api<ImportError>('/traffic/import', { har: JSON.stringify(doc) });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.entry, 1);
  assert.equal(bad.body.field, 'request.method');
  assert.match(bad.body.error, /entry 1/);
});

test('replay to the engine\'s own listener: each request next to its original, with the engine\'s own upstream host', async () => {
  const r = await api<ReplayRunResponse>('/traffic/replay', { set: setId, target: 'ingress', mode: 'asap', label: 'A (1:1)' });
  assert.equal(r.status, 200);
  runA = r.body.run.id;
  const d = await finished(runA);
  assert.equal(d.run.state, 'done');
  assert.equal(d.run.summary.sent, 40);
  assert.equal(d.run.summary.ok, 40);
  assert.equal(d.run.configVersion, 1);
  assert.equal(d.total, 40);
  const hosts = new Set(d.results.map((x) => x.upstreamHost));
  assert.deepEqual([...hosts].sort(), ups.map((u) => `127.0.0.1:${u.port}`).sort());
  assert.ok(d.results.every((x) => x.original.status === 200 && x.original.upstreamHost !== '' && x.cluster === 'pay'));
  assert.equal(d.routes[0].route, 'POST /pay/:id');
  assert.equal(d.routes[0].replay.count, 40);
  // Saved as HAR.
  const har = await request(`${admin}/api/v1/traffic/export?run=${runA}`, { headers: { authorization: 'Bearer test-token' } });
  const doc = (await har.body.json()) as any;
  assertValidHar(doc);
  assert.equal(doc.log.entries.length, 40);
});

test('compare two configs (weights 1:1, then 9:1): the host shift on the route is flagged', async () => {
  const applied = await e.engine.apply(config([9, 1]), 'test.yaml');
  assert.ok(applied.ok);
  const r = await api<ReplayRunResponse>('/traffic/replay', { set: setId, target: 'ingress', mode: 'asap', label: 'B (9:1)' });
  const d = await finished(r.body.run.id);
  assert.equal(d.run.configVersion, 2);
  const c = await api<ReplayComparison>(`/traffic/compare?a=${runA}&b=${r.body.run.id}`);
  assert.equal(c.status, 200);
  const route = c.body.routes.find((x) => x.route === 'POST /pay/:id')!;
  assert.equal(route.a.count, 40);
  assert.equal(route.b.count, 40);
  assert.equal(route.a.hosts[`127.0.0.1:${ups[0].port}`], 20);
  assert.equal(route.b.hosts[`127.0.0.1:${ups[0].port}`], 36);
  assert.equal(route.hostShiftPct, 40);
  assert.equal(route.highlight, true);
  assert.equal(c.body.statusChangesTotal, 0);
  assert.equal((await api(`/traffic/compare?a=${runA}&b=nope`)).status, 404);
});

test('meshdeck replay FILE.har --target URL --json prints one summary line', async () => {
  const har = join(dir, 'set.har');
  const r = await request(`${admin}/api/v1/traffic/export?set=${setId}`, { headers: { authorization: 'Bearer test-token' } });
  writeFileSync(har, Buffer.from(await r.body.arrayBuffer()));
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [BIN, 'replay', har, '--target', e.url(), '--rate', '400', '--json', '--header', 'idempotency-key: {{uuid}}', '--out', join(dir, 'out.har')]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]);
  assert.equal(s.event, 'replay_summary');
  assert.equal(s.sent, 40);
  assert.equal(s.ok, 40);
  assert.equal(s.failed, 0);
  assert.ok(s.achievedRate > 0);
  assert.ok(typeof s.sendDelayMs.p50 === 'number' && typeof s.sendDelayMs.p99 === 'number');
  assertValidHar(JSON.parse(readFileSync(join(dir, 'out.har'), 'utf8')));
  // Bad flags: the same entry point in-process (no second process start).
  let stderr = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  const code = await main(['replay', har, '--target', e.url(), '--speed', '500'], sink(() => {}), sink((s) => (stderr += s)));
  const bad = { code, stderr };
  assert.match(bad.stderr, /speed must be between 0.1 and 100/);
});
