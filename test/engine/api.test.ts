// The console API (/api/v1) against a real engine with real upstreams and traffic.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'undici';
import { bootstrap, staticCluster, startEngine, type RunningEngine } from '../helpers/engine';
import { startUpstreams, type Upstream } from '../helpers/upstream';
import { agent, get, hammer } from '../helpers/client';
import type {
  AccessLogPage,
  ApplyResponse,
  ClustersResponse,
  ConfigResponse,
  EngineEvent,
  TimeSeriesResponse,
  ValidateResponse,
} from '../../engine/admin/contract';

let e: RunningEngine;
let ups: Upstream[];
let admin: string;
const AUTH = { authorization: 'Bearer test-token' };

// Comments and layout here must survive weight edits.
const CONFIG = (ports: number[]) =>
  bootstrap({
    routes: `
# checkout traffic
- name: checkout
  match: { prefix: "/pay" }
  route:
    weighted_clusters:
      clusters:
      - { name: stable, weight: 90 }   # current build
      - { name: canary, weight: 10 }
- match: { prefix: "/slow" }
  route: { cluster: stable, timeout: 0.05s }
- match: { prefix: "/" }
  route: { cluster: stable }`,
    clusters: `
- name: stable   # two hosts, equal for now
  connect_timeout: 1s
  load_assignment:
    cluster_name: stable
    endpoints:
    - lb_endpoints:
      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${ports[0]} } } }
        load_balancing_weight: 1
      - endpoint:
          address:
            socket_address: { address: 127.0.0.1, port_value: ${ports[1]} }
- name: canary
  connect_timeout: 1s
  load_assignment:
    cluster_name: canary
    endpoints:
    - lb_endpoints:
      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${ports[2]} } } }`,
  });

before(async () => {
  ups = await startUpstreams(['s1', 's2', 'c1']);
  e = await startEngine(CONFIG(ups.map((u) => u.port)));
  admin = e.engine.adminUrl;
});
after(async () => {
  await e.stop();
  await Promise.all(ups.map((u) => u.close()));
});

async function api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await request(`${admin}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: agent,
  });
  return { status: r.statusCode, body: (await r.body.json()) as T };
}

test('GET /config returns the running text as written, its version and warnings; the token is required', async () => {
  const r = await api<ConfigResponse>('/config');
  assert.equal(r.status, 200);
  assert.equal(r.body.version, 1);
  assert.match(r.body.yaml, /# current build/);
  assert.deepEqual(r.body.warnings, []);
  const anon = await request(`${admin}/api/v1/config`, { dispatcher: agent });
  assert.equal(anon.statusCode, 401);
  await anon.body.dump();
});

test('validate answers located diagnostics with suggestions and changes nothing', async () => {
  const yaml = (await api<ConfigResponse>('/config')).body.yaml.replace(/^( *)- name: canary$/m, '$1- name: canary\n$1  lb_policy: LEAST_CONN');
  const r = await api<ValidateResponse>('/config/validate', { yaml });
  assert.equal(r.body.ok, false);
  const d = r.body.diagnostics.find((x) => x.code === 'invalid_enum')!;
  assert.ok(d, JSON.stringify(r.body.diagnostics));
  assert.ok(d.line > 0 && d.column > 0);
  assert.match(d.suggestion ?? '', /LEAST_REQUEST/);
  assert.equal(e.engine.snapshot!.version, 1);
});

test('apply: a broken config answers 422 with diagnostics while traffic continues; a good one becomes the next version', async () => {
  const current = (await api<ConfigResponse>('/config')).body;
  const broken = await api<ApplyResponse>('/config/apply', { yaml: current.yaml.replace('cluster: stable }', 'cluster: nowhere }') });
  assert.equal(broken.status, 422);
  assert.equal(broken.body.ok, false);
  assert.equal(broken.body.version, current.version);
  assert.ok(broken.body.diagnostics.some((d) => d.code === 'unknown_cluster'));
  assert.equal((await get(`${e.url()}/`)).status, 200);
  const stale = await api<{ error: string }>('/config/apply', { yaml: current.yaml, baseVersion: current.version - 1 });
  assert.equal(stale.status, 409);
  const good = await api<ApplyResponse>('/config/apply', { yaml: current.yaml, baseVersion: current.version });
  assert.equal(good.status, 200);
  assert.equal(good.body.version, current.version + 1);
});

test('a POST without application/json, or with a bad body, is refused', async () => {
  const r = await request(`${admin}/api/v1/config/apply`, { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'yaml', dispatcher: agent });
  assert.equal(r.statusCode, 415);
  await r.body.dump();
  const bad = await request(`${admin}/api/v1/config/apply`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{nope', dispatcher: agent });
  assert.equal(bad.statusCode, 400);
  await bad.body.dump();
});

test('weights: an edit changes only the weight in the YAML (comments kept), and the observed share follows within seconds', async () => {
  const before = (await api<ConfigResponse>('/config')).body;
  const s2 = `127.0.0.1:${ups[1].port}`;
  const r = await api<ApplyResponse>('/weights', { edits: [{ kind: 'endpoint', cluster: 'stable', endpoint: s2, weight: 9 }], baseVersion: before.version });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const a = before.yaml.split('\n');
  const b = r.body.yaml.split('\n');
  assert.equal(b.length, a.length + 1, 'one line added (the weight the second endpoint did not have)');
  assert.ok(b.some((l) => /^\s+load_balancing_weight: 9$/.test(l)));
  for (const line of a) assert.ok(b.includes(line), `line kept: ${line}`);

  // Drive traffic for ~2.5 s, then look at the last 2 seconds.
  const until = Date.now() + 2500;
  while (Date.now() < until) await hammer(e.url(), 100, 10);
  await new Promise((res) => setTimeout(res, 1100));
  const view = (await api<ClustersResponse>('/clusters?window=2')).body;
  const stable = view.clusters.find((c) => c.name === 'stable')!;
  const host2 = stable.hosts.find((h) => h.address === s2)!;
  assert.equal(host2.weight, 9);
  assert.equal(host2.expectedShare, 0.9);
  assert.ok(Math.abs(host2.observedShare - 0.9) < 0.05, `observed ${host2.observedShare}`);
  assert.ok(host2.latencyMs.p50 !== null && host2.latencyMs.p99! >= host2.latencyMs.p50!);
  assert.ok(stable.requestsInWindow > 100);
});

test('weights: a weighted_clusters split on a named route', async () => {
  const r = await api<ApplyResponse>('/weights', { edits: [{ kind: 'weighted_cluster', route: 'checkout', cluster: 'canary', weight: 50 }] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.yaml, /- \{ name: canary, weight: 50 \}/);
  assert.match(r.body.yaml, /- \{ name: stable, weight: 90 \}   # current build/);
  const unknown = await api<{ error: string }>('/weights', { edits: [{ kind: 'weighted_cluster', route: 'nope', cluster: 'canary', weight: 5 }] });
  assert.equal(unknown.status, 422);
  assert.match(unknown.body.error, /no route 'nope'/);
});

test('timeseries: per-second points per cluster and per host', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const until = Date.now() + 2200;
  while (Date.now() < until) await hammer(e.url(), 50, 5);
  await new Promise((res) => setTimeout(res, 1100));
  const r = (await api<TimeSeriesResponse>(`/timeseries?since=${since}`)).body;
  assert.equal(r.retentionSeconds, 900);
  const cluster = r.series.find((s) => s.cluster === 'stable' && s.host === undefined)!;
  assert.ok(cluster.points.length >= 2, JSON.stringify(cluster.points));
  assert.ok(cluster.points.some((p) => p.rps > 10 && p.p50 !== null));
  assert.ok(cluster.points.every((p, i) => i === 0 || p.t === cluster.points[i - 1].t + 1), 'one point per second, no gaps');
  assert.ok(r.series.some((s) => s.cluster === 'stable' && s.host === `127.0.0.1:${ups[0].port}`));
  assert.ok(r.series.some((s) => s.cluster === 'canary'), 'idle clusters have series too');
});

test('logs: filters and cursor paging, newest first', async () => {
  await get(`${e.url()}/slow`); // fine: upstream answers fast; make a real timeout below
  ups[0].behaviour.delayMs = 200;
  ups[1].behaviour.delayMs = 200;
  await Promise.all([get(`${e.url()}/slow`), get(`${e.url()}/slow`)]);
  ups[0].behaviour.delayMs = 0;
  ups[1].behaviour.delayMs = 0;
  await new Promise((res) => setTimeout(res, 50));
  const timeouts = (await api<AccessLogPage>('/logs?flags=UT&status=5xx')).body;
  assert.ok(timeouts.entries.length >= 2);
  for (const x of timeouts.entries) {
    assert.equal(x.status, 504);
    assert.equal(x.flags, 'UT');
    assert.equal(x.path, '/slow');
    assert.ok(x.durationMs >= 45);
  }
  const page1 = (await api<AccessLogPage>('/logs?cluster=stable&limit=5')).body;
  assert.equal(page1.entries.length, 5);
  assert.ok(page1.entries[0].id > page1.entries[4].id, 'newest first');
  const page2 = (await api<AccessLogPage>(`/logs?cluster=stable&limit=5&cursor=${page1.nextCursor}`)).body;
  assert.ok(page2.entries[0].id < page1.entries[4].id, 'the next page is older');
  const slowOnes = (await api<AccessLogPage>('/logs?minDurationMs=40&method=get')).body;
  assert.ok(slowOnes.entries.every((x) => x.durationMs >= 40 && x.method === 'GET'));
});

/** Reads SSE events from a raw socket (to also be able to stop reading). */
function subscribe(query: string) {
  const u = new URL(admin);
  const sock = connect(Number(u.port), u.hostname);
  sock.write(`GET /api/v1/events?token=test-token&${query} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
  let buf = '';
  const events: EngineEvent[] = [];
  sock.on('data', (d) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = chunk.split('\n').find((l) => l.startsWith('data: '));
      if (data) events.push(JSON.parse(data.slice(6)) as EngineEvent);
    }
  });
  return { sock, events };
}

async function waitFor(cond: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('events: hello, filtered log batches, one tick per second, config changes', async () => {
  const s = subscribe('cluster=canary');
  try {
    await waitFor(() => s.events.some((x) => x.type === 'hello'));
    await hammer(e.url(), 200, 10, () => ({ path: '/pay' }));
    await waitFor(() => s.events.some((x) => x.type === 'log'));
    const logs = s.events.filter((x): x is Extract<EngineEvent, { type: 'log' }> => x.type === 'log').flatMap((x) => x.entries);
    assert.ok(logs.length > 0 && logs.every((x) => x.cluster === 'canary'), 'only the filtered cluster');
    await waitFor(() => s.events.some((x) => x.type === 'tick'), 2500);
    const tick = s.events.find((x): x is Extract<EngineEvent, { type: 'tick' }> => x.type === 'tick')!;
    assert.ok(tick.clusters.some((c) => c.name === 'stable' && c.hosts.length === 2));
    const version = e.engine.snapshot!.version;
    await e.engine.apply(e.engine.snapshot!.text, 'test.yaml');
    await waitFor(() => s.events.some((x) => x.type === 'config' && x.version === version + 1));
  } finally {
    s.sock.destroy();
  }
});

test('events: a subscriber that never reads does not grow the engine; what it missed is counted and reported', async () => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Fill the log ring first (it is bounded, but filling it is not a leak).
  await hammer(e.url(), 21_000, 32);
  const s = subscribe('');
  await waitFor(() => s.events.some((x) => x.type === 'hello'));
  s.sock.pause(); // stop reading: the engine's writes back up
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  await hammer(e.url(), 30_000, 32);
  await new Promise((r) => setTimeout(r, 300));
  gc();
  const growth = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  assert.ok(growth < 25, `heap grew ${growth.toFixed(1)} MiB while a subscriber did not read`);
  s.sock.resume();
  await get(`${e.url()}/pay`); // a fresh entry so a batch goes out after the backlog clears
  await waitFor(() => s.events.some((x) => x.type === 'dropped'), 5000);
  const dropped = s.events.find((x): x is Extract<EngineEvent, { type: 'dropped' }> => x.type === 'dropped')!;
  const delivered = s.events.filter((x): x is Extract<EngineEvent, { type: 'log' }> => x.type === 'log').reduce((n, x) => n + x.entries.length, 0);
  assert.ok(dropped.count > 1000, `dropped ${dropped.count}`);
  assert.ok(delivered + dropped.total <= 30_001 + 10, 'never more than was logged');
  s.sock.destroy();
});
