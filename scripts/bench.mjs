#!/usr/bin/env node
// `npm run bench`: Meshdeck against nginx, HAProxy and a bare undici proxy, one at a time, in
// front of the same nginx upstream, on a 2-core layout (proxy on core 0; wrk, the fixed-rate
// generator and the upstream on core 1). See docs/BENCH.md. `npm run bench -- --help` for flags.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseOptions, USAGE } from './bench/options.mjs';
import { ensureTools, which, toolVersions } from './bench/install.mjs';
import { installCleanupHandlers, isStopping, onCleanup, stop, stopAll } from './bench/procs.mjs';
import { buildRows, selectRows, startUpstream, enginePath, STAND_IN } from './bench/rows.mjs';
import { checkProxies, saturate, fixedRateRun, watchOthers } from './bench/measure.mjs';
import { sleep } from './bench/procs.mjs';
import { buildEngine } from './build-engine.mjs';
import { evaluateTargets, printReport, writeJson } from './bench/report.mjs';
import { aggregate } from './bench/aggregate.mjs';
import { NOISY, noiseOf as noise } from './bench/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const log = (...a) => console.log(...a);

async function main() {
  // The replay targets (issue 6) are their own run: scripts/bench-replay.mjs.
  if (process.argv.includes('--replay')) return (await import('./bench-replay.mjs')).main(process.argv.slice(2).filter((a) => a !== '--replay'));
  let opts;
  try { opts = parseOptions(process.argv.slice(2)); } catch (e) { console.error(e.message); return 2; }
  if (opts.help) { console.log(USAGE); return 0; }
  opts.root = root;
  opts.cwd = process.env.INIT_CWD || process.cwd(); // npm run changes cwd to the package root
  installCleanupHandlers();

  const rows = selectRows(buildRows(opts), opts.only);
  const ncpu = cpus().length;
  for (const c of [opts.proxyCpu, opts.loadCpu]) if (c >= ncpu) throw new Error(`core ${c} does not exist (this machine has ${ncpu})`);
  if (opts.proxyCpu === opts.loadCpu) log(`warning: proxy and load share core ${opts.proxyCpu}; figures will not be comparable with the 2-core layout`);

  const tools = [...new Set(['wrk', 'nginx', 'taskset', ...rows.flatMap((r) => r.tools)])];
  if (opts.install) ensureTools(tools, log);
  else { const missing = tools.filter((t) => !which(t)); if (missing.length) throw new Error(`missing ${missing.join(', ')} (and --no-install)`); }

  // Keep this orchestrating process (RSS sampling, pipes) off the proxy's core too.
  execFileSync('taskset', ['-a', '-p', '-c', String(opts.loadCpu), String(process.pid)], { stdio: 'ignore' });

  const started = new Date();
  const versions = toolVersions();
  log(`meshdeck bench · ${started.toISOString()} · ${cpus()[0]?.model ?? '?'} × ${ncpu} · node ${versions.node} · nginx ${versions.nginx} · haproxy ${versions.haproxy ?? '—'} · wrk ${versions.wrk ?? '?'}`);
  log(`layout: proxy under test on core ${opts.proxyCpu}; wrk, fixed-rate generator and upstream nginx on core ${opts.loadCpu}`);
  log(`rows: ${rows.map((r) => r.id).join(', ')}${enginePath(opts) === STAND_IN ? '  (Meshdeck row = undici stand-in)' : ''}`);
  if (enginePath(opts) === join(root, 'bin', 'meshdeck.mjs')) {
    // Measure what `meshdeck` runs: its bundle (bin/meshdeck.mjs), rebuilt here when stale.
    if (process.env.MESHDECK_FROM_SOURCE === '1') log('engine: engine/ through tsx (MESHDECK_FROM_SOURCE=1)');
    else {
      await buildEngine();
      log('engine: dist/engine/meshdeck.mjs (bundle, rebuilt from engine/ just now)');
    }
  }

  // Other work on the machine skews every figure: look for it first, and again during each run.
  const { others: idle } = await watchOthers(() => sleep(1000));
  if (idle.percent > 5) log(`WARNING: the machine is not quiet: other processes and steal took ${idle.percent}% of a core over 1 s (${idle.top.join(', ')}); figures will be noisy`);

  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-bench-'));
  if (!process.env.BENCH_KEEP) onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = { dir, root, proxyCpu: opts.proxyCpu, upstreamCpu: opts.loadCpu, readyMs: opts.readyTimeoutS * 1000, upstream: null };
  const rounds = [];
  try {
    ctx.upstream = await startUpstream(ctx);
    log(`upstream: nginx at ${ctx.upstream.url} (pid ${ctx.upstream.proc.pid}, core ${opts.loadCpu})`);
    for (let round = 1; round <= opts.repeat && !isStopping(); round++) {
      if (opts.repeat > 1) log(`\n═══ round ${round} of ${opts.repeat}`);
      const results = [];
      for (const row of rows) { if (isStopping()) break; results.push(await runRowQuietly(row, ctx, opts)); }
      rounds.push(results);
    }
  } finally {
    await stopAll();
  }
  const results = aggregate(rounds);

  const run = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpu: cpus()[0]?.model ?? null, cores: ncpu, kernel: osRelease() },
    versions,
    othersBeforeStart: idle,
    layout: { proxyCpu: opts.proxyCpu, loadCpu: opts.loadCpu, upstreamCpu: opts.loadCpu },
    engine: enginePath(opts),
    options: pick(opts, ['quick', 'repeat', 'retries', 'durationS', 'warmupS', 'connections', 'threads', 'rate', 'fixedDurationS', 'fixedWarmupS', 'fixedConnections', 'engine', 'configs', 'only', 'proxyCpu', 'loadCpu']),
    results,
    targets: [],
  };
  run.targets = evaluateTargets(results, opts.rate);
  printReport(run, log);
  const out = resolve(root, opts.out);
  writeJson(out, run);
  log(`\nresults: ${out}  (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`);

  if (opts.strict && (results.some((r) => r.error) || run.targets.some((t) => t.verdict !== 'PASS'))) return 1;
  return 0;
}


/** runRow, again (up to --retries times) while other work on the machine disturbed it; keeps the quietest. */
async function runRowQuietly(row, ctx, opts) {
  let best = null;
  for (let attempt = 1; ; attempt++) {
    const r = await runRow(row, ctx, opts);
    r.attempts = attempt;
    if (!best || (best.error && !r.error) || (!r.error && noise(r) < noise(best))) best = r;
    if (r.error || noise(r) <= NOISY || attempt > opts.retries || isStopping()) return { ...best, attempts: attempt };
    log(`  disturbed (other ${noise(r)}%): waiting for a quiet moment, then again (attempt ${attempt + 1} of ${opts.retries + 1})`);
    await waitQuiet(15_000);
  }
}

/** Wait (at most maxMs) until other work takes ≤ 5 % of a core over a second. */
async function waitQuiet(maxMs) {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const { others } = await watchOthers(() => sleep(1000));
    if (others.percent <= 5) return;
  }
}

/** Start one row, measure it, stop it. A failure is recorded in the row and the run goes on. */
async function runRow(row, ctx, opts) {
  log(`\n── ${row.label}`);
  const result = { id: row.id, label: row.label, standIn: row.engine ? enginePath(opts) === STAND_IN : undefined };
  let srv = null;
  try {
    srv = await row.start(ctx);
    result.url = srv.url;
    result.pid = srv.proc?.pid ?? null;
    log(`  ready at ${srv.url}${srv.proc ? ` (pid ${srv.proc.pid}, core ${opts.proxyCpu})` : ''}`);
    // A row may bring its own check and load tool (HTTP/2 rows: an h2c GET, then h2load).
    await (row.check ?? checkProxies)(srv.url);
    Object.assign(result, row.measure ? await row.measure(srv, opts, log, ctx) : await saturate(srv.url, srv.proc?.pid, opts, log));
    log(`  ${Math.round(result.wrk.rps)} req/s, p50 ${result.wrk.latencyMs.p50?.toFixed(2)} ms, p99 ${result.wrk.latencyMs.p99?.toFixed(2)} ms${result.wrk.errors ? `, ${result.wrk.errors} errors` : ''}${noisy(result.others)}`);
    if (srv.proc?.exit) throw new Error(`died during the wrk run: ${srv.proc.exit.code ?? srv.proc.exit.signal}`);
    if (opts.fixed && row.fixedRate) {
      result.fixed = await fixedRateRun(srv.url, opts, log);
      log(`  fixed rate: p50 ${result.fixed.latencyMs.p50.toFixed(3)} ms, p99 ${result.fixed.latencyMs.p99.toFixed(3)} ms (${result.fixed.achievedRps} req/s)${noisy(result.fixed.others)}`);
    }
  } catch (e) {
    result.error = e.message;
    log(`  FAILED: ${e.message.split('\n').join('\n  ')}`);
  } finally {
    if (srv?.proc) await stop(srv.proc);
  }
  return result;
}

const noisy = (o) => (o && o.percent > 5 ? `  — WARNING: other processes and steal took ${o.percent}% of a core meanwhile (${o.top.join(', ')})` : '');

function gitCommit() {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; }
}
function osRelease() {
  try { return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(); } catch { return null; }
}
const pick = (o, keys) => Object.fromEntries(keys.map((k) => [k, o[k]]));

main().then(
  (code) => { process.exitCode = code; },
  async (e) => { console.error(`\nbench failed: ${e.message}`); await stopAll(); process.exit(1); },
);
