// engine/admin/static.ts: the console's files from the admin server — no token needed for them,
// the Host check still applies, the API still needs the token, no way out of the build directory,
// and a page that says what to do when the console has not been built.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { resolveConsolePath } from '../../engine/admin/static';
import { bootstrap, startEngine, type RunningEngine } from '../helpers/engine';

let e: RunningEngine;
let dir: string;
let admin: string;
const saved = process.env.MESHDECK_CONSOLE_DIR;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshdeck-static-'));
  mkdirSync(join(dir, 'build/assets'), { recursive: true });
  writeFileSync(join(dir, 'build/index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(dir, 'build/assets/app-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'build/assets/link.js'));
  process.env.MESHDECK_CONSOLE_DIR = join(dir, 'build');
  e = await startEngine(bootstrap({ routes: '- match: { prefix: "/" }\n  direct_response: { status: 200 }', clusters: '' }));
  admin = e.engine.adminUrl;
});

after(async () => {
  await e?.stop();
  if (saved === undefined) delete process.env.MESHDECK_CONSOLE_DIR;
  else process.env.MESHDECK_CONSOLE_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}) {
  const r = await request(`${admin}${path}`, { headers });
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
}

test('index.html without a token, with the CSP; hashed assets cached for good; revalidation by ETag', async () => {
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.body, /id="root"/);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['cache-control'], 'no-cache');
  assert.match(String(index.headers['content-security-policy']), /default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self'; font-src 'self'; connect-src 'self'; img-src 'self' data:/);
  const js = await get('/assets/app-abc123.js');
  assert.equal(js.status, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(String(js.headers['cache-control']), /immutable/);
  const again = await get('/assets/app-abc123.js', { 'if-none-match': String(js.headers.etag) });
  assert.equal(again.status, 304);
  const head = await request(`${admin}/`, { method: 'HEAD' });
  assert.equal(head.statusCode, 200);
  await head.body.dump();
});

test('the Host check still applies to the console; the API and Envoy endpoints still need the token', async () => {
  assert.equal((await get('/', { host: 'attacker.example' })).status, 403);
  assert.equal((await get('/', { origin: 'http://attacker.example' })).status, 403);
  assert.equal((await get('/api/v1/config')).status, 401);
  assert.equal((await get('/api/v1/nothing')).status, 401);
  assert.equal((await get('/stats')).status, 401);
  const post = await request(`${admin}/`, { method: 'POST' });
  assert.equal(post.statusCode, 401);
  await post.body.dump();
});

test('no way out of the build directory: dot-dot, encoded separators, dotfiles, symlinks', async () => {
  for (const p of ['/../secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/link.js', '/.env', '/nope.js']) {
    assert.equal((await get(p)).status, 404, p);
  }
  const root = '/srv/console';
  assert.equal(resolveConsolePath(root, '/'), '/srv/console/index.html');
  assert.equal(resolveConsolePath(root, '/assets/a.js'), '/srv/console/assets/a.js');
  assert.equal(resolveConsolePath(root, '/a/../../etc/passwd'), undefined);
  assert.equal(resolveConsolePath(root, '/a%5c..%5cb'), undefined);
  assert.equal(resolveConsolePath(root, '/%00'), undefined);
  assert.equal(resolveConsolePath(root, '/%E0%A4%A'), undefined);
});

test('without a build, `/` says how to make one', async () => {
  process.env.MESHDECK_CONSOLE_DIR = join(dir, 'missing');
  try {
    const r = await get('/');
    assert.equal(r.status, 503);
    assert.match(r.body, /npm run build:renderer/);
  } finally {
    process.env.MESHDECK_CONSOLE_DIR = join(dir, 'build');
  }
});
