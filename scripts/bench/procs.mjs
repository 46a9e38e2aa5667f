// Child processes for the bench: start (optionally pinned with taskset), wait until ready, read
// their memory, and stop every one of them on any exit path (normal end, failure, Ctrl-C).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const live = new Set();
const cleanups = [];
let stopping = false;
const TAIL = 8192;

export const isStopping = () => stopping;

/** Run `fn` (synchronous) when the bench ends, however it ends: e.g. remove the temp dir. */
export function onCleanup(fn) { cleanups.push(fn); }
function runCleanups() { while (cleanups.length) { try { cleanups.pop()(); } catch { /* best effort */ } } }

/** Start `cmd args` with its own stdout/stderr captured (a tail is kept for error messages). */
export function start(name, cmd, args, { cpu, cwd, env, onLine } = {}) {
  if (stopping) throw new Error('the bench is stopping');
  const [file, argv] = cpu == null ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
  const child = spawn(file, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = {
    name, child, pid: child.pid, cmdline: [file, ...argv].join(' '),
    out: '', err: '', exit: null,
    exited: new Promise((resolve) => child.on('close', (code, signal) => {
      proc.exit = { code, signal }; live.delete(proc); resolve(proc.exit);
    })),
  };
  child.on('error', (e) => { proc.err += `\n${e.message}`; });
  live.add(proc);
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (s) => {
    proc.out = (proc.out + s).slice(-TAIL);
    if (!onLine) return;
    partial += s;
    let i;
    while ((i = partial.indexOf('\n')) >= 0) { onLine(partial.slice(0, i)); partial = partial.slice(i + 1); }
    if (partial.length > 1 << 20) partial = ''; // a process that never prints a newline
  });
  child.stderr.setEncoding('utf8').on('data', (s) => { proc.err = (proc.err + s).slice(-TAIL); });
  return proc;
}

/** A short description of how a process ended, with the tail of its stderr. */
export function describeExit(proc) {
  const how = proc.exit ? (proc.exit.signal ? `killed by ${proc.exit.signal}` : `exited with code ${proc.exit.code}`) : 'still running';
  // Stack frames say little here: keep the error's own line(s) and the last lines that are not frames.
  const lines = (proc.err || proc.out).trim().split('\n').filter((l) => !/^\s+at |^\s*$/.test(l));
  const first = lines.find((l) => /\b\w*Error\b|\berror\b|\[ALERT\]|emerg/i.test(l));
  const tail = [...new Set([...(first ? [first] : []), ...lines.slice(-8)])].join('\n    ');
  return `${proc.name} ${how}${tail ? `:\n    ${tail}` : ''}`;
}

/** Start a process that prints `{"event":"ready",...}` on stdout; resolve with that object. */
export async function startWithReadyLine(name, cmd, args, opts = {}, timeoutMs = 10_000) {
  let onReady;
  const ready = new Promise((resolve) => { onReady = resolve; });
  const proc = start(name, cmd, args, {
    ...opts,
    onLine(line) {
      const t = line.trim();
      if (!t.startsWith('{')) return;
      try { const msg = JSON.parse(t); if (msg && msg.event === 'ready') onReady(msg); } catch { /* not ours */ }
    },
  });
  const result = await Promise.race([
    ready.then((msg) => ({ msg })),
    proc.exited.then(() => ({ died: true })),
    deadline(timeoutMs).then(() => ({ timeout: true })),
  ]);
  if (result.msg) return { proc, ready: result.msg };
  await stop(proc);
  if (result.died) throw new Error(`${name} did not become ready: ${describeExit(proc)}`);
  throw new Error(`${name} did not print its ready line within ${timeoutMs / 1000} s (${proc.cmdline})\n    ${describeExit(proc)}`);
}

/** Poll `url` until it answers 2xx; fail if the process dies or after timeoutMs. */
export async function waitHttpReady(proc, url, timeoutMs = 10_000, options = {}) {
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < until) {
    if (proc.exit) throw new Error(`${proc.name} did not become ready: ${describeExit(proc)}`);
    try {
      const status = await httpGetStatus(url, options);
      if (status >= 200 && status < 300) return;
      last = `HTTP ${status}`;
    } catch (e) { last = e.code || e.message; }
    await sleep(50);
  }
  await stop(proc);
  throw new Error(`${proc.name} not ready within ${timeoutMs / 1000} s at ${url} (last: ${last})\n    ${describeExit(proc)}`);
}

function httpGetStatus(url, options) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 1000, ...options }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** SIGTERM, then SIGKILL (the process and anything it forked) after graceMs. */
export async function stop(proc, graceMs = 3000) {
  if (!proc || proc.exit) return;
  const tree = [proc.pid, ...descendants(proc.pid)];
  try { process.kill(proc.pid, 'SIGTERM'); } catch { /* already gone */ }
  const done = await Promise.race([proc.exited.then(() => true), deadline(graceMs).then(() => false)]);
  for (const pid of tree) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  if (!done) await Promise.race([proc.exited, deadline(1000)]);
}

export async function stopAll() {
  await Promise.all([...live].map((p) => stop(p)));
}

/** Last-resort synchronous cleanup, for process.on('exit'). */
export function killAllNow() {
  for (const p of live) {
    for (const pid of [...descendants(p.pid), p.pid]) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }
}

/** Make every exit path of the bench stop the processes it started. */
export function installCleanupHandlers() {
  const bail = async (why, code) => {
    if (stopping) { killAllNow(); process.exit(code); }
    stopping = true;
    console.error(`\n${why}: stopping ${live.size} process(es)…`);
    await stopAll();
    runCleanups();
    process.exit(code);
  };
  process.on('SIGINT', () => bail('interrupted', 130));
  process.on('SIGTERM', () => bail('terminated', 143));
  process.on('SIGHUP', () => bail('hang-up', 129));
  process.on('exit', () => { killAllNow(); runCleanups(); });
}

/** pids of all descendants of `pid`, from /proc. */
export function descendants(pid) {
  const children = new Map();
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = safeRead(`/proc/${name}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()) ?? []) { out.push(c); queue.push(c); }
  }
  return out;
}

/** pids from `pid`'s parent up to (not including) init: for us, the shell and npm that ran us. */
export function ancestors(pid) {
  const out = [];
  for (let p = pid; p > 1;) {
    const stat = safeRead(`/proc/${p}/stat`);
    if (!stat) break;
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (p > 1) out.push(p);
  }
  return out;
}

/** VmRSS and VmHWM in KiB of one process, or null when it is gone. */
export function memoryOf(pid) {
  const status = safeRead(`/proc/${pid}/status`);
  if (!status) return null;
  const field = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** VmRSS of a process plus its descendants (nginx: master + worker), in KiB. */
export function treeRssKiB(pid) {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) total += memoryOf(p)?.rssKiB || 0;
  return total;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Like sleep, but does not keep the process alive: for the time limit side of a Promise.race. */
export const deadline = (ms) => new Promise((r) => setTimeout(r, ms).unref());

function safeRead(p) { try { return readFileSync(p, 'utf8'); } catch { return null; } }
function safeReaddir(p) { try { return readdirSync(p); } catch { return []; } }
