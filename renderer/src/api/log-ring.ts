// The console's bounded access-log store: the newest `capacity` entries, appended in batches from
// the event stream. The ring itself is mutable (copying 100,000 entries five times a second would
// be the cost of immutability); the query cache holds a new small `LogTail` object per change, so
// React sees a new value while the entries are shared.

import type { AccessLogEntry } from '../../../engine/admin/contract';

export const LOG_CAPACITY = 100_000;

export class LogRing {
  private readonly buf: Array<AccessLogEntry | undefined>;
  /** Entries ever appended; entry number s (0-based) lives at buf[s % capacity]. */
  total = 0;

  constructor(readonly capacity = LOG_CAPACITY) {
    this.buf = new Array(capacity);
  }

  push(entries: readonly AccessLogEntry[]): void {
    for (const e of entries) {
      this.buf[this.total % this.capacity] = e;
      this.total++;
    }
  }

  /** The oldest sequence number still held. */
  get first(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /** Rows visible when the view is frozen at `upTo` entries: newest first. */
  count(upTo = this.total): number {
    return Math.max(0, Math.min(upTo, this.total) - this.first);
  }

  /** Row `i` of the newest-first view frozen at `upTo`. */
  at(i: number, upTo = this.total): AccessLogEntry | undefined {
    const s = Math.min(upTo, this.total) - 1 - i;
    if (s < this.first || s < 0) return undefined;
    return this.buf[s % this.capacity];
  }
}

export interface LogTail {
  ring: LogRing;
  /** Bumped on every change so the cache value is new. */
  version: number;
  /** Entries the engine did not send us because the stream fell behind (from `dropped` events). */
  dropped: number;
  /** Entries the engine's own ring had evicted before our history fetch (older than it holds). */
  evicted: number;
  /** When the tail was last (re)connected after an outage: entries in between may be missing. */
  gaps: number;
}

export function newTail(history: readonly AccessLogEntry[] = [], evicted = 0): LogTail {
  const ring = new LogRing();
  ring.push(history);
  return { ring, version: 0, dropped: 0, evicted, gaps: 0 };
}

export function appendToTail(tail: LogTail, entries: readonly AccessLogEntry[]): LogTail {
  tail.ring.push(entries);
  return { ...tail, version: tail.version + 1 };
}
