// --repeat=N: fold the N measurements of each row into one, figure by figure (median) over the
// undisturbed runs (all runs when none was), keeping the raw runs and the req/s range.
import { NOISY } from './stats.mjs';

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Median of every numeric leaf (same shape as the first object); non-numbers from the last one. */
function medianOf(objs) {
  const ok = objs.filter((o) => o != null);
  if (!ok.length) return undefined;
  const last = ok[ok.length - 1];
  if (typeof last !== 'object' || last === null || Array.isArray(last)) {
    return typeof last === 'number' ? median(ok) : last;
  }
  const out = {};
  for (const k of Object.keys(last)) out[k] = medianOf(ok.map((o) => o?.[k]));
  return out;
}

/** The most disturbed of the runs used: noise is reported at its worst, not its median. */
const worst = (list) => list.filter(Boolean).reduce((a, b) => (b.percent > a.percent ? b : a), { percent: 0, processes: 0, steal: 0, top: [] });

/** Runs to take medians over: the undisturbed ones, or all of them when none was. */
function quietest(runs, othersOf) {
  const quiet = runs.filter((r) => (othersOf(r)?.percent ?? 0) <= NOISY);
  return quiet.length ? quiet : runs;
}

/**
 * rounds: [[result, …], …] (one list per round, same rows). Returns one result per row. The wrk
 * figures and the fixed-rate figures each take the median over their own undisturbed runs.
 */
export function aggregate(rounds) {
  if (rounds.length === 1) return rounds[0];
  const ids = [...new Set(rounds.flat().map((r) => r.id))];
  return ids.map((id) => {
    const runs = rounds.map((round) => round.find((r) => r.id === id)).filter(Boolean);
    const ok = runs.filter((r) => !r.error && r.wrk);
    if (!ok.length) return { ...runs[runs.length - 1], runs };
    const w = quietest(ok, (r) => r.others);
    const withFixed = ok.filter((r) => r.fixed);
    const f = quietest(withFixed, (r) => r.fixed.others);
    const rps = w.map((r) => r.wrk.rps);
    return {
      ...ok[ok.length - 1],
      wrk: medianOf(w.map((r) => r.wrk)),
      rss: medianOf(w.map((r) => r.rss)),
      cpuBusy: w[0].cpuBusy?.map((_, i) => Math.round(median(w.map((r) => r.cpuBusy?.[i])))),
      others: worst(w.map((r) => r.others)),
      fixed: f.length ? { ...medianOf(f.map((r) => r.fixed)), others: worst(f.map((r) => r.fixed.others)) } : undefined,
      rpsRange: [Math.min(...rps), Math.max(...rps)],
      medianOf: { wrk: w.length, fixed: f.length },
      failedRuns: runs.length - ok.length,
      runs,
    };
  });
}
