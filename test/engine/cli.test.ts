// The `meshdeck` command as a supervisor or a user runs it: a real child process.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bootstrap, staticCluster, withClusterField } from '../helpers/engine';
import { startUpstream } from '../helpers/upstream';
import { get } from '../helpers/client';

const BIN = new URL('../../bin/meshdeck.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'meshdeck-cli-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Ready {
  event: string;
  admin: string;
  listeners: Array<{ name: string; address: string }>;
  token?: string;
}

function serve(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; ready: Ready; stderr: () => string; stdoutLines: string[] }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) resolve({ child, ready: JSON.parse(line) as Ready, stderr: () => stderr, stdoutLines: lines });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
  });
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('--mode validate prints "configuration \'FILE\' OK", binds nothing and exits 0', async () => {
  const f = write('ok.yaml', bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: c }`, clusters: staticCluster('c', [{ port: 1 }]) }));
  const r = await run(['--mode', 'validate', '-c', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `configuration '${f}' OK\n`);
});

test('--mode validate prints every problem with file:line:column and exits 1', async () => {
  const text = bootstrap({
    routes: `- match: { prefix: "/" }\n  route: { cluster: nowhere }`,
    clusters: staticCluster('c', [{ port: 1 }], { lb_policy: 'LEAST_CONN' }),
  });
  const f = write('bad.yaml', text);
  const r = await run(['--mode', 'validate', '-c', f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /invalid_enum/);
  assert.match(r.stderr, /LEAST_REQUEST/);
  assert.match(r.stderr, /unknown_cluster/);
  assert.match(r.stderr, /nowhere/);
  const located = r.stderr.split('\n').filter((l) => l.startsWith(`${f}:`));
  assert.ok(located.length >= 2, r.stderr);
  for (const l of located) assert.match(l, /^.+:\d+:\d+: (error|warning): /);
  assert.equal(r.stdout, '');
});

test('a missing config file and bad flags exit 1 with a clear message', async () => {
  const r = await run(['-c', join(dir, 'nope.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no such file/);
  const r2 = await run(['--mode', 'dance', '-c', 'x']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /--mode must be serve or validate/);
});

test('serving prints exactly one ready line with real ports; SIGTERM drains in-flight requests and exits 0', async () => {
  const up = await startUpstream('slowish', { delayMs: 400 });
  const f = write('serve.yaml', bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: c }`, clusters: staticCluster('c', [{ port: up.port }]) }));
  const { child, ready, stdoutLines } = await serve(['-c', f, '-l', 'warning']);
  assert.equal(ready.event, 'ready');
  assert.match(ready.admin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.listeners.length, 1);
  assert.equal(ready.listeners[0].name, 'ingress');
  assert.match(ready.listeners[0].address, /^127\.0\.0\.1:[1-9]\d*$/);
  assert.ok(ready.token && ready.token.length >= 20, 'a generated admin token is told');
  // Admin is there on loopback, with the token.
  const adminOk = await get(`${ready.admin}/ready`, { authorization: `Bearer ${ready.token}` });
  assert.equal(adminOk.status, 200);
  assert.equal(adminOk.body, 'LIVE\n');
  assert.equal((await get(`${ready.admin}/ready`)).status, 401);

  const inflight = get(`http://${ready.listeners[0].address}/`);
  await new Promise((r) => setTimeout(r, 100));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const r = await inflight;
  assert.equal(r.status, 200, 'the request in flight at SIGTERM completes');
  assert.equal(await exited, 0);
  assert.equal(stdoutLines.length, 1, 'exactly one line on stdout');
  await up.close();
});

test('MESHDECK_ADMIN_TOKEN is used and never printed', async () => {
  const f = write('tok.yaml', bootstrap({ routes: `- match: { prefix: "/" }\n  direct_response: { status: 200 }`, clusters: '' }));
  const { child, ready } = await serve(['-c', f], { MESHDECK_ADMIN_TOKEN: 'secret-token-from-env-123' });
  assert.equal(ready.token, undefined);
  assert.equal((await get(`${ready.admin}/ready`, { authorization: 'Bearer secret-token-from-env-123' })).status, 200);
  child.kill('SIGTERM');
});

test('--watch reloads the file when it changes; a broken edit keeps the old config serving', async () => {
  const a = await startUpstream('first');
  const b = await startUpstream('second');
  const cfg = (port: number) => bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: c }`, clusters: staticCluster('c', [{ port }]) });
  const f = write('watch.yaml', cfg(a.port));
  const { child, ready, stderr } = await serve(['-c', f, '--watch']);
  const url = `http://${ready.listeners[0].address}/`;
  assert.equal((await get(url)).body.trim(), 'first');
  writeFileSync(f, cfg(b.port));
  await until(async () => (await get(url)).body.trim() === 'second');
  writeFileSync(f, withClusterField(cfg(b.port), 'lb_policy: LEAST_CONN'));
  await until(() => Promise.resolve(/rejected/.test(stderr())));
  assert.match(stderr(), /LEAST_REQUEST/);
  assert.equal((await get(url)).body.trim(), 'second');
  child.kill('SIGTERM');
  await a.close();
  await b.close();
});

test('--config-yaml alone serves, and a config with no admin block still gets a loopback admin', async () => {
  const text = bootstrap({ routes: `- match: { prefix: "/" }\n  direct_response: { status: 204 }`, clusters: '' });
  const { child, ready } = await serve(['--config-yaml', text]);
  assert.match(ready.admin, /^http:\/\/127\.0\.0\.1:/);
  assert.equal((await get(`http://${ready.listeners[0].address}/`)).status, 204);
  child.kill('SIGTERM');
});

async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
