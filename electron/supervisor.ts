// Keeps the engine running for the desktop shell: starts it with the session's admin token in its
// environment, reads its JSON ready line, restarts it with exponential back-off when it dies (the
// count resets once it has stayed up for a while, and gives up after a bounded number of failures in
// a row), and reports every state change. Stopping sends SIGTERM so the engine drains, and kills
// it only if the drain outlasts its bound. How the process is started is injected (launchers.ts):
// child_process.fork here and in tests, Electron's utilityProcess where chosen.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { EngineState } from './channels';

export type { EngineState };

/** A started engine process, whatever started it. */
export interface EngineChild {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Called once when the process has ended (signal null where the launcher cannot tell). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
}

export type EngineLauncher = (args: string[], env: Record<string, string>) => EngineChild;

/** What the engine's ready line says (engine/cli.ts). */
export interface EngineReady {
  event: 'ready';
  admin: string;
  listeners: { name: string; address: string }[];
}

export interface BackoffOptions {
  /** First restart delay. */
  initialMs: number;
  /** Cap on the doubled delay. */
  maxMs: number;
  /** Consecutive failures after which the supervisor gives up (state `failed`). */
  maxAttempts: number;
  /** Up this long after its ready line, the engine counts as stable: the failure count resets. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, maxAttempts: 8, stableMs: 60_000 };

export interface SupervisorOptions {
  launch: EngineLauncher;
  /** The engine's command line, e.g. ['demo'] or ['-c', 'envoy.yaml', '--watch']. */
  args: string[];
  /** The admin token; a fresh random one by default. Kept across restarts so the console stays signed in. */
  token?: string;
  env?: NodeJS.ProcessEnv;
  backoff?: Partial<BackoffOptions>;
  /** No ready line within this → the start counts as failed. The demo starts mocks and load first. */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM for the drain before SIGKILL. */
  stopTimeoutMs?: number;
  /** The engine's stderr and the supervisor's own notes, line by line. */
  log?: (line: string) => void;
}

/** Restart delay for the n-th consecutive failure (1-based): initial × 2^(n-1), capped. */
export function backoffDelay(attempt: number, b: BackoffOptions): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));
}

/** The ready line, or undefined for any other line. The admin URL must be loopback http: the window loads it. */
export function parseReadyLine(line: string): EngineReady | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const r = v as Partial<EngineReady>;
  if (r.event !== 'ready' || typeof r.admin !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(r.admin);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) return undefined;
  return { event: 'ready', admin: url.origin, listeners: Array.isArray(r.listeners) ? r.listeners : [] };
}

const TAIL_LINES = 8;

export class EngineSupervisor extends EventEmitter {
  readonly token: string;
  private readonly opts: Required<Omit<SupervisorOptions, 'backoff' | 'token' | 'log'>> & { log: (line: string) => void };
  private readonly backoff: BackoffOptions;
  private current: EngineState = { state: 'stopped' };
  private child: EngineChild | undefined;
  private childExited: Promise<void> | undefined;
  private failures = 0;
  private restarts = 0;
  private stopping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  private tail: string[] = [];
  private lastReady: EngineReady | undefined;
  private restartRequested = false;

  constructor(options: SupervisorOptions) {
    super();
    this.token = options.token ?? randomBytes(32).toString('base64url');
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.opts = {
      launch: options.launch,
      args: options.args,
      env: options.env ?? process.env,
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      log: options.log ?? (() => {}),
    };
  }

  get state(): EngineState {
    return this.current;
  }

  /** The last ready line (its admin origin is where the console is). */
  get ready(): EngineReady | undefined {
    return this.current.state === 'ready' ? this.lastReady : undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the engine; also the way out of `failed` (a user's "try again"): the failure count starts over. */
  start(): void {
    if (this.child || this.stopping) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failures = 0;
    this.spawn();
  }

  /** A user's restart: the running engine drains (SIGTERM) and a new one starts at once, not counted as a failure. */
  restart(): void {
    if (this.stopping) return;
    if (!this.child) {
      this.start();
      return;
    }
    if (this.restartRequested) return;
    this.restartRequested = true;
    const child = this.child;
    child.kill('SIGTERM');
    // The same bound as stop(): a drain that does not end is cut short.
    const timer = setTimeout(() => {
      if (this.child === child) child.kill('SIGKILL');
    }, this.opts.stopTimeoutMs);
    timer.unref?.();
    void this.childExited?.then(() => clearTimeout(timer));
  }

  /** SIGTERM, wait (bounded) for the drain, then SIGKILL. No restart afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    clearTimeout(this.readyTimer);
    const child = this.child;
    const exited = this.childExited;
    if (child && exited) {
      this.set({ state: 'stopping' });
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.opts.stopTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.opts.log(`meshdeck: the engine did not finish draining within ${this.opts.stopTimeoutMs} ms; killing it`);
        child.kill('SIGKILL');
        await exited;
      }
    }
    this.set({ state: 'stopped' });
  }

  private set(state: EngineState): void {
    this.current = state;
    this.emit('state', state);
  }

  private spawn(): void {
    this.tail = [];
    this.set({ state: 'starting', attempt: this.failures + 1 });
    let child: EngineChild;
    try {
      child = this.opts.launch(this.opts.args, { ...stringEnv(this.opts.env), MESHDECK_ADMIN_TOKEN: this.token });
    } catch (e) {
      this.failed(`the engine could not be started: ${(e as Error).message}`);
      return;
    }
    this.child = child;
    let readySeen = false;
    this.childExited = new Promise<void>((resolve) => {
      child.onExit((code, signal) => {
        if (this.child === child) this.child = undefined;
        clearTimeout(this.readyTimer);
        clearTimeout(this.stableTimer);
        resolve();
        if (this.stopping) return;
        if (this.restartRequested) {
          this.restartRequested = false;
          this.failures = 0;
          this.restarts += 1;
          this.spawn();
          return;
        }
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.failed(readySeen ? `the engine ${how}` : `the engine ${how} before it was ready`);
      });
    });
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (l) => {
        this.tail.push(l);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        this.opts.log(l);
      });
    }
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (l) => {
        const ready = readySeen ? undefined : parseReadyLine(l);
        if (!ready) {
          this.opts.log(l);
          return;
        }
        readySeen = true;
        clearTimeout(this.readyTimer);
        this.lastReady = ready;
        this.set({ state: 'ready', adminUrl: ready.admin, restarts: this.restarts });
        // A failure after a long healthy run is a new story: restart quickly again.
        this.stableTimer = setTimeout(() => (this.failures = 0), this.backoff.stableMs);
        this.stableTimer.unref?.();
      });
    }
    this.readyTimer = setTimeout(() => {
      if (readySeen || this.child !== child) return;
      this.opts.log(`meshdeck: no ready line from the engine within ${this.opts.readyTimeoutMs} ms; killing it`);
      child.kill('SIGKILL');
    }, this.opts.readyTimeoutMs);
  }

  private failed(why: string): void {
    this.failures += 1;
    const tail = this.tail.length ? `\n${this.tail.join('\n')}` : '';
    if (this.failures >= this.backoff.maxAttempts) {
      this.opts.log(`meshdeck: ${why}; giving up after ${this.failures} failed starts in a row`);
      this.set({ state: 'failed', reason: `${why} (${this.failures} failed starts in a row)${tail}` });
      return;
    }
    const inMs = backoffDelay(this.failures, this.backoff);
    this.opts.log(`meshdeck: ${why}; restarting it in ${inMs} ms`);
    this.set({ state: 'restarting', attempt: this.failures + 1, inMs, at: Date.now() + inMs, reason: `${why}${tail}` });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopping) return;
      this.restarts += 1;
      this.spawn();
    }, inMs);
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
