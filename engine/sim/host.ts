// Everything of one scenario run that is not the engine: its mock instances, its timeline of
// incidents and its load generator, on one event loop. It runs in a child process (worker.ts via
// remote.ts, the default) or in the engine's process (--in-process, tests).
//
// Why a child process, measured on the 2-core machine at 2,000 req/s through the engine with one
// slow upstream (CPU from process.cpuUsage and /proc over 15–30 s windows): the mocks and the
// generator together cost ~45–55% of a core, the engine ~50–58%. In one process that is ~90% of
// one core: on a quiet machine it still holds the rate (client p50 10 ms against 6–8 ms split),
// but nothing is left for the console, access logs or the machine's other work, and with other
// load on the machine the single event loop saturates (client p50 159 ms against 17 ms split).
// Apart, each gets a core; the IPC is a few messages a second. One child for all of a run's mocks
// and its generator, not one per service: at the demo's 40 req/s it idles at ~5% of a core, and
// each process costs ~0.5 s to start (tsx).

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { SimIncidentView, SimInstanceView, SimLoadView } from '../admin/contract';
import { LoadGenerator, ScenarioClock, type GeneratedRequest } from './load';
import { MockInstance, type Decision } from './mock';
import type { IncidentSpec, Scenario } from './scenario';
import { describeEffect, occurrenceView, Timeline, type Occurrence } from './timeline';

export interface HostOptions {
  /** Keep the first N decisions of each instance and the first N generated requests (tests). */
  record?: number;
}

export type HostEvent =
  | { type: 'incident'; on: boolean; incident: SimIncidentView }
  | { type: 'finished' }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface HostSnapshot {
  scenarioTimeS: number;
  paused: boolean;
  finished: boolean;
  instances: Array<Omit<SimInstanceView, 'clusters'>>;
  activeIncidents: SimIncidentView[];
  upcomingIncidents: SimIncidentView[];
  load: SimLoadView | null;
  /** CPU of this process over the last seconds, % of one core. */
  cpuPercent: number;
  /** CPU time (user + system) this process has used since it started, ms. */
  cpuTotalMs: number;
  /** Event-loop delay of this process over the last few seconds, ms: the simulator's own health. */
  loopDelayMs: { p50: number; p99: number; max: number };
}

export interface HostDebug {
  decisions: Record<string, Decision[]>;
  requests: GeneratedRequest[];
}

/** What the manager drives: a SimHost here, or one in a child process (remote.ts). */
export interface SimBackend {
  readonly mode: 'child' | 'in-process';
  readonly pid: number;
  /** Start the mock servers; answers each service's ports, in instance order. */
  startMocks(): Promise<Record<string, number[]>>;
  /** Start scenario time, the timeline and (with a target) the load. */
  startRun(target: string | undefined): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  setRate(rate: number): Promise<void>;
  trigger(spec: IncidentSpec): Promise<SimIncidentView>;
  snapshot(): Promise<HostSnapshot>;
  debug(): Promise<HostDebug>;
  stop(): Promise<void>;
}

export class SimHost implements SimBackend {
  readonly mode = 'in-process' as const;
  readonly pid = process.pid;
  readonly clock = new ScenarioClock();
  readonly instances = new Map<string, MockInstance[]>();
  private readonly timeline: Timeline;
  private load: LoadGenerator | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private finished = false;
  private stopped = false;
  private cpu = { last: process.cpuUsage(), at: performance.now(), percent: 0 };
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private loopDelay = { p50: 0, p99: 0, max: 0 };

  constructor(
    readonly scenario: Scenario,
    private readonly onEvent: (e: HostEvent) => void = () => {},
    private readonly opts: HostOptions = {},
  ) {
    for (const svc of scenario.services) {
      this.instances.set(
        svc.name,
        svc.instances.map((spec, i) => new MockInstance(svc.name, i, spec, scenario.seed, opts.record ?? 0, svc.tls)),
      );
    }
    this.timeline = new Timeline(scenario.incidents, (o, on) => this.applyIncident(o, on));
  }

  async startMocks(): Promise<Record<string, number[]>> {
    const all = [...this.instances.values()].flat();
    try {
      await Promise.all(all.map((m) => m.listen(0)));
    } catch (e) {
      await Promise.all(all.map((m) => m.close()));
      throw e;
    }
    return Object.fromEntries([...this.instances].map(([name, list]) => [name, list.map((m) => m.port)]));
  }

  async startRun(target: string | undefined): Promise<void> {
    this.clock.start();
    if (this.scenario.load && target) {
      this.load = new LoadGenerator(this.scenario.load, this.scenario.seed, this.clock, { record: this.opts.record });
      this.load.start(target);
    }
    this.timeline.update(0);
    this.ticker = setInterval(() => this.tick(), 100);
    this.loop.enable();
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.cpu.at >= 2000) {
      const used = process.cpuUsage(this.cpu.last);
      this.cpu.percent = Math.round(((used.user + used.system) / 1000 / (now - this.cpu.at)) * 1000) / 10;
      this.cpu = { last: process.cpuUsage(), at: now, percent: this.cpu.percent };
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      this.loopDelay = { p50: ms(this.loop.percentile(50)), p99: ms(this.loop.percentile(99)), max: ms(this.loop.max) };
      this.loop.reset();
    }
    if (this.clock.paused || this.finished) return;
    const t = this.clock.now();
    const d = this.scenario.durationMs;
    if (d !== undefined && t >= d) {
      this.finished = true;
      this.clock.pause();
      void this.load?.stop();
      this.timeline.clear();
      this.onEvent({ type: 'finished' });
      return;
    }
    this.timeline.update(t);
  }

  private targets(spec: IncidentSpec): MockInstance[] {
    const list = this.instances.get(spec.service) ?? [];
    return spec.instance === undefined ? list : list.filter((m) => m.index === spec.instance);
  }

  private applyIncident(o: Occurrence, on: boolean): void {
    for (const m of this.targets(o.spec)) {
      m.setEffect(o.id, on ? o.spec.effect : undefined).catch((e: Error) => this.onEvent({ type: 'log', level: 'error', message: `${m.service}#${m.index}: ${e.message}` }));
    }
    this.onEvent({ type: 'incident', on, incident: occurrenceView(o) });
  }

  async pause(): Promise<void> {
    this.clock.pause();
  }

  async resume(): Promise<void> {
    if (this.finished) return;
    this.clock.resume();
    this.load?.resumed();
  }

  async setRate(rate: number): Promise<void> {
    if (!this.load) throw new Error('this scenario has no load: section');
    this.load.setRate(rate);
  }

  async trigger(spec: IncidentSpec): Promise<SimIncidentView> {
    if (!this.instances.has(spec.service)) throw new Error(`no service "${spec.service}"`);
    return occurrenceView(this.timeline.trigger(spec, this.clock.now()));
  }

  async snapshot(): Promise<HostSnapshot> {
    const t = this.clock.now();
    const instances = [...this.instances.values()].flat().map((m) => ({
      service: m.service,
      index: m.index,
      address: m.key,
      up: m.isUp,
      ...m.counters,
      effects: m.activeEffects().map((e) => (e.type === 'down' ? 'down' : `${e.type} ${describeEffect(e)}`)),
    }));
    return {
      scenarioTimeS: Math.round(t) / 1000,
      paused: this.clock.paused,
      finished: this.finished,
      instances,
      activeIncidents: this.timeline.activeNow().map(occurrenceView),
      upcomingIncidents: this.finished ? [] : this.timeline.upcoming(t).map(occurrenceView),
      load: this.load ? this.load.view() : null,
      cpuPercent: this.cpu.percent,
      cpuTotalMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      loopDelayMs: this.loopDelay,
    };
  }

  async debug(): Promise<HostDebug> {
    const decisions: Record<string, Decision[]> = {};
    for (const list of this.instances.values()) for (const m of list) decisions[`${m.service}#${m.index}`] = [...m.decisions];
    return { decisions, requests: [...(this.load?.recorded ?? [])] };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    this.loop.disable();
    this.clock.pause();
    await this.load?.stop();
    await Promise.all([...this.instances.values()].flat().map((m) => m.close()));
  }
}
