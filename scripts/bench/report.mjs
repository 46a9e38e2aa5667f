// The printed tables, the targets from the issue, and the JSON results file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PROTOCOL_PAIRS } from './protocols.mjs';

export const TARGETS = {
  minRpsRatio: 0.30, // Meshdeck req/s ≥ 0.30 × nginx req/s (wrk, saturating)
  maxAddedP50Ms: 0.5, // Meshdeck p50 − nginx p50 ≤ 0.5 ms at the fixed rate
  minAccessLogRatio: 0.85, // Meshdeck with a file access log ≥ 0.85 × Meshdeck without one
};

const f = (v, d = 2) => (v == null || Number.isNaN(v) ? '—' : v.toFixed(d));
const mib = (kib) => (kib ? (kib / 1024).toFixed(1) : '—');

function table(headers, rows, alignLeft = 1) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < alignLeft ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(headers), w.map((n) => '─'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** Compute the targets: each { name, value, limit, verdict: PASS | MISS | n/a, note } */
export function evaluateTargets(results, rate) {
  const byId = Object.fromEntries(results.map((r) => [r.id, r]));
  const nginx = byId.nginx, mesh = byId.meshdeck, logged = byId['meshdeck-accesslog'];
  const logRatio = logged?.wrk && mesh?.wrk ? logged.wrk.rps / mesh.wrk.rps : null;
  const ratio = nginx?.wrk && mesh?.wrk ? mesh.wrk.rps / nginx.wrk.rps : null;
  const added = nginx?.fixed && mesh?.fixed ? mesh.fixed.latencyMs.p50 - nginx.fixed.latencyMs.p50 : null;
  const why = (r, what) => (!r ? 'row not run' : r.error ? 'row failed' : `no ${what}`);
  return [
    {
      name: `Meshdeck req/s ≥ ${TARGETS.minRpsRatio.toFixed(2)}× nginx`,
      value: ratio, limit: TARGETS.minRpsRatio, unit: '×',
      verdict: ratio == null ? 'n/a' : ratio >= TARGETS.minRpsRatio ? 'PASS' : 'MISS',
      note: ratio == null ? why(!mesh?.wrk ? mesh : nginx, 'wrk result') : `${f(ratio)}×`,
    },
    {
      name: `Meshdeck added p50 ≤ ${TARGETS.maxAddedP50Ms} ms at ${rate} req/s`,
      value: added, limit: TARGETS.maxAddedP50Ms, unit: 'ms',
      verdict: added == null ? 'n/a' : added <= TARGETS.maxAddedP50Ms ? 'PASS' : 'MISS',
      note: added == null ? why(!mesh?.fixed ? mesh : nginx, 'fixed-rate result') : `${added >= 0 ? '+' : ''}${f(added, 3)} ms`,
    },
    {
      name: `Meshdeck with a file access log ≥ ${TARGETS.minAccessLogRatio.toFixed(2)}× without`,
      value: logRatio, limit: TARGETS.minAccessLogRatio, unit: '×',
      verdict: logRatio == null ? 'n/a' : logRatio >= TARGETS.minAccessLogRatio ? 'PASS' : 'MISS',
      note: logRatio == null ? why(!logged?.wrk ? logged : mesh, 'wrk result') : `${f(logRatio)}× (${f(logged.wrk.rps, 0)} vs ${f(mesh.wrk.rps, 0)} req/s)`,
    },
  ];
}

export function printReport(run, log = console.log) {
  const { results, targets, options } = run;
  const nginx = results.find((r) => r.id === 'nginx');
  if (options.repeat > 1) log(`\nEvery figure is the median of ${options.repeat} rounds, disturbed runs left out when quiet ones exist (runs used and req/s range per row in the JSON: medianOf, rpsRange).`);
  log(`\nSaturating load: wrk -t${options.threads} -c${options.connections} -d${options.durationS}s after ${options.warmupS}s warm-up`);
  log(`(proxy on core ${options.proxyCpu}; wrk + upstream on core ${options.loadCpu}; cpuN % = how busy each core was during the measured run;
 other % = CPU taken meanwhile by anything but the bench (other processes + hypervisor steal), in % of one core: above ~5 the row is unreliable)\n`);
  log(table(
    ['proxy', 'req/s', 'p50 ms', 'p99 ms', '× nginx', 'RSS MiB', `cpu${options.proxyCpu} %`, `cpu${options.loadCpu} %`, 'other %', 'errors'],
    results.filter((r) => r.wrk || r.error).map((r) => (r.wrk
      ? [r.label, Math.round(r.wrk.rps), f(r.wrk.latencyMs.p50), f(r.wrk.latencyMs.p99),
        nginx?.wrk && r.id !== 'direct' ? f(r.wrk.rps / nginx.wrk.rps) : '—', mib(r.rss?.underLoadKiB),
        r.cpuBusy?.[options.proxyCpu] ?? '—', r.cpuBusy?.[options.loadCpu] ?? '—', r.others?.percent ?? '—', r.wrk.errors]
      : [r.label, 'FAILED', '', '', '', '', '', '', '', '']),
  )));
  const fixed = results.filter((r) => r.fixed);
  if (fixed.length) {
    log(`\nFixed rate: ${options.rate} req/s open loop for ${options.fixedDurationS}s after ${options.fixedWarmupS}s warm-up; latency from each request's scheduled send time`);
    log(table(
      ['proxy', 'got req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'gen lag p50', 'other %', 'errors'],
      fixed.map((r) => [r.label, r.fixed.achievedRps, f(r.fixed.latencyMs.p50, 3), f(r.fixed.latencyMs.p90, 3), f(r.fixed.latencyMs.p99, 3),
        f(r.fixed.latencyMs.p999, 3), f(r.fixed.latencyMs.max, 1), f(r.fixed.sendLagMs.p50, 3), r.fixed.others?.percent ?? '—', r.fixed.errors + r.fixed.non2xx]),
    ));
    const mesh = results.find((r) => r.id === 'meshdeck');
    if (mesh?.fixed && nginx?.fixed) {
      log(`Meshdeck added latency vs nginx: p50 ${signed(mesh.fixed.latencyMs.p50 - nginx.fixed.latencyMs.p50)} ms, p99 ${signed(mesh.fixed.latencyMs.p99 - nginx.fixed.latencyMs.p99)} ms`);
    }
  }
  const mesh = results.find((r) => r.id === 'meshdeck');
  const secured = results.find((r) => r.id === 'meshdeck-jwt-rbac');
  if (secured?.wrk && mesh?.wrk) {
    const p50 = secured.fixed && mesh.fixed ? `, p50 ${signed(secured.fixed.latencyMs.p50 - mesh.fixed.latencyMs.p50)} ms at ${options.rate} req/s` : '';
    log(`\njwt_authn + rbac cost: ${f(secured.wrk.rps / mesh.wrk.rps)}× Meshdeck's req/s without them (${Math.round(secured.wrk.rps)} vs ${Math.round(mesh.wrk.rps)})${p50}`);
  }
  for (const pair of PROTOCOL_PAIRS) {
    const m = results.find((r) => r.id === pair.mesh);
    const n = results.find((r) => r.id === pair.nginx);
    if (m?.wrk && n?.wrk) log(`\n${pair.what}: Meshdeck ${f(m.wrk.rps / n.wrk.rps)}× nginx's req/s (${Math.round(m.wrk.rps)} vs ${Math.round(n.wrk.rps)}; p50 ${f(m.wrk.latencyMs.p50)} vs ${f(n.wrk.latencyMs.p50)} ms)`);
  }
  if (mesh?.rss) log(`\nMeshdeck memory: VmRSS ${mib(mesh.rss.underLoadKiB)} MiB at the end of its wrk run (peak VmHWM ${mib(mesh.rss.peakKiB)} MiB, pid ${mesh.pid})`);
  for (const r of results.filter((x) => x.error)) log(`\n${r.label} FAILED: ${r.error}`);
  const loadBound = results.filter((r) => r.id !== 'direct' && r.cpuBusy?.[options.loadCpu] >= 97 && r.cpuBusy?.[options.proxyCpu] < 90);
  if (loadBound.length) log(`\nNOTE: the load core (${options.loadCpu}) was saturated before the proxy core during ${loadBound.map((r) => r.id).join(', ')}: their req/s are lower bounds.`);
  const busy = results.filter((r) => r.others?.percent > 5 || r.fixed?.others?.percent > 5);
  if (busy.length) log(`\nWARNING: other processes or the hypervisor (steal) took CPU during ${busy.map((r) => r.id).join(', ')} ("other %" = share of one core they used): rerun on a quiet machine before quoting these figures.`);
  log('\nTargets');
  for (const t of targets) log(`  ${t.verdict.padEnd(4)}  ${t.name}: ${t.note}`);
  if (mesh?.standIn) log('  (the Meshdeck row ran the undici stand-in, not the engine: these verdicts say nothing about Meshdeck)');
}

const signed = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

export function writeJson(file, run) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
}
