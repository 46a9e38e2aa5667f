// A SimHost in a child process, driven over Node's IPC channel. The child exits when the
// channel closes, so it never outlives the engine.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimIncidentView } from '../admin/contract';
import type { HostDebug, HostEvent, HostOptions, HostSnapshot, SimBackend } from './host';
import type { IncidentSpec, Scenario } from './scenario';

const ENTRY = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));

type Reply = { id: number; ok: boolean; result?: unknown; error?: string };

export class RemoteSimHost implements SimBackend {
  readonly mode = 'child' as const;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;
  private readonly ready: Promise<void>;

  static async start(scenario: Scenario, onEvent: (e: HostEvent) => void, options: HostOptions = {}): Promise<RemoteSimHost> {
    const r = new RemoteSimHost(scenario, onEvent, options);
    await r.ready;
    return r;
  }

  private constructor(scenario: Scenario, onEvent: (e: HostEvent) => void, options: HostOptions) {
    // execArgv: none of the parent's flags (a test runner's --test, an inspector port).
    this.child = fork(ENTRY, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    this.ready = new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the simulation process exited (${code}) before it started`));
      this.child.once('exit', onExit);
      this.child.once('error', reject);
      this.child.on('message', (m: Reply | { kind: string; event?: HostEvent }) => {
        if ('kind' in m) {
          if (m.kind === 'initialised') {
            this.child.off('exit', onExit);
            resolve();
          } else if (m.kind === 'event' && m.event) onEvent(m.event);
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.holdOpen();
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
      });
    });
    this.child.once('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error('the simulation process exited'));
      this.pending.clear();
    });
    this.child.send({ kind: 'init', scenario, options });
    // The engine's own servers keep its process alive; an idle simulation must not keep it from
    // exiting once they are closed (the child then sees the channel close and exits too). While
    // an answer is awaited, the channel holds the process up.
    this.child.unref();
    void this.ready.then(
      () => this.holdOpen(),
      () => {},
    );
  }

  private holdOpen(): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.pending.size > 0) channel?.ref?.();
    else channel?.unref?.();
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  private call<T>(op: string, arg?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error('the simulation process has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.holdOpen();
      this.child.send({ id, op, arg });
    });
  }

  startMocks(): Promise<Record<string, number[]>> {
    return this.call('startMocks');
  }
  startRun(target: string | undefined): Promise<void> {
    return this.call('startRun', target);
  }
  pause(): Promise<void> {
    return this.call('pause');
  }
  resume(): Promise<void> {
    return this.call('resume');
  }
  setRate(rate: number): Promise<void> {
    return this.call('setRate', rate);
  }
  trigger(spec: IncidentSpec): Promise<SimIncidentView> {
    return this.call('trigger', spec);
  }
  snapshot(): Promise<HostSnapshot> {
    return this.call('snapshot');
  }
  debug(): Promise<HostDebug> {
    return this.call('debug');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call('stop').catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
