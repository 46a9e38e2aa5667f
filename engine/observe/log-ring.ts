// The recent access-log entries the console pages through: a fixed-size ring, newest last.
// It says how many it has evicted, so a reader knows the history is partial.

import type { AccessLogEntry, AccessLogFilter } from '../admin/contract';
import { parseResponseFlags } from './response-flags';

export class LogRing {
  private readonly buf: Array<AccessLogEntry | undefined>;
  private next = 0; // total entries ever pushed
  constructor(readonly capacity = 20_000) {
    this.buf = new Array(capacity);
  }

  push(e: AccessLogEntry): void {
    this.buf[this.next % this.capacity] = e;
    this.next++;
  }

  get evicted(): number {
    return Math.max(0, this.next - this.capacity);
  }

  /** Newest first, entries with id < before (all when undefined), at most `limit` matching `match`. */
  page(match: (e: AccessLogEntry) => boolean, before: number | undefined, limit: number): { entries: AccessLogEntry[]; nextCursor: number | null } {
    const out: AccessLogEntry[] = [];
    const oldest = this.evicted;
    // ids are 0-based positions in the stream of pushes.
    let i = Math.min(this.next, before ?? this.next) - 1;
    for (; i >= oldest && out.length < limit; i--) {
      const e = this.buf[i % this.capacity]!;
      if (match(e)) out.push(e);
    }
    return { entries: out, nextCursor: i >= oldest ? i + 1 : null };
  }

  get size(): number {
    return Math.min(this.next, this.capacity);
  }

  get nextId(): number {
    return this.next;
  }
}

/** Compiles the console's filters once; the result runs per entry. */
export function compileLogFilter(f: AccessLogFilter): (e: AccessLogEntry) => boolean {
  const tests: Array<(e: AccessLogEntry) => boolean> = [];
  if (f.status) {
    const classes = f.status.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    tests.push((e) =>
      classes.some((c) => (c.endsWith('xx') ? Math.floor(e.status / 100) === Number(c[0]) : e.status === Number(c))),
    );
  }
  if (f.method) {
    const m = f.method.toUpperCase();
    tests.push((e) => e.method === m);
  }
  if (f.cluster) {
    const c = f.cluster;
    tests.push((e) => e.cluster === c);
  }
  if (f.host) {
    const h = f.host;
    tests.push((e) => e.upstreamHost === h);
  }
  if (f.path) {
    const p = f.path;
    tests.push((e) => e.path.includes(p));
  }
  if (f.flags) {
    const want = parseResponseFlags(f.flags);
    if (want) tests.push((e) => (parseResponseFlags(e.flags === '-' ? '' : e.flags) & want) !== 0);
  }
  if (f.filter) {
    const name = f.filter;
    tests.push((e) => e.refusedBy !== undefined && (e.refusedBy === name || e.refusedBy.endsWith(`.${name}`)));
  }
  if (f.minDurationMs !== undefined && Number.isFinite(f.minDurationMs)) {
    const d = f.minDurationMs;
    tests.push((e) => e.durationMs >= d);
  }
  if (tests.length === 0) return () => true;
  return (e) => tests.every((t) => t(e));
}

/** Reads AccessLogFilter from URL query parameters. */
export function filterFromQuery(q: URLSearchParams): AccessLogFilter {
  const f: AccessLogFilter = {};
  for (const k of ['status', 'method', 'cluster', 'host', 'path', 'flags', 'filter'] as const) {
    const v = q.get(k);
    if (v) f[k] = v;
  }
  const d = q.get('minDurationMs');
  if (d !== null && d !== '') f.minDurationMs = Number(d);
  return f;
}

