// The access log's way to disk (or stdout/stderr): a bounded in-memory buffer that the request path
// appends a line to and never waits on, drained by one async writer per destination that writes
// whatever has accumulated in one batch. When the buffer is over its bound (a slow or stuck disk),
// new lines are dropped and counted instead of adding latency or memory. Stats are Envoy's file
// access-log stats (`filesystem.*`) plus Meshdeck's `filesystem.write_dropped`.

import { open, type FileHandle } from 'node:fs/promises';
import { write as fsWrite } from 'node:fs';
import type { Counter, Gauge, StatsStore } from '../stats';

/** Where a writer's batches go. */
export interface WriteTarget {
  /** A name for messages: the file path, or "stdout"/"stderr". */
  readonly name: string;
  /** Opens the destination (again, after close, to reopen a rotated file). */
  open(): Promise<void>;
  write(data: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** A file opened for appending. */
export class FileTarget implements WriteTarget {
  private fh: FileHandle | undefined;
  constructor(readonly name: string) {}

  async open(): Promise<void> {
    this.fh = await open(this.name, 'a');
  }

  async write(data: Buffer): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error(`${this.name} is not open`);
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

/** An inherited descriptor (1 = stdout, 2 = stderr), written from libuv's thread pool so a slow reader never stalls the event loop. */
export class FdTarget implements WriteTarget {
  constructor(
    readonly name: string,
    private readonly fd: number,
  ) {}

  async open(): Promise<void> {}

  async write(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      try {
        off += await new Promise<number>((resolve, reject) => fsWrite(this.fd, data, off, data.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
      } catch (e) {
        // A non-blocking pipe or terminal that is full: wait for the reader.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  async close(): Promise<void> {}
}

export interface WriterStats {
  /** Lines moved into the buffer (Envoy: filesystem.write_buffered). */
  buffered: Counter;
  /** Batches written (filesystem.write_completed). */
  completed: Counter;
  /** Batches that failed to write (filesystem.write_failed); their lines count as dropped. */
  failed: Counter;
  /** Opens that failed (filesystem.reopen_failed); the lines waiting count as dropped. */
  reopenFailed: Counter;
  /** Lines dropped: the buffer was full, or the write failed (filesystem.write_dropped, Meshdeck's). */
  dropped: Counter;
  /** Bytes waiting or being written (filesystem.write_total_buffered). */
  totalBuffered: Gauge;
}

export function writerStats(store: StatsStore): WriterStats {
  return {
    buffered: store.counter('filesystem.write_buffered'),
    completed: store.counter('filesystem.write_completed'),
    failed: store.counter('filesystem.write_failed'),
    reopenFailed: store.counter('filesystem.reopen_failed'),
    dropped: store.counter('filesystem.write_dropped'),
    totalBuffered: store.gauge('filesystem.write_total_buffered'),
  };
}

/** Default bound of one writer's buffer (characters waiting plus being written). */
export const DEFAULT_BUFFER_LIMIT = 8 * 1024 * 1024;
/**
 * Lines wait at most this long before a batch goes out, unless FLUSH_CHARS have gathered first
 * (Envoy batches the same way: its flush interval or a full buffer). Writing every event-loop turn
 * instead cost a thread-pool round trip per handful of lines: about a third of the proxy's
 * throughput at 16k req/s.
 */
export const FLUSH_INTERVAL_MS = 100;
const FLUSH_CHARS = 64 * 1024;

export class BufferedWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  private pendingLines = 0;
  private inFlightChars = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private opened = false;
  private reopenWanted = false;
  private closed = false;
  /** Lines this writer dropped. */
  dropped = 0;
  /** Lines this writer wrote. */
  written = 0;
  /** The last write or open error, for the console. */
  lastError: string | undefined;

  constructor(
    readonly target: WriteTarget,
    private readonly stats: WriterStats,
    readonly limit = DEFAULT_BUFFER_LIMIT,
  ) {}

  get name(): string {
    return this.target.name;
  }

  /** Characters buffered and not yet written. */
  get bufferedChars(): number {
    return this.pendingChars + this.inFlightChars;
  }

  /** Appends one line (it carries its own '\n'). Never blocks, never throws. */
  write(line: string): void {
    const n = line.length;
    if (this.closed || this.pendingChars + this.inFlightChars + n > this.limit) {
      this.dropped++;
      this.stats.dropped.inc();
      return;
    }
    this.pending.push(line);
    this.pendingChars += n;
    this.pendingLines++;
    this.stats.buffered.inc();
    this.stats.totalBuffered.inc(n);
    if (!this.running) this.schedule();
  }

  /** A batch goes out on the next turn when it is big, else when the flush interval is up. */
  private schedule(): void {
    if (this.scheduled) return;
    if (this.pendingChars >= FLUSH_CHARS) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.scheduled = true;
      setImmediate(this.kick);
    } else this.timer ??= setTimeout(this.kick, FLUSH_INTERVAL_MS);
  }

  /** Reopen the destination before the next write (log rotation; a config reload). */
  reopen(): void {
    if (this.opened) this.reopenWanted = true;
  }

  private readonly kick = (): void => {
    this.scheduled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.pending.length) this.schedule();
    });
  };

  private async drain(): Promise<void> {
    while (this.pending.length) {
      if (!this.opened || this.reopenWanted) {
        try {
          if (this.opened) await this.target.close();
          this.opened = false;
          await this.target.open();
          this.opened = true;
          this.reopenWanted = false;
        } catch (e) {
          this.lastError = (e as Error).message;
          this.stats.reopenFailed.inc();
          this.dropPending();
          return;
        }
      }
      const batch = this.pending;
      const lines = this.pendingLines;
      const chars = this.pendingChars;
      this.pending = [];
      this.pendingLines = 0;
      this.pendingChars = 0;
      this.inFlightChars = chars;
      try {
        await this.target.write(Buffer.from(batch.join(''), 'utf8'));
        this.stats.completed.inc();
        this.written += lines;
      } catch (e) {
        this.lastError = (e as Error).message;
        this.stats.failed.inc();
        this.dropped += lines;
        this.stats.dropped.inc(lines);
      } finally {
        this.inFlightChars = 0;
        this.stats.totalBuffered.dec(chars);
      }
    }
  }

  private dropPending(): void {
    this.dropped += this.pendingLines;
    this.stats.dropped.inc(this.pendingLines);
    this.stats.totalBuffered.dec(this.pendingChars);
    this.pending = [];
    this.pendingLines = 0;
    this.pendingChars = 0;
  }

  /** Resolves when everything buffered so far has been written (or dropped). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      else if (this.pending.length) this.kick();
      else return;
    }
  }

  /** Flushes, then closes the destination; later lines are dropped. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.opened) {
      this.opened = false;
      await this.target.close().catch(() => {});
    }
  }
}
