// The capture journal: recorded exchanges appended to disk as NDJSON (one JSON object a line),
// written out and fdatasync'd in batches every `flushMs` (100 ms), so a crash — even kill -9 —
// loses at most the last batch. A torn last line is skipped on reading. Bounded: segments of
// maxBytes/segments bytes, the oldest deleted when there are more than `segments` (what rotation
// dropped is counted), and a pending buffer that drops (and counts) rather than grow without end.

import { closeSync, fdatasync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, write, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedBody, RecordedExchange } from './exchange';

export interface JournalOptions {
  /** Total bytes on disk before the oldest segment goes (default 128 MiB). */
  maxBytes?: number;
  /** Number of segments the budget is split into (default 4). */
  segments?: number;
  /** Write + fdatasync interval (default 100 ms). */
  flushMs?: number;
  /** Bytes waiting for the disk beyond which new exchanges are dropped (default 16 MiB). */
  maxPendingBytes?: number;
}

export interface JournalStats {
  written: number;
  /** Dropped because the disk fell behind (pending buffer full). */
  droppedPending: number;
  /** Exchanges in segments deleted by rotation. */
  droppedRotated: number;
  bytesOnDisk: number;
  writeErrors: number;
}

const SEGMENT = /^journal-(\d{6})\.ndjson$/;
const segmentName = (n: number) => `journal-${String(n).padStart(6, '0')}.ndjson`;

export class JournalWriter {
  private readonly maxSegmentBytes: number;
  private readonly segmentsKept: number;
  private readonly maxPendingBytes: number;
  private pending: RecordedExchange[] = [];
  private pendingBytes = 0;
  private writing = false;
  private fd = -1;
  private segment = 0;
  private segmentBytes = 0;
  /** Segment number → [records, bytes], for what rotation drops. */
  private readonly segmentInfo = new Map<number, { records: number; bytes: number }>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private flushedWaiters: Array<() => void> = [];
  readonly stats: JournalStats = { written: 0, droppedPending: 0, droppedRotated: 0, bytesOnDisk: 0, writeErrors: 0 };

  constructor(
    readonly dir: string,
    opts: JournalOptions = {},
  ) {
    const maxBytes = opts.maxBytes ?? 128 * 1024 * 1024;
    this.segmentsKept = Math.max(1, opts.segments ?? 4);
    this.maxSegmentBytes = Math.max(4096, Math.floor(maxBytes / this.segmentsKept));
    this.maxPendingBytes = opts.maxPendingBytes ?? 16 * 1024 * 1024;
    mkdirSync(dir, { recursive: true });
    const existing = listSegments(dir);
    this.openSegment((existing.at(-1) ?? 0) + 1);
    this.timer = setInterval(() => this.flush(), opts.flushMs ?? 100);
    this.timer.unref();
  }

  /** Queues one exchange; nothing is serialised or written on the caller's path. */
  append(x: RecordedExchange): void {
    if (this.closed) return;
    const size = 512 + (x.requestBody?.data.length ?? 0) * 1.4 + (x.responseBody?.data.length ?? 0) * 1.4;
    if (this.pendingBytes + size > this.maxPendingBytes) {
      this.stats.droppedPending++;
      return;
    }
    this.pending.push(x);
    this.pendingBytes += size;
  }

  /** Resolves once everything appended so far is on disk. */
  flushed(): Promise<void> {
    if (!this.pending.length && !this.writing) return Promise.resolve();
    return new Promise((r) => {
      this.flushedWaiters.push(r);
      this.flush();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushed();
    this.closed = true;
    clearInterval(this.timer);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.writing) return;
    if (!this.pending.length) {
      for (const w of this.flushedWaiters.splice(0)) w();
      return;
    }
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const lines: string[] = [];
    for (const x of batch) lines.push(serialize(x));
    const buf = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    this.writing = true;
    const fd = this.fd;
    const seg = this.segment;
    writeAll(fd, buf, (err) => {
      if (err) this.stats.writeErrors++;
      fdatasync(fd, () => {
        this.writing = false;
        if (!err) {
          this.stats.written += batch.length;
          this.stats.bytesOnDisk += buf.length;
          this.segmentBytes += buf.length;
          const info = this.segmentInfo.get(seg)!;
          info.records += batch.length;
          info.bytes += buf.length;
        }
        if (this.segmentBytes >= this.maxSegmentBytes && !this.closed) this.rotate();
        if (this.pending.length) this.flush();
        else for (const w of this.flushedWaiters.splice(0)) w();
      });
    });
  }

  private openSegment(n: number): void {
    this.segment = n;
    this.segmentBytes = 0;
    this.fd = openSync(join(this.dir, segmentName(n)), 'a');
    this.segmentInfo.set(n, { records: 0, bytes: 0 });
  }

  private rotate(): void {
    closeSync(this.fd);
    this.openSegment(this.segment + 1);
    const segs = listSegments(this.dir);
    while (segs.length > this.segmentsKept) {
      const old = segs.shift()!;
      const info = this.segmentInfo.get(old);
      if (info) {
        this.stats.droppedRotated += info.records;
        this.stats.bytesOnDisk -= info.bytes;
        this.segmentInfo.delete(old);
      }
      rmSync(join(this.dir, segmentName(old)), { force: true });
    }
  }
}

function writeAll(fd: number, buf: Buffer, done: (err: Error | null) => void, offset = 0): void {
  write(fd, buf, offset, buf.length - offset, null, (err, n) => {
    if (err) return done(err);
    if (offset + n < buf.length) writeAll(fd, buf, done, offset + n);
    else done(null);
  });
}

function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => SEGMENT.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

type StoredBody = Omit<RecordedBody, 'data'> & { b64: string };

function serialize(x: RecordedExchange): string {
  return JSON.stringify({ ...x, requestBody: storeBody(x.requestBody), responseBody: storeBody(x.responseBody) });
}

function storeBody(b: RecordedBody | undefined): StoredBody | undefined {
  return b ? { b64: b.data.toString('base64'), size: b.size, truncated: b.truncated, mimeType: b.mimeType } : undefined;
}

function loadBody(b: StoredBody | undefined): RecordedBody | undefined {
  return b ? { data: Buffer.from(b.b64, 'base64'), size: b.size, truncated: b.truncated, mimeType: b.mimeType } : undefined;
}

export interface JournalRead {
  exchanges: RecordedExchange[];
  /** 1 when the last line was cut short (the process died mid-write); it is skipped. */
  torn: number;
  /** Other lines that did not parse (skipped). */
  corrupt: number;
}

/** Reads every segment of a journal directory, oldest first. */
export function readJournal(dir: string): JournalRead {
  const out: JournalRead = { exchanges: [], torn: 0, corrupt: 0 };
  const segs = listSegments(dir);
  segs.forEach((n, si) => {
    const text = readFileSync(join(dir, segmentName(n)), 'utf8');
    const lines = text.split('\n');
    const endsClean = text.endsWith('\n') || text.length === 0;
    lines.forEach((line, li) => {
      if (!line) return;
      try {
        const v = JSON.parse(line) as RecordedExchange & { requestBody?: StoredBody; responseBody?: StoredBody };
        out.exchanges.push({ ...v, requestBody: loadBody(v.requestBody as StoredBody | undefined), responseBody: loadBody(v.responseBody as StoredBody | undefined) });
      } catch {
        const last = si === segs.length - 1 && li === lines.length - 1 && !endsClean;
        if (last) out.torn++;
        else out.corrupt++;
      }
    });
  });
  return out;
}

/** Bytes a journal directory holds. */
export function journalBytes(dir: string): number {
  return listSegments(dir).reduce((s, n) => s + statSync(join(dir, segmentName(n))).size, 0);
}

export function writeMeta(dir: string, meta: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
}

export function readMeta<T>(dir: string): T | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as T;
  } catch {
    return undefined;
  }
}
