// The open-loop load generator. Arrivals follow a schedule (Poisson or evenly spaced, at a rate
// that may ramp) and never wait for answers: a slow upstream makes requests wait, not arrive
// later, and each request's latency is measured from when it was *due*, so queueing is charged
// to the system under test (no coordinated omission). Requests outstanding are bounded; an
// arrival past the bound is dropped and counted. Two seeded streams, arrivals and contents, so
// changing the rate never changes which requests are sent, only when.

import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { Rng } from './rng';
import type { LoadSpec, MixSpec } from './scenario';
import { compileTemplate, PaymentRefs, type CompiledTemplate } from './template';
import type { SimLatencyView, SimLoadView } from '../admin/contract';

export interface GeneratedRequest {
  seq: number;
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface CompiledMix {
  spec: MixSpec;
  path: CompiledTemplate;
  headers: Array<[string, CompiledTemplate]>;
  body?: CompiledTemplate;
}

/** The request sequence: the same seed gives the same requests in the same order. */
export class RequestSource {
  private readonly rng: Rng;
  private readonly refs = new PaymentRefs();
  private readonly mix: CompiledMix[];
  private readonly cumulative: number[];
  private seq = 0;

  constructor(mix: MixSpec[], seed: number) {
    this.rng = new Rng(seed, 'load/contents');
    this.mix = mix.map((m) => ({
      spec: m,
      path: compileTemplate(m.path, 'request'),
      headers: Object.entries(m.headers).map(([k, v]) => [k, compileTemplate(v, 'request')] as [string, CompiledTemplate]),
      body: m.body !== undefined ? compileTemplate(m.body, 'request') : undefined,
    }));
    const total = mix.reduce((s, m) => s + m.weight, 0);
    let acc = 0;
    this.cumulative = mix.map((m) => (acc += m.weight / total));
  }

  next(): GeneratedRequest {
    const seq = this.seq++;
    const u = this.rng.next();
    let i = this.cumulative.findIndex((c) => u < c);
    if (i < 0) i = this.mix.length - 1;
    const m = this.mix[i];
    const ctx = { rng: this.rng, seq, refs: this.refs };
    const headers: Record<string, string> = {};
    for (const [k, t] of m.headers) headers[k] = String(t.render(ctx) ?? '');
    const path = String(m.path.render(ctx));
    let body: string | undefined;
    if (m.body) {
      const v = m.body.render(ctx);
      body = typeof v === 'string' ? v : JSON.stringify(v);
    }
    return { seq, name: m.spec.name, method: m.spec.method, path, headers, body };
  }
}

/** Gaps between arrivals (ms) at a rate: exponential (Poisson process) or constant. */
export class ArrivalSchedule {
  private readonly rng: Rng;
  constructor(
    private readonly kind: 'poisson' | 'constant',
    seed: number,
  ) {
    this.rng = new Rng(seed, 'load/arrivals');
  }
  gapMs(ratePerS: number): number {
    const mean = 1000 / ratePerS;
    return this.kind === 'poisson' ? this.rng.exponential(mean) : mean;
  }
}

/** Scenario time: runs while the scenario runs, stands still while it is paused. */
export class ScenarioClock {
  private startedAt = 0;
  private pausedAt: number | undefined;
  private pausedTotal = 0;
  private started = false;

  start(): void {
    this.startedAt = performance.now();
    this.started = true;
  }
  get running(): boolean {
    return this.started && this.pausedAt === undefined;
  }
  get paused(): boolean {
    return this.pausedAt !== undefined;
  }
  /** ms of scenario time at monotonic time `at` (default now). */
  now(at = performance.now()): number {
    if (!this.started) return 0;
    const end = this.pausedAt ?? at;
    return Math.max(0, end - this.startedAt - this.pausedTotal);
  }
  pause(): void {
    if (this.started && this.pausedAt === undefined) this.pausedAt = performance.now();
  }
  resume(): void {
    if (this.pausedAt === undefined) return;
    this.pausedTotal += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
  }
}

function newHistogram(): hdr.Histogram {
  // Microseconds, 3 significant digits (quantiles within 0.1%), grows as needed. The JS build: no
  // WebAssembly to initialise, ~0.2 µs a record, nothing to free.
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

function latencyView(h: hdr.Histogram): SimLatencyView {
  if (h.totalCount === 0) return { p50: null, p90: null, p99: null, p999: null, max: null, mean: null };
  const ms = (us: number) => Math.round(us) / 1000;
  return { p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue), mean: ms(h.mean) };
}

interface Second {
  sent: number;
  completed: number;
  errors: number;
  dropped: number;
  hist: hdr.Histogram;
}

const RECENT_SECONDS = 10;

export interface LoadGeneratorOptions {
  /** Keep the first N generated requests (tests). */
  record?: number;
  onError?: (message: string) => void;
}

export class LoadGenerator {
  private readonly source: RequestSource;
  private readonly arrivals: ArrivalSchedule;
  private pool: Pool | undefined;
  private target = '';
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  private lastTick = 0;
  private rateOverride: number | undefined;
  private stopped = false;
  private drained: (() => void) | undefined;

  // Counters since start.
  private sent = 0;
  private completed = 0;
  private dropped = 0;
  private transportErrors = 0;
  private inFlight = 0;
  private maxInFlightSeen = 0;
  private expected = 0;
  private readonly byClass: Record<string, number> = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  private readonly byMix = new Map<string, { sent: number; non2xx: number }>();
  private readonly errorKinds = new Map<string, number>();
  private readonly latency = newHistogram();
  private readonly lag = newHistogram();
  private readonly seconds: Second[] = [];
  private current: Second = { sent: 0, completed: 0, errors: 0, dropped: 0, hist: newHistogram() };
  private secondTimer: NodeJS.Timeout | undefined;
  readonly recorded: GeneratedRequest[] = [];

  constructor(
    private readonly spec: LoadSpec,
    seed: number,
    private readonly clock: ScenarioClock,
    private readonly opts: LoadGeneratorOptions = {},
  ) {
    this.source = new RequestSource(spec.mix, seed);
    this.arrivals = new ArrivalSchedule(spec.arrivals, seed);
    for (const m of spec.mix) this.byMix.set(m.name, { sent: 0, non2xx: 0 });
  }

  /** The target rate at scenario time `t` (ms). */
  rateAt(t: number): number {
    if (this.rateOverride !== undefined) return this.rateOverride;
    const ramp = this.spec.ramp;
    if (ramp.length === 0 || t < ramp[0].atMs) return this.spec.rate;
    for (let i = ramp.length - 1; i >= 0; i--) {
      if (t >= ramp[i].atMs) {
        const next = ramp[i + 1];
        if (!next) return ramp[i].rate;
        const f = (t - ramp[i].atMs) / (next.atMs - ramp[i].atMs);
        return ramp[i].rate + f * (next.rate - ramp[i].rate);
      }
    }
    return this.spec.rate;
  }

  get targetRate(): number {
    return this.rateAt(this.clock.now());
  }

  /** Start sending to `baseUrl` (http://host:port). The clock must be started. */
  start(baseUrl: string): void {
    this.target = baseUrl;
    this.pool = new Pool(new URL(baseUrl).origin, {
      connections: this.spec.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.spec.timeoutMs,
      bodyTimeout: this.spec.timeoutMs,
    });
    const now = performance.now();
    this.lastTick = now;
    this.nextAt = now;
    this.secondTimer = setInterval(() => this.closeSecond(), 1000);
    this.tick();
  }

  setRate(rate: number): void {
    this.rateOverride = rate;
    const now = performance.now();
    // A faster rate takes effect at once; a slower one from the next arrival on.
    if (rate > 0) this.nextAt = Math.min(this.nextAt, now + this.arrivals.gapMs(rate));
    this.reschedule(now);
  }

  /** After a pause: arrivals resume from now (nothing is owed for the paused time). */
  resumed(): void {
    const now = performance.now();
    this.nextAt = now;
    this.lastTick = now;
    this.reschedule(now);
  }

  private reschedule(now: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), Math.max(0, Math.min(this.nextAt - now, 50)));
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = performance.now();
    if (this.clock.paused) {
      this.lastTick = now;
      this.timer = setTimeout(() => this.tick(), 50);
      return;
    }
    if (this.clock.now(now) >= this.spec.warmupMs) this.expected += (this.rateAt(this.clock.now(now)) * (now - this.lastTick)) / 1000;
    this.lastTick = now;
    while (this.nextAt <= now) {
      const rate = this.rateAt(this.clock.now(this.nextAt));
      if (rate <= 0) {
        this.nextAt = now + 50; // idle: look again soon
        break;
      }
      this.fire(this.nextAt);
      this.nextAt += this.arrivals.gapMs(rate);
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, Math.min(this.nextAt - performance.now(), 50)));
  }

  private fire(due: number): void {
    const r = this.source.next(); // drawn even when dropped: the sequence does not depend on the target
    if (this.recorded.length < (this.opts.record ?? 0)) this.recorded.push(r);
    // Requests due during the warm-up are sent, but left out of every figure but the live ones.
    const counted = this.clock.now(due) >= this.spec.warmupMs;
    const mix = this.byMix.get(r.name)!;
    if (this.inFlight >= this.spec.maxInFlight) {
      if (counted) this.dropped++;
      this.current.dropped++;
      return;
    }
    this.inFlight++;
    if (this.inFlight > this.maxInFlightSeen) this.maxInFlightSeen = this.inFlight;
    this.current.sent++;
    if (counted) {
      this.sent++;
      mix.sent++;
      this.lag.recordValue(Math.max(0, Math.round((performance.now() - due) * 1000)));
    }
    this.pool!.request({ method: r.method as 'GET', path: r.path, headers: r.headers, body: r.body }).then(
      async (res) => {
        try {
          await res.body.dump();
        } catch {
          // the answer started; its status counts
        }
        if (counted) {
          const cls = `${Math.floor(res.statusCode / 100)}xx`;
          this.byClass[cls] = (this.byClass[cls] ?? 0) + 1;
          if (res.statusCode >= 300) mix.non2xx++;
        }
        this.done(due, counted, true);
      },
      (err: Error & { code?: string }) => {
        this.current.errors++;
        if (counted) {
          this.transportErrors++;
          mix.non2xx++;
          const kind = err.code ?? err.name ?? 'error';
          this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
        }
        this.done(due, counted, false);
      },
    );
  }

  private done(due: number, counted: boolean, answered: boolean): void {
    this.inFlight--;
    this.current.completed++;
    if (answered) {
      const us = Math.max(1, Math.round((performance.now() - due) * 1000));
      this.current.hist.recordValue(us);
      if (counted) this.latency.recordValue(us);
    }
    if (counted) this.completed++;
    if (this.inFlight === 0 && this.drained) this.drained();
  }

  private closeSecond(): void {
    this.seconds.push(this.current);
    if (this.seconds.length > RECENT_SECONDS) this.seconds.shift();
    this.current = { sent: 0, completed: 0, errors: 0, dropped: 0, hist: newHistogram() };
  }

  /** Stop sending; wait up to `graceMs` for requests in flight, then close the connections. */
  async stop(graceMs = 500): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.secondTimer);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs);
      });
    }
    await this.pool?.destroy().catch(() => {});
  }

  view(recentSeconds = 5): SimLoadView {
    const activeS = Math.max(0, this.clock.now() - this.spec.warmupMs) / 1000;
    const recent = this.seconds.slice(-recentSeconds);
    const rh = newHistogram();
    let rs = 0;
    let rc = 0;
    let re = 0;
    for (const s of recent) {
      rs += s.sent;
      rc += s.completed;
      re += s.errors;
      rh.add(s.hist);
    }
    const n = Math.max(1, recent.length);
    return {
      target: this.target,
      arrivals: this.spec.arrivals,
      targetRate: round(this.targetRate, 2),
      rateOverridden: this.rateOverride !== undefined,
      sent: this.sent,
      completed: this.completed,
      dropped: this.dropped,
      transportErrors: this.transportErrors,
      errorKinds: Object.fromEntries(this.errorKinds),
      byClass: { ...this.byClass },
      byMix: [...this.byMix.entries()].map(([name, c]) => ({ name, sent: c.sent, non2xx: c.non2xx })),
      inFlight: this.inFlight,
      maxInFlight: this.spec.maxInFlight,
      maxInFlightSeen: this.maxInFlightSeen,
      activeSeconds: round(activeS, 3),
      expectedSent: round(this.expected, 1),
      arrivalRate: activeS > 0 ? round((this.sent + this.dropped) / activeS, 2) : 0,
      achievedRate: activeS > 0 ? round(this.sent / activeS, 2) : 0,
      completedRate: activeS > 0 ? round(this.completed / activeS, 2) : 0,
      latencyMs: latencyView(this.latency),
      sendLagMs: latencyView(this.lag),
      recent: { seconds: recent.length, sentRate: round(rs / n, 2), completedRate: round(rc / n, 2), transportErrorRate: round(re / n, 2), latencyMs: latencyView(rh) },
    };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
