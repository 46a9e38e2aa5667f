#!/usr/bin/env node
// Open-loop, fixed-rate HTTP load generator (wrk2's idea in Node, since wrk2 is not in Debian).
// Request i is due at t0 + i/rate whether or not earlier ones have answered; its latency is
// measured from that scheduled time, so a stalled server is charged for the queue it causes
// (no coordinated omission). Percentiles are exact, over every measured sample.
//
// Usage: node scripts/bench/fixed-rate.mjs --url=http://127.0.0.1:8080/ [--rate=2000]
//          [--duration=10] [--warmup=2] [--connections=64] [--timeout=10]
// Prints one JSON line with the result on stdout (all times in ms).
//
// Timing: libuv timers tick in whole milliseconds, which at 2,000 req/s (one request every 0.5 ms)
// would add ~0.5 ms of send lag. So a tiny clock thread sleeps with Atomics.wait (sub-ms
// precision, no busy loop) and tells the main thread how many requests are due; the main thread
// sends them. The remaining send lag is measured and reported (sendLagMs) and is included in the
// latency figures, as it is for every row alike.
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { percentiles } from './stats.mjs';

/** Monotonic time in ms with sub-microsecond resolution, the same clock in every thread. */
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// The clock thread: sleep until the next request is due, then post how many are due by now.
const CLOCK = `
const { parentPort, workerData: { t0, interval, total } } = require('node:worker_threads');
const now = () => Number(process.hrtime.bigint()) / 1e6;
const cell = new Int32Array(new SharedArrayBuffer(4));
let next = 0;
while (next < total) {
  const wait = t0 + next * interval - now();
  if (wait > 0.02) Atomics.wait(cell, 0, 0, wait);
  const t = now();
  let due = next;
  while (due < total && t0 + due * interval <= t) due++;
  if (due > next) { parentPort.postMessage(due); next = due; }
}
`;

export async function fixedRate({ url, rate = 2000, durationS = 10, warmupS = 2, connections = 64, timeoutS = 10 }) {
  const u = new URL(url);
  const pool = new Pool(u.origin, {
    connections, pipelining: 1, keepAliveTimeout: 60_000,
    headersTimeout: timeoutS * 1000, bodyTimeout: timeoutS * 1000,
    connect: { rejectUnauthorized: false },
  });
  const path = u.pathname + u.search;
  const interval = 1000 / rate;
  const warmupN = Math.round(rate * warmupS);
  const measureN = Math.round(rate * durationS);
  const total = warmupN + measureN;
  const latency = new Float64Array(measureN).fill(NaN); // completion - scheduled
  const service = new Float64Array(measureN).fill(NaN); // completion - actual send
  const lag = new Float64Array(measureN); // actual send - scheduled: the generator's own delay
  let sent = 0, completed = 0, errors = 0, non2xx = 0, inflight = 0, maxInflight = 0;
  const firstError = [];
  let allDone;
  const finished = new Promise((r) => { allDone = r; });
  const t0 = nowMs() + 50;

  const fire = (i, due) => {
    const at = nowMs();
    inflight++; if (inflight > maxInflight) maxInflight = inflight;
    const record = (ok) => {
      const end = nowMs();
      inflight--; completed++;
      const j = i - warmupN;
      if (j >= 0) {
        lag[j] = at - due;
        if (ok) { latency[j] = end - due; service[j] = end - at; }
      }
      if (completed === total) allDone();
    };
    pool.request({ path, method: 'GET' }).then(
      async ({ statusCode, body }) => {
        await body.dump();
        const ok = statusCode >= 200 && statusCode < 300;
        if (!ok && i >= warmupN) non2xx++;
        record(ok);
      },
      (err) => {
        if (i >= warmupN) { errors++; if (firstError.length < 1) firstError.push(err.code ?? err.message); }
        record(false);
      },
    );
  };

  const clock = new Worker(CLOCK, { eval: true, workerData: { t0, interval, total } });
  clock.on('message', (due) => { while (sent < due) { fire(sent, t0 + sent * interval); sent++; } });
  clock.on('error', (e) => { console.error(`fixed-rate clock: ${e.message}`); process.exit(2); });

  const measureStart = t0 + warmupN * interval;
  const budget = (warmupS + durationS + timeoutS + 5) * 1000;
  const timedOut = await Promise.race([finished.then(() => false), new Promise((r) => setTimeout(() => r(true), budget).unref())]);
  const wall = nowMs() - measureStart;
  await clock.terminate();
  await pool.destroy().catch(() => {});
  if (process.env.FIXED_RATE_DUMP) { // raw samples, for digging into a tail: i, lag, latency (ms)
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.env.FIXED_RATE_DUMP, Array.from(lag, (l, j) => `${j}\t${l.toFixed(4)}\t${latency[j].toFixed(4)}`).join('\n'));
  }
  const ok = Array.from(latency).filter((x) => !Number.isNaN(x));
  const svc = Array.from(service).filter((x) => !Number.isNaN(x));
  return {
    url, rate, durationS, warmupS, connections,
    measured: measureN, ok: ok.length, errors, non2xx, firstError: firstError[0] ?? null,
    timedOut,
    achievedRps: Math.round(ok.length / (wall / 1000)),
    maxInflight,
    latencyMs: percentiles(ok),
    serviceMs: percentiles(svc),
    sendLagMs: percentiles(lag, [50, 99]),
  };
}

function parseArgs(argv) {
  const o = {};
  for (const a of argv) {
    const m = /^--([\w-]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`bad argument ${a} (use --name=value)`);
    o[m[1]] = m[2];
  }
  if (!o.url) throw new Error('--url is required');
  const n = (k, d) => (o[k] == null ? d : Number(o[k]));
  return { url: o.url, rate: n('rate', 2000), durationS: n('duration', 10), warmupS: n('warmup', 2), connections: n('connections', 64), timeoutS: n('timeout', 10) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const result = await fixedRate(parseArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (e) {
    console.error(`fixed-rate: ${e.message}`);
    process.exit(2);
  }
}
