// Measure one running proxy: a sanity request, wrk warm-up, the wrk run (with memory and CPU
// sampled while it runs), then optionally the fixed-rate run.
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { runWrk } from './wrk.mjs';
import { start, stop, deadline, describeExit, treeRssKiB, memoryOf, descendants, ancestors } from './procs.mjs';
import { cpuSnapshot, cpuBusyPercent, stealPercent, othersSnapshot, othersPercent } from './stats.mjs';
import { UPSTREAM_BODY } from './configs.mjs';

const FIXED_RATE = fileURLToPath(new URL('./fixed-rate.mjs', import.meta.url));

/** One GET through the proxy: it must answer 200 with the upstream's body. */
export function checkProxies(url) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { agent: false, timeout: 5000, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => {
        if (res.statusCode === 200 && body === UPSTREAM_BODY) resolve();
        else reject(new Error(`GET ${url} answered ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}; expected 200 with the upstream's body`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 5 s`)));
    req.on('error', (e) => reject(new Error(`GET ${url}: ${e.code ?? e.message}`)));
  });
}

/**
 * Watch what else used the CPU while `fn` runs: other processes (in % of one core, with the top
 * users) plus the hypervisor's steal time. Returns { result, others: { percent, processes, steal, top } }.
 */
export async function watchOthers(fn) {
  const t0 = process.hrtime.bigint();
  const cpu0 = cpuSnapshot();
  const ours = () => [...ancestors(process.pid), ...descendants(process.pid)]; // ancestors: npm, idle
  const before = othersSnapshot(process.pid, ours());
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const procs = othersPercent(before, othersSnapshot(process.pid, ours()), seconds);
  const steal = stealPercent(cpu0, cpuSnapshot());
  const top = steal > 0 ? [...procs.top, `steal ${steal}%`] : procs.top;
  return { result, others: { percent: procs.percent + steal, processes: procs.percent, steal, top } };
}

/** wrk warm-up then the measured run; returns { wrk, rss, cpuBusy }. */
export async function saturate(url, pid, opts, log) {
  const wrkOpts = { threads: opts.threads, connections: opts.connections, cpu: opts.loadCpu };
  log(`  warm-up ${opts.warmupS}s…`);
  await runWrk(url, { ...wrkOpts, durationS: opts.warmupS });
  log(`  wrk ${opts.durationS}s…`);
  let lastRss = null;
  const before = cpuSnapshot();
  const { result: wrk, others } = await watchOthers(() => runWrk(url, { ...wrkOpts, durationS: opts.durationS }, () => {
    if (!pid) return null;
    const t = setInterval(() => { const k = treeRssKiB(pid); if (k) lastRss = k; }, 250);
    return { stop: () => clearInterval(t) };
  }));
  const cpuBusy = cpuBusyPercent(before, cpuSnapshot());
  const rss = pid ? { underLoadKiB: lastRss, peakKiB: memoryOf(pid)?.hwmKiB ?? null } : null;
  return { wrk, rss, cpuBusy, others };
}

/** Run scripts/bench/fixed-rate.mjs in its own process pinned to the load core. */
export async function fixedRateRun(url, opts, log) {
  log(`  fixed rate ${opts.rate} req/s: ${opts.fixedWarmupS}s warm-up + ${opts.fixedDurationS}s…`);
  const args = [FIXED_RATE, `--url=${url}`, `--rate=${opts.rate}`, `--duration=${opts.fixedDurationS}`,
    `--warmup=${opts.fixedWarmupS}`, `--connections=${opts.fixedConnections}`];
  const proc = start('fixed-rate', process.execPath, args, { cpu: opts.loadCpu });
  const limit = (opts.fixedWarmupS + opts.fixedDurationS + 30) * 1000;
  const { result: done, others } = await watchOthers(() => Promise.race([proc.exited.then(() => true), deadline(limit).then(() => false)]));
  if (!done) { await stop(proc); throw new Error(`fixed-rate generator did not finish: ${describeExit(proc)}`); }
  if (proc.exit.code !== 0) throw new Error(`fixed-rate generator failed: ${describeExit(proc)}`);
  const line = proc.out.trim().split('\n').pop();
  const result = { ...JSON.parse(line), others };
  if (result.ok === 0) throw new Error(`fixed-rate: no request succeeded (${result.errors} errors, first: ${result.firstError}; ${result.non2xx} non-2xx)`);
  return result;
}
