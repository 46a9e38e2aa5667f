// Capture, switched on per listener. One capture session = one journal directory under the
// capture root (<root>/<id>/journal-*.ndjson + meta.json); a session starts when the first
// listener is switched on and ends when the last is switched off. The manager subscribes to the
// connection manager's stream channel only while some listener captures, and only takes streams
// of its own engine (several engines can share a process in tests).

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpStream } from '../listener/stream';
import type { StatsStore } from '../observe/stats';
import type { RecordedExchange } from './exchange';
import { journalBytes, JournalWriter, readJournal, readMeta, writeMeta, type JournalOptions, type JournalRead, type JournalStats } from './journal';
import { attachCaptureTap, streamStartChannel } from './tap';

export const DEFAULT_BODY_CAP = 64 * 1024;

export interface CaptureOptions extends JournalOptions {
  /** Where sessions go (default $MESHDECK_CAPTURE_DIR or <tmp>/meshdeck-captures). */
  root?: string;
  /** Body bytes kept per request and per response (default 64 KiB); the rest is counted and marked truncated. */
  bodyCapBytes?: number;
}

export interface SessionMeta {
  id: string;
  startedMs: number;
  endedMs?: number;
  listeners: string[];
  bodyCapBytes: number;
}

export interface SessionInfo extends SessionMeta {
  dir: string;
  active: boolean;
  bytes: number;
  /** Live counters for the active session. */
  stats?: JournalStats;
}

export function defaultCaptureRoot(): string {
  return process.env.MESHDECK_CAPTURE_DIR || join(tmpdir(), 'meshdeck-captures');
}

export class CaptureManager {
  readonly root: string;
  private readonly listeners = new Set<string>();
  private session: { meta: SessionMeta; writer: JournalWriter } | undefined;
  private bodyCap: number;
  private subscribed = false;
  private seq = 0;

  constructor(
    /** The engine's stats store: identifies its streams on the shared channel. */
    private readonly store: StatsStore,
    private readonly opts: CaptureOptions = {},
  ) {
    this.root = opts.root ?? defaultCaptureRoot();
    this.bodyCap = opts.bodyCapBytes ?? DEFAULT_BODY_CAP;
  }

  get capturing(): string[] {
    return [...this.listeners];
  }

  get bodyCapBytes(): number {
    return this.bodyCap;
  }

  get activeSessionId(): string | undefined {
    return this.session?.meta.id;
  }

  /** Switches capture on for a listener (by name); starts a session when none is running. */
  enable(listener: string, bodyCapBytes?: number): SessionInfo {
    if (bodyCapBytes !== undefined) {
      if (!Number.isInteger(bodyCapBytes) || bodyCapBytes < 0) throw new Error('bodyCapBytes must be a whole number of bytes');
      this.bodyCap = bodyCapBytes;
    }
    if (!this.session) {
      const startedMs = Date.now();
      const id = `cap-${new Date(startedMs).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${(++this.seq).toString(36)}${process.pid.toString(36)}`;
      const dir = join(this.root, id);
      const meta: SessionMeta = { id, startedMs, listeners: [], bodyCapBytes: this.bodyCap };
      writeMeta(dir, meta);
      this.session = { meta, writer: new JournalWriter(dir, this.opts) };
    }
    this.listeners.add(listener);
    const meta = this.session.meta;
    if (!meta.listeners.includes(listener)) {
      meta.listeners.push(listener);
      meta.bodyCapBytes = this.bodyCap;
      writeMeta(this.session.writer.dir, meta);
    }
    if (!this.subscribed) {
      streamStartChannel.subscribe(this.onStream);
      this.subscribed = true;
    }
    return this.info(this.session.writer.dir, meta)!;
  }

  /** Switches capture off for a listener; the session ends (journal closed) with the last one. */
  async disable(listener: string): Promise<void> {
    this.listeners.delete(listener);
    if (this.listeners.size) return;
    await this.stopAll();
  }

  async stopAll(): Promise<void> {
    this.listeners.clear();
    if (this.subscribed) {
      streamStartChannel.unsubscribe(this.onStream);
      this.subscribed = false;
    }
    const s = this.session;
    this.session = undefined;
    if (s) {
      await s.writer.close();
      s.meta.endedMs = Date.now();
      writeMeta(s.writer.dir, s.meta);
    }
  }

  /** Everything captured so far is on disk (tests, export of the active session). */
  async flushed(): Promise<void> {
    await this.session?.writer.flushed();
  }

  private readonly onStream = (message: unknown): void => {
    const stream = message as HttpStream;
    if (stream.hcm.store !== this.store || !this.listeners.has(stream.info.listenerName)) return;
    const writer = this.session?.writer;
    if (!writer) return;
    attachCaptureTap(stream, this.bodyCap, (x) => writer.append(x));
  };

  sessions(): SessionInfo[] {
    if (!existsSync(this.root)) return [];
    const out: SessionInfo[] = [];
    for (const name of readdirSync(this.root)) {
      const dir = join(this.root, name);
      const meta = readMeta<SessionMeta>(dir);
      if (!meta || meta.id !== name) continue;
      out.push(this.info(dir, meta)!);
    }
    return out.sort((a, b) => b.startedMs - a.startedMs);
  }

  private info(dir: string, meta: SessionMeta): SessionInfo | undefined {
    const active = this.session?.meta.id === meta.id;
    return { ...meta, dir, active, bytes: journalBytes(dir), stats: active ? { ...this.session!.writer.stats } : undefined };
  }

  /** The exchanges of a session (the active one is flushed first), numbered in order. */
  async read(id: string): Promise<JournalRead> {
    const dir = this.dirOf(id);
    if (this.session?.meta.id === id) await this.session.writer.flushed();
    return readSession(dir);
  }

  async remove(id: string): Promise<void> {
    if (this.session?.meta.id === id) throw new Error('capture session is running: switch capture off first');
    rmSync(this.dirOf(id), { recursive: true, force: true });
  }

  private dirOf(id: string): string {
    if (!/^[\w.-]+$/.test(id)) throw new Error(`no capture session '${id}'`);
    const dir = join(this.root, id);
    if (!readMeta(dir)) throw new Error(`no capture session '${id}'`);
    return dir;
  }
}

/** Reads a session directory (also after the engine died), exchanges numbered in start order. */
export function readSession(dir: string): JournalRead {
  const r = readJournal(dir);
  r.exchanges.sort((a, b) => a.startedMs - b.startedMs);
  r.exchanges.forEach((x: RecordedExchange, i) => (x.index = i));
  return r;
}
