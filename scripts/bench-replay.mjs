#!/usr/bin/env node
// `npm run bench -- --replay` (or `node scripts/bench-replay.mjs`): the replay targets of issue 6.
//   1. record: 5,000 requests sent at 1,000 req/s through Meshdeck with --capture on, exported as HAR;
//   2. replay that HAR at 1× through Meshdeck with `meshdeck replay --json`: send-delay p99 ≤ 5 ms;
//   3. replay it as fast as possible (--asap): ≥ 5,000 req/s through Meshdeck.
// Layout as the main bench: Meshdeck on core 0; the upstream (nginx), the recorder and the replayer
// on core 1. Other work on the machine is measured and printed next to each figure.
// Flags: --requests=N (5000) --record-rate=R (1000) --concurrency=N (asap, 64) --loop=N (asap, 4) --out=FILE
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { installCleanupHandlers, onCleanup, start, startWithReadyLine, stop, stopAll, sleep } from './bench/procs.mjs';
import { startUpstream } from './bench/rows.mjs';
import { envoyBootstrap, toYaml } from './bench/configs.mjs';
import { watchOthers } from './bench/measure.mjs';
import { ensureTools } from './bench/install.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(root, 'bin/meshdeck.mjs');
const TOKEN = 'bench-replay-token';
const log = (...a) => console.log(...a);

function options(argv) {
  const o = { requests: 5000, recordRate: 1000, concurrency: 64, loop: 4, out: 'bench-results/replay.json', proxyCpu: 0, loadCpu: 1 };
  for (const a of argv) {
    const m = /^--([\w-]+)=(.*)$/.exec(a);
    if (!m) continue;
    const key = m[1].replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (key in o) o[key] = key === 'out' ? m[2] : Number(m[2]);
  }
  return o;
}

/** Open-loop sender: `n` requests at `rate` req/s (1 ms timer slices, no waiting for answers). */
async function record(url, n, rate) {
  const pool = new Pool(url, { connections: 128, pipelining: 1 });
  const body = (i) => JSON.stringify({ amount: 1000 + (i % 977), currency: 'EUR', card: `tok_${(i * 7919) % 100000}` });
  let sent = 0;
  let answered = 0;
  let failed = 0;
  const t0 = performance.now();
  await new Promise((done) => {
    const tick = () => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const i = sent;
        const post = i % 4 !== 3;
        pool
          .request({ method: post ? 'POST' : 'GET', path: post ? `/v1/payments/${i}/authorize` : `/v1/payments/${i - 3}`, headers: post ? { 'content-type': 'application/json', 'idempotency-key': `k-${i}` } : {}, body: post ? body(i) : undefined })
          .then((r) => r.body.dump(), () => failed++)
          .finally(() => {
            if (++answered === n) done();
          });
      }
      if (sent < n) setTimeout(tick, 1);
    };
    tick();
  });
  await pool.close();
  return { sent, failed, seconds: (performance.now() - t0) / 1000 };
}

async function adminCall(admin, path, body) {
  const r = await request(`${admin}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${text}`);
  return text;
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/**
 * `meshdeck replay … --json` on the load core; its one JSON line, plus how busy Meshdeck's core
 * was while the replay ran (which of the two limits an as-fast-as-possible run).
 */
async function replay(har, target, args, cpu, enginePid) {
  let line = '';
  const proc = start('replay', process.execPath, [BIN, 'replay', har, '--target', target, '--json', ...args], { cpu, cwd: root, onLine: (l) => (line = l) });
  const engine0 = cpuSeconds(enginePid);
  const { result: exit, others } = await watchOthers(() => proc.exited);
  if (exit.code !== 0) throw new Error(`meshdeck replay exited ${exit.code}: ${proc.err}`);
  const summary = JSON.parse(line);
  const engineCpu = Math.round(((cpuSeconds(enginePid) - engine0) / (summary.durationMs / 1000)) * 100);
  return { summary, others, meshdeckCpuPercent: engineCpu };
}

export async function main(argv = process.argv.slice(2)) {
  const o = options(argv);
  installCleanupHandlers();
  ensureTools(['nginx', 'taskset'], log);
  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-bench-replay-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  log(`meshdeck replay bench · ${new Date().toISOString()} · ${cpus()[0]?.model ?? '?'} × ${cpus().length} · node ${process.version}`);
  log(`layout: Meshdeck on core ${o.proxyCpu}; upstream nginx, recorder and replayer on core ${o.loadCpu}`);
  const ctx = { dir, root, proxyCpu: o.proxyCpu, upstreamCpu: o.loadCpu, readyMs: 15_000 };
  try {
    const upstream = await startUpstream(ctx);
    const yamlFile = join(dir, 'envoy.yaml');
    writeFileSync(yamlFile, toYaml(envoyBootstrap(upstream)));
    const { proc: engine, ready } = await startWithReadyLine('meshdeck', process.execPath, [BIN, '-c', yamlFile, '-l', 'warning', '--capture', 'bench', '--capture-dir', join(dir, 'captures')], { cpu: o.proxyCpu, cwd: root, env: { ...process.env, MESHDECK_ADMIN_TOKEN: TOKEN } }, 15_000);
    const target = `http://${ready.listeners[0].address}`;
    log(`Meshdeck at ${target} (pid ${engine.pid}), capturing to ${ready.capture.dir}`);

    log(`\nrecord: ${o.requests} requests at ${o.recordRate} req/s through Meshdeck, captured…`);
    const rec = await watchOthers(() => record(target, o.requests, o.recordRate));
    log(`  sent ${rec.result.sent} in ${rec.result.seconds.toFixed(2)} s (${rec.result.failed} failed); other work ${rec.others.percent}% of a core`);
    await sleep(300);
    const harText = await adminCall(ready.admin, `/traffic/export?session=${ready.capture.session}`);
    const har = join(dir, 'recorded.har');
    writeFileSync(har, harText);
    const entries = JSON.parse(harText).log.entries.length;
    log(`  exported ${entries} entries as HAR (${(harText.length / 1024 / 1024).toFixed(1)} MiB)`);
    // Capture off: the replays measure the proxy and the replayer, not the journal.
    await adminCall(ready.admin, '/traffic/capture', { listener: 'bench', enabled: false });

    log(`\nreplay at 1× (the recorded schedule) through Meshdeck…`);
    const onex = await replay(har, target, ['--speed', '1'], o.loadCpu, engine.pid);
    const s1 = onex.summary;
    log(`  sent ${s1.sent}, ok ${s1.ok}, failed ${s1.failed}; ${s1.achievedRate} req/s; send delay p50 ${s1.sendDelayMs.p50} ms, p99 ${s1.sendDelayMs.p99} ms, max ${s1.sendDelayMs.max} ms; latency p99 ${s1.latencyMs.p99} ms; other work ${onex.others.percent}%, Meshdeck ${onex.meshdeckCpuPercent}% of its core`);

    log(`\nreplay as fast as possible (--asap --concurrency ${o.concurrency} --loop ${o.loop}) through Meshdeck…`);
    const asap = await replay(har, target, ['--asap', '--concurrency', String(o.concurrency), '--loop', String(o.loop)], o.loadCpu, engine.pid);
    const s2 = asap.summary;
    log(`  sent ${s2.sent}, ok ${s2.ok}, failed ${s2.failed}; ${s2.achievedRate} req/s over ${(s2.durationMs / 1000).toFixed(2)} s; latency p50 ${s2.latencyMs.p50} ms, p99 ${s2.latencyMs.p99} ms; other work ${asap.others.percent}%, Meshdeck ${asap.meshdeckCpuPercent}% of its core`);

    await stop(engine);
    const targets = [
      { what: 'replay at 1×: send-delay p99 ≤ 5 ms', value: s1.sendDelayMs.p99, unit: 'ms', pass: s1.sendDelayMs.p99 !== null && s1.sendDelayMs.p99 <= 5 && s1.sent === entries },
      { what: 'replay as fast as possible: ≥ 5,000 req/s', value: s2.achievedRate, unit: 'req/s', pass: s2.achievedRate >= 5000 && s2.failed === 0 },
    ];
    log('\ntargets:');
    for (const t of targets) log(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.value} ${t.unit}`);
    const out = resolve(process.env.INIT_CWD || process.cwd(), o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ finished: new Date().toISOString(), options: o, record: { ...rec.result, others: rec.others, entries }, replay1x: onex, replayAsap: asap, targets }, null, 2)}\n`);
    log(`\nresults: ${out}`);
    return 0;
  } finally {
    await stopAll();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => (process.exitCode = code),
    async (e) => {
      console.error(`bench failed: ${e.message}`);
      await stopAll();
      process.exit(1);
    },
  );
}
