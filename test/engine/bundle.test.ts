// The engine's bundle (scripts/build-engine.mjs), which `meshdeck` runs when it is fresh, built
// into a directory far from the sources and run as a real child process: it finds Envoy's
// protos and its own files, validates with the schema's suggestions, proxies, and serves admin.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { bootstrap, staticCluster } from '../helpers/engine';
import { startUpstream } from '../helpers/upstream';
import { get } from '../helpers/client';

const dir = mkdtempSync(join(tmpdir(), 'meshdeck-bundle-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function bundle(): Promise<string> {
  const { buildEngine } = (await import(pathToFileURL(join(process.cwd(), 'scripts', 'build-engine.mjs')).href)) as { buildEngine: (out: string) => Promise<string> };
  const out = await buildEngine(join(dir, 'deep', 'elsewhere', 'meshdeck.mjs'));
  const runner = join(dir, 'run.mjs');
  writeFileSync(runner, `const { main } = await import(${JSON.stringify(pathToFileURL(out).href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  return runner;
}

function run(runner: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [runner, ...args]);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code, out }));
  });
}

test('the bundled engine validates, proxies and serves admin, from a directory away from the sources', async () => {
  const runner = await bundle();
  const up = await startUpstream('ledger');
  after(() => up.close());
  const yaml = bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: ledger }`, clusters: staticCluster('ledger', [up]) });
  const good = join(dir, 'good.yaml');
  writeFileSync(good, yaml);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, yaml.replace('stat_prefix:', 'stat_prefx:'));

  const ok = await run(runner, ['--mode', 'validate', '-c', good]);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /configuration '.*good\.yaml' OK/);
  // Field names come from Envoy's protos: the bundle found them in node_modules.
  const refused = await run(runner, ['--mode', 'validate', '-c', bad]);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /stat_prefx[\s\S]*did you mean "stat_prefix"/);

  const child = spawn(process.execPath, [runner, '-c', good, '-l', 'error'], { env: { ...process.env, MESHDECK_ADMIN_TOKEN: 'bundle-token' } });
  children.push(child);
  const ready = await new Promise<{ admin: string; listeners: Array<{ address: string }> }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (c) => reject(new Error(`exited ${c}`)));
  });
  for (let i = 0; i < 5; i++) {
    const r = await get(`http://${ready.listeners[0].address}/pay`);
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), 'ledger');
  }
  const stats = await get(`${ready.admin}/stats?filter=upstream_rq_2xx`, { authorization: 'Bearer bundle-token' });
  assert.match(stats.body, /cluster\.ledger\.upstream_rq_2xx: 5/);
  child.kill('SIGTERM');
  assert.equal((await new Promise((r) => child.once('exit', r))) as number, 0);
});
