// The engine's traffic tools in one place (one per engine): capture, the replayable sets
// (imported HARs, capture sessions read back), and replay runs with their results. Everything
// held in memory is bounded: the newest MAX_SETS sets and MAX_RUNS runs are kept.
// A replay aimed at one of this engine's own listeners tags each request with an x-request-id
// and reads the engine's own record of it (upstream host, cluster, response flags).

import type { AccessLogEntry, ReplayRequest, ReplayRunView, TrafficSetView } from '../admin/contract';
import type { Engine } from '../server';
import { CaptureManager, type CaptureOptions, type SessionInfo } from './capture';
import type { RecordedExchange } from './exchange';
import { parseHar } from './har';
import { replayOptions, ReplayError, Replayer, type ReplayResult } from './replay';
import { round, tally } from './stats';

const MAX_SETS = 20;
const MAX_RUNS = 20;
/** Response bytes kept per replayed request (for the results HAR). */
const KEEP_RESPONSE_BYTES = 64 * 1024;

export class TrafficError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface TrafficSet {
  view: TrafficSetView;
  exchanges: RecordedExchange[];
}

export interface ReplayRun {
  view: ReplayRunView;
  replayer: Replayer;
  results: readonly ReplayResult[];
  done: Promise<void>;
}

export class TrafficService {
  readonly capture: CaptureManager;
  private readonly sets = new Map<string, TrafficSet>();
  private readonly runs = new Map<string, ReplayRun>();
  private seq = 0;

  constructor(
    private readonly engine: Engine,
    captureOptions: CaptureOptions = {},
  ) {
    this.capture = new CaptureManager(engine.stats, captureOptions);
  }

  listSets(): TrafficSetView[] {
    return [...this.sets.values()].map((s) => s.view).reverse();
  }

  listRuns(): ReplayRunView[] {
    return [...this.runs.values()].map((r) => this.refresh(r)).reverse();
  }

  getSet(id: string): TrafficSet {
    const s = this.sets.get(id);
    if (!s) throw new TrafficError(404, `no traffic set '${id}'`);
    return s;
  }

  getRun(id: string): ReplayRun {
    const r = this.runs.get(id);
    if (!r) throw new TrafficError(404, `no replay run '${id}'`);
    this.refresh(r);
    return r;
  }

  /** Throws HarError for a broken file. */
  importHar(text: string, name: string): TrafficSet {
    const har = parseHar(text);
    return this.addSet(name, 'har', har.creator, har.exchanges, har.warnings);
  }

  async fromCapture(sessionId: string): Promise<TrafficSet> {
    let read;
    try {
      read = await this.capture.read(sessionId);
    } catch (e) {
      throw new TrafficError(404, (e as Error).message);
    }
    const warnings: string[] = [];
    if (read.torn) warnings.push('the journal ended in a cut-short record (the engine stopped mid-write); it was skipped');
    if (read.corrupt) warnings.push(`${read.corrupt} unreadable journal record(s) skipped`);
    return this.addSet(sessionId, 'capture', 'Meshdeck capture', read.exchanges, warnings);
  }

  private addSet(name: string, source: 'har' | 'capture', creator: string, exchanges: RecordedExchange[], warnings: string[]): TrafficSet {
    const id = `set-${++this.seq}`;
    let min = Infinity;
    let max = -Infinity;
    for (const x of exchanges) {
      min = Math.min(min, x.startedMs);
      max = Math.max(max, x.startedMs);
    }
    const view: TrafficSetView = {
      id,
      name,
      source,
      createdMs: Date.now(),
      entries: exchanges.length,
      creator,
      spanMs: exchanges.length ? round(max - min) : 0,
      methods: tally(exchanges, (x) => x.method),
      warnings,
    };
    const set = { view, exchanges };
    this.sets.set(id, set);
    while (this.sets.size > MAX_SETS) this.sets.delete(this.sets.keys().next().value!);
    return set;
  }

  /** Resolves a target: a listener name of this engine, a URL, or (none) the first listener. */
  private resolveTarget(target: string | undefined): { url: string; own: boolean } {
    const listeners = this.engine.boundListeners();
    const own = new Set(listeners.map((l) => `http://${l.address}`));
    if (!target) {
      if (!listeners.length) throw new TrafficError(400, 'the engine has no listener: give a target URL');
      return { url: `http://${listeners[0].address}`, own: true };
    }
    const byName = listeners.find((l) => l.name === target);
    if (byName) return { url: `http://${byName.address}`, own: true };
    if (!/^https?:\/\//.test(target)) throw new TrafficError(400, `target '${target}' is neither a listener of this engine nor an http(s) URL`);
    return { url: target, own: own.has(new URL(target).origin) };
  }

  replay(req: ReplayRequest): ReplayRun {
    if (typeof req.set !== 'string') throw new TrafficError(400, '"set" must be a traffic set id');
    const set = this.getSet(req.set);
    const { url, own } = this.resolveTarget(req.target);
    const id = `run-${++this.seq}`;
    let options;
    try {
      options = replayOptions({
        target: url,
        mode: req.mode,
        speed: req.speed,
        rate: req.rate,
        concurrency: req.concurrency,
        loop: req.loop,
        filter: req.filter,
        host: req.host,
        dropHeaders: req.dropHeaders,
        setHeaders: req.setHeaders,
        timeoutMs: req.timeoutMs,
        requestIdPrefix: own ? `meshdeck-${id}` : undefined,
        keepResponseBodyBytes: KEEP_RESPONSE_BYTES,
      });
    } catch (e) {
      if (e instanceof ReplayError) throw new TrafficError(400, e.message);
      throw e;
    }
    const replayer = new Replayer(set.exchanges, options);
    const view: ReplayRunView = {
      id,
      label: req.label || `${set.view.name} → ${req.target ?? url}${own && this.engine.snapshot ? ` (config v${this.engine.snapshot.version})` : ''}`,
      set: set.view.id,
      setName: set.view.name,
      target: url,
      options: { mode: options.mode, speed: options.speed, rate: options.rate || undefined, concurrency: options.concurrency, loop: options.loop, filter: options.filter, host: options.host, dropHeaders: options.dropHeaders, setHeaders: options.setHeaders, timeoutMs: options.timeoutMs },
      configVersion: own ? (this.engine.snapshot?.version ?? null) : null,
      state: 'running',
      startedMs: Date.now(),
      finishedMs: null,
      inFlight: 0,
      summary: replayer.summary(),
    };
    // The engine's own record of each tagged request, collected while the run goes.
    const facts = new Map<string, AccessLogEntry>();
    const prefix = options.requestIdPrefix;
    const unsubscribe = prefix
      ? this.engine.observer.onBatch((entries) => {
          for (const e of entries) if (e.requestId.startsWith(prefix)) facts.set(e.requestId, e);
        })
      : undefined;
    const run: ReplayRun = { view, replayer, results: replayer.results, done: Promise.resolve() };
    run.done = (async () => {
      try {
        await replayer.start();
        if (unsubscribe) {
          // The observer hands entries over in batches (every 200 ms): wait for the last one.
          await new Promise((r) => setTimeout(r, 450));
          unsubscribe();
          for (const r of replayer.results) {
            const e = r.requestId ? facts.get(r.requestId) : undefined;
            if (!e) continue;
            r.upstreamHost = e.upstreamHost;
            r.cluster = e.cluster;
            r.flags = e.flags;
            if (r.upstreamServiceTimeMs === null && e.upstreamMs !== null) r.upstreamServiceTimeMs = e.upstreamMs;
          }
        }
        if (view.state === 'running') view.state = 'done';
      } catch (e) {
        unsubscribe?.();
        view.state = 'failed';
        view.error = (e as Error).message;
      }
      view.finishedMs = Date.now();
      this.refresh(run);
    })();
    this.runs.set(id, run);
    while (this.runs.size > MAX_RUNS) {
      const oldest = this.runs.values().next().value!;
      if (oldest.view.state === 'running') break;
      this.runs.delete(oldest.view.id);
    }
    return run;
  }

  async cancel(id: string): Promise<ReplayRun> {
    const run = this.getRun(id);
    if (run.view.state === 'running') {
      run.view.state = 'cancelled';
      await run.replayer.cancel();
    }
    return run;
  }

  private refresh(r: ReplayRun): ReplayRunView {
    r.view.summary = r.replayer.summary();
    r.view.inFlight = r.replayer.progress.inFlight;
    return r.view;
  }

  async close(): Promise<void> {
    for (const r of this.runs.values()) if (r.view.state === 'running') await r.replayer.cancel();
    await this.capture.stopAll();
  }
}

const services = new WeakMap<Engine, TrafficService>();

/** The engine's traffic tools; `captureOptions` count only when they are first created. */
export function trafficFor(engine: Engine, captureOptions?: CaptureOptions): TrafficService {
  let s = services.get(engine);
  if (!s) services.set(engine, (s = new TrafficService(engine, captureOptions)));
  return s;
}

/** On shutdown: finish what capture and replay have going (journals flushed and closed), if anything. */
export async function closeTraffic(engine: Engine): Promise<void> {
  await services.get(engine)?.close();
}

/** The CLI's --capture: capture these listeners from the start. Throws for an unknown listener. */
export function startCapture(engine: Engine, listeners: string[], opts: CaptureOptions): { service: TrafficService; session: SessionInfo } {
  const known = new Set(engine.boundListeners().map((l) => l.name));
  for (const l of listeners) if (!known.has(l)) throw new Error(`no listener '${l}' (listeners: ${[...known].join(', ') || 'none'})`);
  const service = trafficFor(engine, opts);
  let session: SessionInfo | undefined;
  for (const l of listeners) session = service.capture.enable(l);
  return { service, session: session! };
}
