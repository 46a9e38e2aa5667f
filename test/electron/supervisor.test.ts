// The shell's engine supervisor against the REAL engine: bin/meshdeck.mjs forked through the same
// launcher the app uses (Electron's binary cannot run here, so Electron itself is not involved).
// Ready line → admin URL answering with the session token; stop → SIGTERM and a clean exit; a
// config that never starts → bounded retries, then `failed` with the engine's own error. The
// back-off arithmetic over several crashes uses a stand-in that starts in milliseconds; the real
// engine's kill -9 → restart is in shell.test.ts, with the renderer's view of it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkLauncher } from '../../electron/launchers';
import { backoffDelay, DEFAULT_BACKOFF, EngineSupervisor, parseReadyLine, type EngineChild, type EngineLauncher, type EngineState } from '../../electron/supervisor';
import { waitFor } from './fake-electron';
import { bootstrap } from '../helpers/engine';

const BIN = fileURLToPath(new URL('../../bin/meshdeck.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'meshdeck-supervisor-'));
const supervisors: EngineSupervisor[] = [];
after(async () => {
  await Promise.all(supervisors.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

// Everything on port 0: tests run in parallel with the rest of the suite.
const CONFIG = bootstrap({
  routes: `- match: { prefix: "/" }\n  direct_response: { status: 200, body: { inline_string: "hello from the engine" } }`,
  clusters: '',
});
const configFile = join(dir, 'envoy.yaml');
writeFileSync(configFile, CONFIG);

interface Exit {
  pid: number | undefined;
  code: number | null;
  signal: string | null;
}

/** The app's launcher, recording how each engine process ended. */
function recordingLauncher(base: EngineLauncher, exits: Exit[]): EngineLauncher {
  return (args, env) => {
    const child = base(args, env);
    const pid = child.pid;
    const wrapped: EngineChild = {
      get pid() {
        return child.pid;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      kill: (s) => child.kill(s),
      onExit: (l) =>
        child.onExit((code, signal) => {
          exits.push({ pid, code, signal });
          l(code, signal);
        }),
    };
    return wrapped;
  };
}

function supervise(opts: Partial<ConstructorParameters<typeof EngineSupervisor>[0]> & { exits?: Exit[] } = {}) {
  const exits = opts.exits ?? [];
  const states: EngineState[] = [];
  const log: string[] = [];
  const s = new EngineSupervisor({
    launch: recordingLauncher(forkLauncher(BIN), exits),
    args: ['-c', configFile, '--drain-time-s', '1'],
    log: (l) => log.push(l),
    ...opts,
  });
  s.on('state', (st: EngineState) => states.push(st));
  supervisors.push(s);
  return { s, states, exits, log };
}

const ready = (s: EngineSupervisor) => waitFor<EngineState>(s, 'state', (st) => st.state === 'ready', 30_000, 'the ready state');

async function adminStatus(adminUrl: string, token?: string): Promise<number> {
  const r = await fetch(`${adminUrl}/server_info`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await r.arrayBuffer();
  return r.status;
}

test('the real engine: ready line parsed, the admin URL answers with the session token only; stop sends SIGTERM, it drains and exits 0', async () => {
  const { s, states, exits } = supervise();
  assert.match(s.token, /^[A-Za-z0-9_-]{43}$/, 'a fresh 256-bit token');
  const p = ready(s);
  s.start();
  const st = (await p) as Extract<EngineState, { state: 'ready' }>;
  assert.match(st.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s.ready?.listeners[0]?.name, 'ingress');
  // (The fetches also take the test past the instant after the ready line: engine/cli.ts installs
  // its SIGTERM handler just after printing it, so a signal in between would find the default one.)
  assert.equal(await adminStatus(st.adminUrl, s.token), 200);
  assert.equal(await adminStatus(st.adminUrl), 401);
  assert.equal(await adminStatus(st.adminUrl, 'not-the-token'), 401);
  const body = await (await fetch(`http://${s.ready!.listeners[0]!.address}/`)).text();
  assert.equal(body, 'hello from the engine', 'the proxy serves too');

  const pid = s.pid;
  await s.stop();
  assert.deepEqual(exits, [{ pid, code: 0, signal: null }], 'a clean exit after SIGTERM, not a kill');
  assert.deepEqual(
    states.map((x) => x.state),
    ['starting', 'ready', 'stopping', 'stopped'],
  );
  await assert.rejects(fetch(`${st.adminUrl}/server_info`), 'the admin server is gone');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(states.at(-1)?.state, 'stopped', 'no restart after a stop');
});

test('kill -9: restart after the back-off with a new ready state; the delay doubles while crashes follow each other and resets after a stable run', async () => {
  // A stand-in that starts in milliseconds (the real engine's kill -9 → restart → ready is in
  // shell.test.ts), so the back-off arithmetic can be watched over several crashes.
  const fast = join(dir, 'fast-engine.mjs');
  writeFileSync(fast, `process.on('SIGTERM', () => process.exit(0)); console.log(JSON.stringify({ event: 'ready', admin: 'http://127.0.0.1:9', listeners: [] })); setInterval(() => {}, 1000);\n`);
  const exits: Exit[] = [];
  const { s, states } = supervise({ exits, launch: recordingLauncher(forkLauncher(fast), exits), args: [], backoff: { initialMs: 100, maxMs: 10_000, maxAttempts: 5, stableMs: 1_000 } });
  const crash = async () => {
    const restarting = waitFor<EngineState>(s, 'state', (x) => x.state === 'restarting', 10_000);
    const back = ready(s);
    const pid = s.pid!;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const r = (await restarting) as Extract<EngineState, { state: 'restarting' }>;
    const st = (await back) as Extract<EngineState, { state: 'ready' }>;
    assert.ok(Date.now() - t0 >= r.inMs, 'waited for the back-off');
    assert.notEqual(s.pid, pid, 'a new process');
    return { r, st };
  };
  const p = ready(s);
  s.start();
  await p;
  const a = await crash();
  assert.equal(a.r.inMs, 100);
  assert.equal(a.r.attempt, 2);
  assert.match(a.r.reason, /the engine was killed by SIGKILL$/);
  assert.equal(a.st.restarts, 1);
  const b = await crash();
  assert.equal(b.r.inMs, 200, 'not stable yet: doubled');
  await new Promise((r) => setTimeout(r, 1_300));
  const c = await crash();
  assert.equal(c.r.inMs, 100, 'up longer than stableMs: back to the base delay');
  assert.equal(c.st.restarts, 3);
  assert.deepEqual(exits.map((e) => e.signal), ['SIGKILL', 'SIGKILL', 'SIGKILL']);
  assert.deepEqual(
    states.map((x) => x.state),
    ['starting', 'ready', 'restarting', 'starting', 'ready', 'restarting', 'starting', 'ready', 'restarting', 'starting', 'ready'],
  );
  await s.stop();
});

test('restart (File › Restart Engine): the engine drains, a new one starts at once, and it is not counted as a failure', async () => {
  const fast = join(dir, 'fast-engine-2.mjs');
  writeFileSync(fast, `process.on('SIGTERM', () => process.exit(0)); console.log(JSON.stringify({ event: 'ready', admin: 'http://127.0.0.1:9', listeners: [] })); setInterval(() => {}, 1000);\n`);
  const exits: Exit[] = [];
  const { s, states } = supervise({ exits, launch: recordingLauncher(forkLauncher(fast), exits), args: [] });
  let p = ready(s);
  s.start();
  await p;
  const pid = s.pid;
  p = ready(s);
  s.restart();
  const st = (await p) as Extract<EngineState, { state: 'ready' }>;
  assert.notEqual(s.pid, pid);
  assert.equal(st.restarts, 1);
  assert.deepEqual(exits, [{ pid, code: 0, signal: null }], 'drained on SIGTERM');
  assert.deepEqual(states.map((x) => x.state), ['starting', 'ready', 'starting', 'ready'], 'no restarting/back-off');
  assert.deepEqual(states[2], { state: 'starting', attempt: 1 });
  await s.stop();
});

test('a config the engine refuses: a bounded number of retries, then failed with the engine’s own error; start() tries again', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, `static_resources:\n  clusters:\n  - name: c\n    lb_policy: LEAST_CONN\n`);
  const { s, states } = supervise({ args: ['-c', bad], backoff: { initialMs: 50, maxMs: 1_000, maxAttempts: 2, stableMs: 60_000 } });
  const failed = waitFor<EngineState>(s, 'state', (x) => x.state === 'failed', 60_000);
  s.start();
  const f = (await failed) as Extract<EngineState, { state: 'failed' }>;
  assert.match(f.reason, /exited with code 1 before it was ready/);
  assert.match(f.reason, /2 failed starts in a row/);
  assert.match(f.reason, /LEAST_CONN/, 'the engine’s message is in the reason');
  const delays = states.filter((x): x is Extract<EngineState, { state: 'restarting' }> => x.state === 'restarting').map((x) => x.inMs);
  assert.deepEqual(delays, [50]);
  // "Try again" starts over.
  const again = waitFor<EngineState>(s, 'state', (x) => x.state === 'starting', 5_000);
  s.start();
  assert.deepEqual(await again, { state: 'starting', attempt: 1 });
  await s.stop();
});

test('an engine that ignores SIGTERM is killed once the drain bound passes; one that never says ready is killed and retried', async () => {
  // Not the engine: a Node script that misbehaves on purpose, through the same launcher.
  const stubborn = join(dir, 'stubborn.mjs');
  writeFileSync(stubborn, `process.on('SIGTERM', () => {}); console.log(JSON.stringify({ event: 'ready', admin: 'http://127.0.0.1:9' })); setInterval(() => {}, 1000);\n`);
  const exits: Exit[] = [];
  const a = supervise({ launch: recordingLauncher(forkLauncher(stubborn), exits), args: [], stopTimeoutMs: 300 });
  const p = ready(a.s);
  a.s.start();
  await p;
  const t0 = Date.now();
  await a.s.stop();
  assert.ok(Date.now() - t0 >= 300);
  assert.equal(exits[0]?.signal, 'SIGKILL');
  assert.ok(a.log.some((l) => /did not finish draining within 300 ms/.test(l)));

  const silent = join(dir, 'silent.mjs');
  writeFileSync(silent, `console.log('starting, but never ready'); setInterval(() => {}, 1000);\n`);
  // (2 s: long enough for Node to start and print on a loaded machine.)
  const b = supervise({ launch: forkLauncher(silent), args: [], readyTimeoutMs: 2_000, backoff: { initialMs: 5_000 } });
  const restarting = waitFor<EngineState>(b.s, 'state', (x) => x.state === 'restarting', 5_000);
  b.s.start();
  const r = (await restarting) as Extract<EngineState, { state: 'restarting' }>;
  assert.match(r.reason, /killed by SIGKILL before it was ready/);
  assert.ok(b.log.some((l) => /no ready line from the engine within 2000 ms/.test(l)));
  assert.ok(b.log.includes('starting, but never ready'), 'other stdout lines are logged, not taken for the ready line');
  await b.s.stop();
});

test('ready lines and back-off arithmetic', () => {
  assert.deepEqual(parseReadyLine('{"event":"ready","admin":"http://127.0.0.1:9901","listeners":[{"name":"l","address":"127.0.0.1:1"}]}'), {
    event: 'ready',
    admin: 'http://127.0.0.1:9901',
    listeners: [{ name: 'l', address: '127.0.0.1:1' }],
  });
  // The window loads the admin URL: only loopback http is accepted.
  assert.equal(parseReadyLine('{"event":"ready","admin":"http://evil.example:80"}'), undefined);
  assert.equal(parseReadyLine('{"event":"ready","admin":"file:///etc/passwd"}'), undefined);
  assert.equal(parseReadyLine('{"event":"listening"}'), undefined);
  assert.equal(parseReadyLine('not json'), undefined);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, DEFAULT_BACKOFF)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});
