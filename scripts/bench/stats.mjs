// Exact percentiles over all samples, and per-core CPU use from /proc/stat.
import { readFileSync, readdirSync } from 'node:fs';

/** "other %" (CPU taken by other work, % of one core) above which a run counts as disturbed. */
export const NOISY = 10;
/** How disturbed a row's runs were: the worse of its wrk and fixed-rate runs. */
export const noiseOf = (r) => Math.max(r.others?.percent ?? 0, r.fixed?.others?.percent ?? 0);

/** Nearest-rank percentiles (p in 0..100) of a numeric array; sorts a copy. */
export function percentiles(samples, ps = [50, 90, 99, 99.9]) {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  const out = {};
  for (const p of ps) {
    const key = `p${String(p).replace('.', '')}`; // p50, p99, p999
    out[key] = n === 0 ? null : sorted[Math.min(n - 1, Math.max(0, Math.ceil((p * n) / 100 - 1e-9) - 1))];
  }
  out.max = n ? sorted[n - 1] : null;
  out.mean = n ? sorted.reduce((a, b) => a + b, 0) / n : null;
  out.count = n;
  return out;
}

/** Snapshot of /proc/stat per CPU: [{busy, total}] indexed by cpu number. */
export function cpuSnapshot() {
  const out = [];
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const v = m[2].trim().split(/\s+/).map(Number);
      const idle = v[3] + (v[4] || 0); // idle + iowait
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // without guest (already in user)
      out[Number(m[1])] = { busy: total - idle, total, steal: v[7] || 0 };
    }
  } catch { /* not Linux */ }
  return out;
}

/** Time the hypervisor gave to someone else (steal), summed over the CPUs, in % of one core. */
export function stealPercent(a, b) {
  let steal = 0, total = 0;
  b.forEach((s, i) => { steal += s.steal - (a[i]?.steal ?? 0); total += s.total - (a[i]?.total ?? 0); });
  return total > 0 ? Math.round((100 * steal * b.length) / total) : 0;
}

/** Busy percentage per CPU between two snapshots. */
export function cpuBusyPercent(a, b) {
  return b.map((s, i) => {
    const dt = s.total - (a[i]?.total ?? 0);
    return dt > 0 ? Math.round((100 * (s.busy - a[i].busy)) / dt) : null;
  });
}

/**
 * CPU time (jiffies, incl. reaped children) of every process that is not ours — not `root` and
 * not one of its descendants — to tell when something else on the machine competed with a run.
 * Kernel threads are left out. Returns Map pid → { jiffies, comm }.
 */
export function othersSnapshot(root, ours) {
  const out = new Map();
  const mine = new Set([root, ...ours]);
  let names = [];
  try { names = readdirSync('/proc'); } catch { return out; }
  for (const name of names) {
    if (!/^\d+$/.test(name) || mine.has(Number(name))) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' '); // f[0] = state (field 3)
    const ppid = Number(f[1]);
    if (ppid === 2 || Number(name) === 2) continue; // kernel threads
    const jiffies = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    out.set(Number(name), { jiffies, comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}

/**
 * Share of one core (%) that other processes used between two snapshots, and the top users.
 * Σ after − Σ before over all processes: a process that ended in between has its time moved into
 * its parent's cutime, so it must be subtracted, not skipped.
 */
export function othersPercent(a, b, seconds, hz = 100) {
  const by = new Map();
  const add = (comm, j) => by.set(comm, (by.get(comm) ?? 0) + j);
  let total = 0;
  for (const s of b.values()) { total += s.jiffies; add(s.comm, s.jiffies); }
  for (const s of a.values()) { total -= s.jiffies; add(s.comm, -s.jiffies); }
  const pct = (j) => Math.round((100 * j) / hz / seconds);
  const top = [...by].sort((x, y) => y[1] - x[1]).slice(0, 3).filter(([, j]) => pct(j) > 0).map(([comm, j]) => `${comm} ${pct(j)}%`);
  return { percent: Math.max(0, pct(total)), top };
}
