// kill -9 of the engine while it captures: the journal it leaves still exports to a valid HAR,
// and only the last moments are missing. The engine runs as a user runs it: bin/meshdeck.mjs.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { bootstrap, staticCluster } from '../../helpers/engine';
import { startUpstream } from '../../helpers/upstream';
import { readSession } from '../../../engine/traffic/capture';
import { parseHar, toHar } from '../../../engine/traffic/har';
import { assertValidHar } from './har-check';

const BIN = new URL('../../../bin/meshdeck.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'meshdeck-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('kill -9 during capture leaves a journal that exports to a valid HAR', async () => {
  const up = await startUpstream('app');
  const cfg = join(dir, 'envoy.yaml');
  writeFileSync(cfg, bootstrap({ routes: `- match: { prefix: "/" }\n  route: { cluster: app }`, clusters: staticCluster('app', [{ port: up.port }]) }));
  const child = spawn(process.execPath, [BIN, '-c', cfg, '-l', 'error', '--capture', 'ingress', '--capture-dir', join(dir, 'captures')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const ready = await new Promise<{ listeners: Array<{ address: string }>; capture: { dir: string; session: string } }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`engine exited ${code}: ${stderr}`)));
  });
  assert.ok(ready.capture.dir.startsWith(join(dir, 'captures')));
  const pool = new Pool(`http://${ready.listeners[0].address}`, { connections: 8 });
  // Traffic until the kill; remember when each answer arrived.
  const answeredAt: number[] = [];
  let sending = true;
  const body = Buffer.from(Array.from({ length: 700 }, (_, i) => i & 0xff));
  const loop = async () => {
    for (let i = 0; sending; i++) {
      try {
        const r = await pool.request({ method: 'POST', path: `/pay/${i}`, body, headers: { 'content-type': 'application/octet-stream' } });
        await r.body.dump();
        answeredAt.push(performance.now());
      } catch {
        return; // the engine is gone
      }
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  // Kill mid-traffic, once enough has gone through (a busy machine may need longer than a quiet one).
  const t0 = performance.now();
  while (performance.now() - t0 < 1500 || (answeredAt.length < 200 && performance.now() - t0 < 20_000)) await new Promise((r) => setTimeout(r, 50));
  const killedAt = performance.now();
  child.kill('SIGKILL');
  sending = false;
  await Promise.all(loops);
  await pool.destroy();
  await up.close();

  const read = readSession(ready.capture.dir);
  assert.ok(answeredAt.length >= 200, `only ${answeredAt.length} requests went through`);
  // Everything answered well before the kill is on disk (the journal flushes every 100 ms).
  const settled = answeredAt.filter((t) => t < killedAt - 1000).length;
  assert.ok(read.exchanges.length >= settled, `journal has ${read.exchanges.length}, ${settled} were answered over a second before the kill`);
  assert.ok(read.exchanges.length <= answeredAt.length + 8);
  const harText = JSON.stringify(toHar(read.exchanges));
  assertValidHar(JSON.parse(harText));
  const back = parseHar(harText);
  assert.equal(back.exchanges.length, read.exchanges.length);
  assert.deepEqual(back.exchanges[0].requestBody!.data, body);
});
