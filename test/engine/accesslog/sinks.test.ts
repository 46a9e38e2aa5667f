// The access log's destinations: one buffered writer per file shared by its loggers, lines dropped
// and counted (never waited for) when the disk cannot keep up, reopen on a new config, close when
// the last config using a file is gone, stdout/stderr through the same buffering.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, existsSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { StatsStore } from '../../../engine/observe/stats';
import { AccessLogWriters, ACCESS_LOG_SINKS } from '../../../engine/observe/access-log/sinks';
import { BufferedWriter, writerStats, type WriteTarget } from '../../../engine/observe/access-log/writer';

const dir = mkdtempSync(join(tmpdir(), 'meshdeck-al-'));
let n = 0;
const tmpFile = () => join(dir, `log-${++n}.log`);
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

/** A destination that takes `delayMs` per batch, or never answers (`stuck`). */
function slowTarget(opts: { delayMs?: number; stuck?: boolean; failWrites?: boolean; failOpen?: boolean } = {}) {
  const batches: string[] = [];
  const target: WriteTarget & { batches: string[] } = {
    name: 'slow',
    batches,
    async open() {
      if (opts.failOpen) throw new Error('EACCES');
    },
    async write(data) {
      if (opts.stuck) await new Promise(() => {});
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (opts.failWrites) throw new Error('EIO');
      batches.push(data.toString());
    },
    async close() {},
  };
  return target;
}

test('two loggers on the same file share one writer, and both lines land in it', async () => {
  const store = new StatsStore();
  const w = new AccessLogWriters(store);
  const path = tmpFile();
  const a = ACCESS_LOG_SINKS['envoy.access_loggers.file']({ path }, w);
  const b = ACCESS_LOG_SINKS['envoy.access_loggers.file']({ path: join(dir, '.', `log-${n}.log`) }, w);
  a.write('from a\n');
  b.write('from b\n');
  assert.equal(w.openFiles().size, 1);
  await w.flush();
  assert.deepEqual(lines(path).sort(), ['from a', 'from b']);
  assert.equal(store.get('filesystem.write_buffered'), 2);
  assert.ok((store.get('filesystem.write_completed') ?? 0) >= 1);
  await w.close();
});

test('a stuck disk never blocks the writer of a line: past the bound, lines are dropped and counted', async () => {
  const store = new StatsStore();
  const target = slowTarget({ stuck: true });
  const limit = 65_500; // 655 lines of 100
  const writer = new BufferedWriter(target, writerStats(store), limit);
  const line = `${'x'.repeat(99)}\n`; // 100 chars
  const total = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) writer.write(line);
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1000, `200k writes took ${elapsed.toFixed(0)} ms`);
  await new Promise((r) => setImmediate(r));
  assert.ok(writer.bufferedChars <= limit, `buffered ${writer.bufferedChars} > ${limit}`);
  assert.equal(writer.dropped, total - limit / 100);
  assert.equal(store.get('filesystem.write_dropped'), total - limit / 100);
  assert.equal(store.get('filesystem.write_buffered'), limit / 100);
  assert.equal(store.get('filesystem.write_total_buffered'), limit);
});

test('a slow disk: every line is either written or counted as dropped', async () => {
  const store = new StatsStore();
  const target = slowTarget({ delayMs: 20 });
  const writer = new BufferedWriter(target, writerStats(store), 10_000);
  let sent = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 500; i++, sent++) writer.write(`line ${sent}\n`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await writer.flush();
  const written = target.batches.join('').split('\n').filter(Boolean);
  assert.ok(writer.dropped > 0, 'expected drops with a 10 kB bound');
  assert.equal(written.length + writer.dropped, sent);
  assert.equal(written.length, writer.written);
  // Batched: far fewer writes than lines.
  assert.ok(target.batches.length < written.length / 10, `${target.batches.length} batches for ${written.length} lines`);
  // What was written kept its order.
  const nums = written.map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(nums, [...nums].sort((x, y) => x - y));
  assert.equal(store.get('filesystem.write_total_buffered'), 0);
});

test('failed writes and failed opens count their lines as dropped', async () => {
  const store = new StatsStore();
  const w1 = new BufferedWriter(slowTarget({ failWrites: true }), writerStats(store));
  w1.write('a\n');
  w1.write('b\n');
  await w1.flush();
  assert.equal(w1.dropped, 2);
  assert.equal(store.get('filesystem.write_failed'), 1);
  const w2 = new BufferedWriter(slowTarget({ failOpen: true }), writerStats(store));
  w2.write('c\n');
  await w2.flush();
  assert.equal(w2.dropped, 1);
  assert.equal(store.get('filesystem.reopen_failed'), 1);
  assert.equal(store.get('filesystem.write_dropped'), 3);
  assert.match(w2.lastError ?? '', /EACCES/);
  // A file in a directory that does not exist.
  const w = new AccessLogWriters(store);
  const s = w.fileSink(join(dir, 'no-such-dir', 'x.log'));
  s.write('d\n');
  await w.flush();
  assert.equal(store.get('filesystem.reopen_failed'), 2);
  assert.equal(store.get('filesystem.write_dropped'), 4);
  await w.close();
});

test('a new config reopens the file (rotation), and the last release closes it', async () => {
  const store = new StatsStore();
  const w = new AccessLogWriters(store);
  const path = tmpFile();
  const first = w.fileSink(path);
  first.write('before rotation\n');
  await w.flush();
  renameSync(path, `${path}.1`);
  first.write('still to the old file\n');
  await w.flush();
  // A config reload builds a new sink on the same path: the writer is shared and reopened.
  const second = w.fileSink(path);
  second.write('after rotation\n');
  await w.flush();
  assert.deepEqual(lines(`${path}.1`), ['before rotation', 'still to the old file']);
  assert.deepEqual(lines(path), ['after rotation']);
  // The old config is gone: the file stays open for the new one.
  first.release();
  assert.equal(w.openFiles().size, 1);
  second.write('more\n');
  second.release();
  assert.equal(w.openFiles().size, 0, 'closed when no config uses it');
  await w.flush();
  assert.deepEqual(lines(path), ['after rotation', 'more']);
  // A released sink drops and counts.
  second.write('late\n');
  assert.equal(store.get('filesystem.write_dropped'), 1);
  await w.close();
});

test('a sink that never logs never opens its file', async () => {
  const w = new AccessLogWriters(new StatsStore());
  const path = tmpFile();
  const s = w.fileSink(path);
  assert.equal(w.openFiles().size, 0);
  s.release();
  await w.close();
  assert.equal(existsSync(path), false);
});

test('stdout and stderr sinks buffer the same way', async () => {
  const out = slowTarget();
  const err = slowTarget();
  const w = new AccessLogWriters(new StatsStore(), { streams: { stdout: out, stderr: err } });
  const so = ACCESS_LOG_SINKS['envoy.access_loggers.stdout']({}, w);
  const se = ACCESS_LOG_SINKS['envoy.access_loggers.stderr']({}, w);
  so.write('to stdout\n');
  se.write('to stderr\n');
  so.write('again\n');
  await w.close();
  assert.equal(out.batches.join(''), 'to stdout\nagain\n');
  assert.equal(err.batches.join(''), 'to stderr\n');
});

test('in a real process, the stdout logger and a file logger on /dev/stdout both reach stdout', () => {
  const mod = new URL('../../../engine/observe/access-log/sinks.ts', import.meta.url).href;
  const stats = new URL('../../../engine/observe/stats.ts', import.meta.url).href;
  const script = `
    import { AccessLogWriters, ACCESS_LOG_SINKS } from ${JSON.stringify(mod)};
    import { StatsStore } from ${JSON.stringify(stats)};
    const w = new AccessLogWriters(new StatsStore());
    const so = ACCESS_LOG_SINKS['envoy.access_loggers.stdout']({}, w);
    const se = ACCESS_LOG_SINKS['envoy.access_loggers.stderr']({}, w);
    const f = ACCESS_LOG_SINKS['envoy.access_loggers.file']({ path: '/dev/stdout' }, w);
    so.write('stdout logger\\n');
    await w.flush();
    f.write('file logger on /dev/stdout\\n');
    await w.flush();
    se.write('stderr logger\\n');
    await w.close();
  `;
  // stdout is a file opened for appending (a socket, as spawn's pipes are, cannot be opened
  // through /dev/stdout: ENXIO, for Envoy too; the stdout logger writes to fd 1 and does not care).
  const outPath = tmpFile();
  const out = openSync(outPath, 'a');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(outPath, 'utf8'), 'stdout logger\nfile logger on /dev/stdout\n');
  assert.equal(r.stderr, 'stderr logger\n');
});
