// Hot reload under load: configs swap atomically, in-flight requests finish on the snapshot they
// started on, and a rejected config leaves the running one serving.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, staticCluster, startEngine, withClusterField } from '../helpers/engine';
import { startUpstreams } from '../helpers/upstream';
import { get } from '../helpers/client';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('20 hot reloads during 10 s of steady load at 1,000 req/s lose no request', async () => {
  const us = await startUpstreams(['r1', 'r2', 'r3']);
  cleanups.push(async () => void (await Promise.all(us.map((u) => u.close()))));
  const cfg = (i: number) =>
    bootstrap({
      routes: `- match: { prefix: "/" }\n  route: { cluster: pay, timeout: 5s }`,
      // Each reload changes the weights, so the cluster is rebuilt every time.
      clusters: staticCluster('pay', us.map((u, k) => ({ port: u.port, weight: 1 + ((i + k) % 3) }))),
    });
  const e = await startEngine(cfg(0));
  cleanups.push(() => e.stop());
  const url = e.url();

  const rate = 1000;
  const seconds = 10;
  const results: number[] = [];
  const errors: string[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  let reloads = 0;
  const reloadResults: boolean[] = [];
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(rate * seconds, Math.floor((elapsed / 1000) * rate));
      while (sent < due) {
        sent++;
        pending.push(
          get(url).then(
            (r) => void results.push(r.status),
            (err: Error) => void errors.push(err.message),
          ),
        );
      }
      const wantReloads = Math.min(20, Math.floor(elapsed / 480));
      while (reloads < wantReloads) {
        reloads++;
        void e.engine.apply(cfg(reloads), 'test.yaml').then((r) => reloadResults.push(r.ok));
      }
      if (sent >= rate * seconds && reloads >= 20) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  await Promise.all(pending);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(reloadResults.length, 20);
  assert.ok(reloadResults.every(Boolean), 'every reload applied');
  assert.equal(e.engine.snapshot?.version, 21);
  assert.deepEqual(errors, []);
  assert.equal(results.length, rate * seconds);
  const non200 = results.filter((s) => s !== 200);
  assert.equal(non200.length, 0, `non-200 answers: ${JSON.stringify(non200.slice(0, 10))}`);
  for (const u of us) assert.ok(u.hits > 1000, `${u.name} served ${u.hits}`);
});

test('a rejected config leaves the running one serving and reports every problem', async () => {
  const [u] = await startUpstreams(['only']);
  cleanups.push(() => u.close());
  const good = bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: pay }`, clusters: staticCluster('pay', [{ port: u.port }]) });
  const e = await startEngine(good);
  cleanups.push(() => e.stop());
  const broken = withClusterField(good.replace('cluster: pay }', 'cluster: missing }'), 'lb_policy: LEAST_CONN');
  const r = await e.engine.apply(broken, 'broken.yaml');
  assert.equal(r.ok, false);
  assert.equal(r.version, 1);
  const codes = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code).sort();
  assert.deepEqual(codes, ['invalid_enum', 'unknown_cluster']);
  for (const d of r.diagnostics) assert.ok(d.line > 0, `${d.code} has a line`);
  const still = await get(e.url());
  assert.equal(still.status, 200);
  assert.equal(still.body.trim(), 'only');
});

test('a reload that cannot bind a new listener port is rejected and the old listeners keep serving', async () => {
  const [u] = await startUpstreams(['only']);
  cleanups.push(() => u.close());
  const good = bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: pay }`, clusters: staticCluster('pay', [{ port: u.port }]) });
  const e = await startEngine(good);
  cleanups.push(() => e.stop());
  // The upstream's own port is taken: a listener there cannot bind.
  const clash = good.replace('name: ingress', 'name: ingress2').replace('port_value: 0', `port_value: ${u.port}`);
  const r = await e.engine.apply(clash, 'clash.yaml');
  assert.equal(r.ok, false);
  assert.match(r.diagnostics[0].message, /cannot bind/);
  assert.equal((await get(e.url())).status, 200);
});
