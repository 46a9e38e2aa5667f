// Run wrk (closed loop, saturating) and parse its --latency report.
import { start, describeExit, stop, deadline } from './procs.mjs';

const UNIT_MS = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SI = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** "635.91us" → 0.63591 (ms) */
export function parseDurationMs(s) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s.trim());
  if (!m) throw new Error(`unparsable wrk duration ${JSON.stringify(s)}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** Parse the text wrk prints with --latency. */
export function parseWrk(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : null; };
  const percentiles = {};
  for (const m of text.matchAll(/^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m|h))\s*$/gm)) {
    percentiles[`p${m[1]}`] = parseDurationMs(m[2]);
  }
  const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
  if (rps == null || percentiles.p50 == null || percentiles.p99 == null) {
    throw new Error(`could not parse wrk output:\n${text.trim().split('\n').map((l) => `    ${l}`).join('\n')}`);
  }
  const total = /^\s+(\d+) requests in ([\d.]+\w+)/m.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const latAvg = /^\s+Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)/m.exec(text);
  const socketErrors = sock ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] } : { connect: 0, read: 0, write: 0, timeout: 0 };
  return {
    rps,
    latencyMs: { ...percentiles, avg: latAvg ? parseDurationMs(latAvg[1]) : null, max: latAvg ? parseDurationMs(latAvg[3]) : null },
    requests: total ? Number(total[1]) : null,
    non2xx3xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    socketErrors,
    errors: (num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0) + Object.values(socketErrors).reduce((a, b) => a + b, 0),
  };
}

/**
 * Run wrk against `url`; `during` (optional) is called while it runs, e.g. to sample memory.
 * Resolves with the parsed report plus the command line.
 */
export async function runWrk(url, { threads, connections, durationS, cpu, timeoutS = 10 }, during) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--timeout', `${timeoutS}s`, '--latency', url];
  const proc = start('wrk', 'wrk', args, { cpu });
  const watcher = during ? during(proc) : null;
  const finished = await Promise.race([proc.exited.then(() => true), deadline((durationS + timeoutS + 10) * 1000).then(() => false)]);
  watcher?.stop?.();
  if (!finished) { await stop(proc); throw new Error(`wrk did not finish in time: ${describeExit(proc)}`); }
  if (proc.exit.code !== 0) throw new Error(`wrk failed: ${describeExit(proc)}`);
  return { ...parseWrk(proc.out), command: `wrk ${args.join(' ')}` };
}
