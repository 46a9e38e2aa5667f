// Where access-log lines go, by Envoy logger name: a registry of sink factories (adding a logger
// type is one line in ACCESS_LOG_SINKS) over one pool of buffered writers per engine. Loggers that
// name the same file share one writer; a writer is taken on a logger's first line (so a config that
// is never committed opens nothing), reopened when a new config starts using it (log rotation works
// by reloading the config), and closed when the last config using it is gone.

import { resolve as resolvePath } from 'node:path';
import type { StatsStore } from '../stats';
import { BufferedWriter, DEFAULT_BUFFER_LIMIT, FdTarget, FileTarget, writerStats, type WriteTarget, type WriterStats } from './writer';

/** One logger's handle on its destination. */
export interface Sink {
  write(line: string): void;
  /** The logger's config is gone: let go of the destination. */
  release(): void;
}

/** Builds a sink from a logger's typed_config (normalized fields). */
export type SinkFactory = (config: Record<string, unknown>, writers: AccessLogWriters) => Sink;

/** Access loggers Meshdeck runs, by Envoy name. */
export const ACCESS_LOG_SINKS: Readonly<Record<string, SinkFactory>> = {
  'envoy.access_loggers.file': (config, writers) => writers.fileSink(String(config.path ?? '')),
  'envoy.access_loggers.stdout': (_config, writers) => writers.streamSink('stdout'),
  'envoy.access_loggers.stderr': (_config, writers) => writers.streamSink('stderr'),
};

export interface WritersOptions {
  /** Bound of each writer's buffer, in characters (default 8 MiB). */
  bufferLimit?: number;
  /** Destinations for stdout / stderr (tests inject their own). */
  streams?: Partial<Record<'stdout' | 'stderr', WriteTarget>>;
}

interface Shared {
  writer: BufferedWriter;
  refs: number;
}

/** The engine's access-log writers. */
export class AccessLogWriters {
  private readonly files = new Map<string, Shared>();
  private readonly streams = new Map<'stdout' | 'stderr', BufferedWriter>();
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  readonly stats: WriterStats;

  constructor(
    store: StatsStore,
    private readonly options: WritersOptions = {},
  ) {
    this.stats = writerStats(store);
  }

  private static readonly byStore = new WeakMap<StatsStore, AccessLogWriters>();

  /** The writers of the engine that owns `store` (one pool per engine). */
  static for(store: StatsStore, options?: WritersOptions): AccessLogWriters {
    let w = AccessLogWriters.byStore.get(store);
    if (!w) AccessLogWriters.byStore.set(store, (w = new AccessLogWriters(store, options)));
    return w;
  }

  private get limit(): number {
    return this.options.bufferLimit ?? DEFAULT_BUFFER_LIMIT;
  }

  /** Takes a reference on the writer of `path`; a config that starts using an open file reopens it. */
  acquireFile(path: string): BufferedWriter {
    const key = resolvePath(path);
    const shared = this.files.get(key);
    if (shared) {
      shared.refs++;
      shared.writer.reopen();
      return shared.writer;
    }
    const writer = new BufferedWriter(new FileTarget(path), this.stats, this.limit);
    this.files.set(key, { writer, refs: 1 });
    return writer;
  }

  releaseFile(writer: BufferedWriter): void {
    const key = resolvePath(writer.name);
    const shared = this.files.get(key);
    if (!shared || shared.writer !== writer) return;
    if (--shared.refs > 0) return;
    this.files.delete(key);
    const p = writer.close().finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  /** The process-wide stdout / stderr writer. */
  stream(which: 'stdout' | 'stderr'): BufferedWriter {
    let w = this.streams.get(which);
    if (!w) {
      const target = this.options.streams?.[which] ?? new FdTarget(which, which === 'stdout' ? 1 : 2);
      this.streams.set(which, (w = new BufferedWriter(target, this.stats, this.limit)));
    }
    return w;
  }

  /** A file sink: takes the writer on its first line, lets go on release. */
  fileSink(path: string): Sink {
    let writer: BufferedWriter | undefined;
    let released = false;
    return {
      write: (line) => {
        if (!writer) {
          if (released || this.closed) {
            this.stats.dropped.inc();
            return;
          }
          writer = this.acquireFile(path);
        }
        writer.write(line);
      },
      release: () => {
        if (released) return;
        released = true;
        if (writer) this.releaseFile(writer);
        writer = undefined;
      },
    };
  }

  streamSink(which: 'stdout' | 'stderr'): Sink {
    const writer = this.stream(which);
    return { write: (line) => writer.write(line), release: () => {} };
  }

  /** Open file writers (path → writer), for the console and tests. */
  openFiles(): Map<string, BufferedWriter> {
    return new Map([...this.files].map(([k, s]) => [k, s.writer]));
  }

  /** Writes out everything buffered so far. */
  async flush(): Promise<void> {
    await Promise.all([...[...this.files.values()].map((s) => s.writer.flush()), ...[...this.streams.values()].map((w) => w.flush()), ...this.closing]);
  }

  /** Engine stop: flush and close every destination. */
  async close(): Promise<void> {
    this.closed = true;
    const files = [...this.files.values()].map((s) => s.writer);
    this.files.clear();
    const streams = [...this.streams.values()];
    this.streams.clear();
    await Promise.all([...files.map((w) => w.close()), ...streams.map((w) => w.flush()), ...this.closing]);
  }
}

/** Engine.stop's hook: flush and close the access logs of the engine that owns `store`. */
export async function closeAccessLogs(store: StatsStore): Promise<void> {
  await AccessLogWriters.for(store).close();
}
