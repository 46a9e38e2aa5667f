// `meshdeck demo` as a user runs it: a child process that prints the engine's ready line, has
// traffic on every cluster of the demo's Envoy config within 10 s of starting (read from the
// engine's own /stats through the admin URL and token of the ready line), is driven through the
// admin API (list, rate, incidents, pause and resume), and stops cleanly on SIGTERM.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { request } from 'undici';
import type { SimListResponse, SimRunResponse, SimStartResponse } from '../../../engine/admin/contract';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Ready {
  event: string;
  admin: string;
  listeners: Array<{ name: string; address: string }>;
  token?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('`meshdeck demo`: ready line, traffic on every cluster within 10 s, control through the admin API, clean SIGTERM', async (t) => {
  const started = Date.now();
  const child = spawn(process.execPath, ['bin/meshdeck.mjs', 'demo', '-l', 'warning', '--summary-every', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESHDECK_ADMIN_TOKEN: '' } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  const stdoutLines: string[] = [];
  const ready = await new Promise<Ready>((resolve, reject) => {
    lines.on('line', (l) => {
      stdoutLines.push(l);
      if (stdoutLines.length === 1) resolve(JSON.parse(l) as Ready);
    });
    child.once('exit', (code) => reject(new Error(`meshdeck demo exited (${code}) before it was ready:\n${stderr}`)));
  });
  t.diagnostic(`ready after ${Date.now() - started} ms: ${JSON.stringify({ ...ready, token: ready.token ? '…' : undefined })}`);
  assert.equal(ready.event, 'ready');
  assert.match(ready.admin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(ready.listeners.map((l) => l.name), ['gateway']);
  assert.ok(ready.token, 'a generated token is told, as by the engine');
  const auth = { authorization: `Bearer ${ready.token}` };
  const api = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await request(`${ready.admin}${path}`, body === undefined ? { headers: auth } : { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.body.text();
    return { status: r.statusCode, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
  };

  // Every cluster the demo's Envoy config defines gets traffic within 10 s of the start.
  const config = parse(readFileSync(new URL('../../../examples/payment-gateway.yaml', import.meta.url), 'utf8')) as { static_resources: { clusters: Array<{ name: string }> } };
  const clusters = config.static_resources.clusters.map((c) => c.name);
  assert.ok(clusters.length >= 6);
  const counts = new Map<string, number>();
  while (Date.now() - started < 10_000) {
    const r = await api<string>('/stats?filter=upstream_rq_total');
    assert.equal(r.status, 200);
    for (const m of r.body.matchAll(/^cluster\.([^.]+)\.upstream_rq_total: (\d+)$/gm)) counts.set(m[1], Number(m[2]));
    if (clusters.every((c) => (counts.get(c) ?? 0) > 0)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.diagnostic(`after ${Date.now() - started} ms: ${clusters.map((c) => `${c}=${counts.get(c) ?? 0}`).join(' ')}`);
  for (const c of clusters) assert.ok((counts.get(c) ?? 0) > 0, `no traffic reached cluster ${c} within 10 s`);

  // The admin API lists the run with its live figures…
  const list = await api<SimListResponse>('/api/v1/sim');
  assert.equal(list.status, 200);
  assert.equal(list.body.runs.length, 1);
  const run = list.body.runs[0];
  assert.equal(run.state, 'running');
  assert.equal(run.name, 'payment-gateway demo');
  assert.equal(run.process.mode, 'child');
  assert.equal(run.instances.length, 16);
  assert.ok(run.load && run.load.sent > 0 && run.load.latencyMs.p50 !== null);
  assert.equal(run.load.byClass['4xx'], 0, 'every request of the mix has a response in the scenario (none answered 404)');
  assert.ok(run.upcomingIncidents.length > 0);
  const simPid = run.process.pid;
  assert.ok(alive(simPid));

  // …changes the rate, triggers incidents (ad hoc and from the timeline), pauses and resumes.
  const rate = await api<SimRunResponse>('/api/v1/sim/rate', { rate: 80 });
  assert.equal(rate.status, 200);
  assert.equal(rate.body.run.load!.targetRate, 80);
  const down = await api<SimRunResponse>('/api/v1/sim/incident', { service: 'card-vault', instance: 0, type: 'down', duration: '20s' });
  assert.equal(down.status, 200, JSON.stringify(down.body));
  assert.deepEqual(down.body.run.activeIncidents.map((i) => [i.service, i.instance, i.type, i.source]), [['card-vault', 0, 'down', 'manual']]);
  assert.equal(down.body.run.instances.find((i) => i.service === 'card-vault' && i.index === 0)!.up, false);
  const named = await api<SimRunResponse>('/api/v1/sim/incident', { incident: 'Stripe slow', duration: '10s' });
  assert.equal(named.status, 200, JSON.stringify(named.body));
  assert.ok(named.body.run.activeIncidents.some((i) => i.name === 'Stripe slow' && i.detail === '×5'));
  const bad = await api<{ error: string }>('/api/v1/sim/incident', { service: 'card-vualt', type: 'down', duration: '5s' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /no service "card-vualt"/);
  const paused = await api<SimRunResponse>('/api/v1/sim/pause', {});
  assert.equal(paused.body.run.state, 'paused');
  const t1 = paused.body.run.scenarioTimeS;
  await new Promise((r) => setTimeout(r, 300));
  const still = await api<SimListResponse>('/api/v1/sim');
  assert.equal(still.body.runs[0].scenarioTimeS, t1, 'scenario time stands still while paused');
  const resumed = await api<SimRunResponse>('/api/v1/sim/resume', {});
  assert.equal(resumed.body.run.state, 'running');
  const schema = await api<{ title: string }>('/api/v1/sim/schema');
  assert.equal(schema.body.title, 'Meshdeck scenario');
  // A broken scenario sent to start answers located diagnostics and starts nothing.
  const broken = await api<SimStartResponse>('/api/v1/sim/start', { yaml: 'clusters: {}\nservices:\n  a: { latency: { model: fixed } }\n' });
  assert.equal(broken.status, 422);
  assert.deepEqual(broken.body.diagnostics.map((d) => [d.path, d.line, d.column, d.code]), [['services.a.latency', 3, 8, 'missing_field']]);
  assert.equal((await api<SimListResponse>('/api/v1/sim')).body.runs.length, 1);

  t.diagnostic(`API checks done after ${Date.now() - started} ms`);
  // SIGTERM: the load and the mocks stop, the engine drains, exit 0; the simulator's process is gone.
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 10_000)))]);
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
  assert.equal(stdoutLines.length, 1, 'stdout holds the ready line only');
  assert.equal(alive(simPid), false, 'the simulator child process is gone');
  t.diagnostic(`done after ${Date.now() - started} ms`);
});
