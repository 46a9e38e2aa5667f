// Scenario runs of one engine: start (mocks up, the Envoy config wired to them and applied, then
// the timeline and the load), pause, resume, change the rate, trigger incidents, stop. The CLI
// (`meshdeck sim`, `meshdeck demo`) and the admin API (/api/v1/sim) both drive this.

import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../config/model';
import type { Engine } from '../server';
import type { SimIncidentRequest, SimRunState, SimRunView } from '../admin/contract';
import { SimHost, type HostEvent, type HostOptions, type HostSnapshot, type SimBackend } from './host';
import { RemoteSimHost } from './remote';
import { parseDurationMs, type IncidentEffect, type IncidentSpec, type LoadedScenario, type Scenario } from './scenario';
import { wireConfig, type WireResult } from './wire';

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RunOptions {
  /** Mocks and load in the engine's own process instead of a child process. */
  inProcess?: boolean;
  /** Every listener (and the admin) on a free port, whatever the config says. */
  ephemeralPorts?: boolean;
  /** The Envoy config text to use instead of the scenario's envoy_config. */
  envoy?: { text: string; name: string };
  /** Keep decisions and requests for tests. */
  record?: number;
}

export interface Problem {
  /** The file (or source name) the diagnostic points into. */
  source: string;
  diagnostic: Diagnostic;
}

export interface StartResult {
  ok: boolean;
  run?: SimRun;
  problems: Problem[];
}

const KEEP_FINISHED = 20;

export class SimRun {
  state: SimRunState = 'starting';
  readonly startedAt = Date.now();
  error: string | undefined;
  private last: HostSnapshot | undefined;

  constructor(
    readonly id: string,
    readonly loaded: LoadedScenario,
    readonly scenario: Scenario,
    readonly backend: SimBackend,
    readonly envoyName: string,
    readonly wired: WireResult,
    readonly options: RunOptions,
  ) {}

  get active(): boolean {
    return this.state === 'running' || this.state === 'paused' || this.state === 'starting';
  }

  async snapshot(): Promise<HostSnapshot | undefined> {
    if (this.active) {
      try {
        this.last = await this.backend.snapshot();
      } catch {
        // the process is gone: show the last we know
      }
    }
    return this.last;
  }

  async view(): Promise<SimRunView> {
    const s = await this.snapshot();
    const clustersOf = new Map<string, string[]>();
    for (const [cluster, service] of Object.entries(this.scenario.clusters)) {
      if (!clustersOf.has(service)) clustersOf.set(service, []);
      clustersOf.get(service)!.push(cluster);
    }
    return {
      id: this.id,
      name: this.scenario.name,
      state: this.state,
      seed: this.scenario.seed,
      sourceName: this.scenario.sourceName,
      envoyConfig: this.envoyName,
      startedAt: this.startedAt,
      scenarioTimeS: s?.scenarioTimeS ?? 0,
      durationS: this.scenario.durationMs !== undefined ? this.scenario.durationMs / 1000 : null,
      clusters: { ...this.scenario.clusters },
      instances: (s?.instances ?? []).map((i) => ({ ...i, up: i.up && this.active, clusters: clustersOf.get(i.service) ?? [] })),
      activeIncidents: this.active ? (s?.activeIncidents ?? []) : [],
      upcomingIncidents: this.active ? (s?.upcomingIncidents ?? []) : [],
      load: s?.load ?? null,
      process: { mode: this.backend.mode, pid: this.backend.pid, cpuPercent: this.backend.mode === 'child' ? (s?.cpuPercent ?? null) : null },
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

export class SimManager {
  private readonly runs = new Map<string, SimRun>();
  private count = 0;

  constructor(readonly engine: Engine) {}

  list(): SimRun[] {
    return [...this.runs.values()];
  }

  /** The run `id`, or the only active one when no id is given. */
  get(id?: string): SimRun {
    if (id !== undefined) {
      const r = this.runs.get(id);
      if (!r) throw new SimError(404, `no simulation run "${id}"`);
      return r;
    }
    const active = this.list().filter((r) => r.active);
    if (active.length === 1) return active[0];
    throw new SimError(400, active.length === 0 ? 'no simulation is running' : `${active.length} simulations are running: say which with "id"`);
  }

  async start(loaded: LoadedScenario, opts: RunOptions = {}): Promise<StartResult> {
    const scenario = loaded.scenario;
    if (!loaded.ok || !scenario) return { ok: false, problems: loaded.diagnostics.map((d) => ({ source: 'scenario', diagnostic: d })) };
    const scenarioSource = scenario.sourceName;
    const fail = (source: string, message: string, code = 'sim_failed'): StartResult => ({ ok: false, problems: [{ source, diagnostic: { severity: 'error', code, path: '', line: 0, column: 0, message } }] });

    // The Envoy config: given, the scenario's own file, or what the engine runs now.
    let envoy = opts.envoy;
    if (!envoy && scenario.envoyConfigPath) {
      try {
        envoy = { text: readFileSync(scenario.envoyConfigPath, 'utf8'), name: scenario.envoyConfigPath };
      } catch (e) {
        const p = loaded.locate(['envoy_config']);
        return { ok: false, problems: [{ source: scenarioSource, diagnostic: { severity: 'error', code: 'unreadable', path: 'envoy_config', line: p.line, column: p.column, message: `cannot read the Envoy config: ${(e as Error).message}` } }] };
      }
    }
    if (!envoy && this.engine.snapshot) envoy = { text: this.engine.snapshot.text, name: this.engine.snapshot.sourceName };
    if (!envoy) return fail(scenarioSource, 'the scenario has no envoy_config and the engine runs no config');

    const id = `sim-${++this.count}`;
    let run: SimRun | undefined;
    const onEvent = (e: HostEvent) => this.onEvent(id, e);
    const hostOpts: HostOptions = { record: opts.record };
    let backend: SimBackend;
    try {
      backend = opts.inProcess ? new SimHost(scenario, onEvent, hostOpts) : await RemoteSimHost.start(scenario, onEvent, hostOpts);
    } catch (e) {
      return fail(scenarioSource, `cannot start the simulation process: ${(e as Error).message}`);
    }
    const abort = async (problems: Problem[]): Promise<StartResult> => {
      await backend.stop().catch(() => {});
      return { ok: false, problems };
    };
    let ports: Record<string, number[]>;
    try {
      ports = await backend.startMocks();
    } catch (e) {
      return abort(fail(scenarioSource, `cannot start the mock services: ${(e as Error).message}`).problems);
    }

    const wire = (ephemeralPorts: boolean) => wireConfig(envoy!.text, scenario, loaded, ports, { ephemeralPorts });
    let wired = wire(opts.ephemeralPorts ?? false);
    if (wired.errors.length) return abort(wired.errors.map((p) => ({ source: p.in === 'scenario' ? scenarioSource : envoy!.name, diagnostic: p.diagnostic })));

    const engineStarted = this.engine.snapshot !== undefined;
    const applyConfig = (text: string) => (engineStarted ? this.engine.apply(text, envoy!.name) : this.engine.start(text, envoy!.name));
    let applied = await applyConfig(wired.text);
    if (!applied.ok && !opts.ephemeralPorts && applied.diagnostics.some((d) => d.code === 'bind_failed' && d.path.startsWith('static_resources.listeners'))) {
      // A demo must start on a busy laptop: the ports of the config are taken, so take free ones.
      const why = applied.diagnostics.find((d) => d.code === 'bind_failed')!.message;
      this.engine.log.warn(`${why}: running the scenario's listeners on free ports instead`);
      wired = wire(true);
      applied = await applyConfig(wired.text);
    }
    if (!applied.ok) return abort(applied.diagnostics.map((d) => ({ source: envoy!.name, diagnostic: d })));
    for (const w of applied.diagnostics.filter((d) => d.severity === 'warning')) this.engine.log.warn(`${envoy.name}: ${w.path}: ${w.message}`);
    for (const c of wired.unmapped) this.engine.log.info(`sim: cluster ${c} is not mapped to a service of the scenario: its endpoints are left as written`);

    let target: string | undefined;
    if (scenario.load) {
      if (scenario.load.target.url) target = scenario.load.target.url;
      else {
        const l = this.engine.boundListeners().find((x) => x.name === scenario.load!.target.listener);
        if (!l) return abort(fail(scenarioSource, `listener ${scenario.load.target.listener} is not bound`).problems);
        target = `http://${l.address}`;
      }
    }
    run = new SimRun(id, loaded, scenario, backend, envoy.name, wired, opts);
    this.runs.set(id, run);
    this.trim();
    try {
      await backend.startRun(target);
    } catch (e) {
      run.state = 'failed';
      run.error = (e as Error).message;
      await backend.stop().catch(() => {});
      return { ok: false, run, problems: fail(scenarioSource, `cannot start the run: ${run.error}`).problems };
    }
    run.state = 'running';
    const mode = backend.mode === 'child' ? `child process ${backend.pid}` : 'the engine process';
    this.engine.log.info(`sim ${id}: "${scenario.name}" running (seed ${scenario.seed}; ${scenario.services.reduce((n, s) => n + s.instances.length, 0)} mock instance(s) in ${mode}${target ? `; load → ${target}` : ''})`);
    return { ok: true, run, problems: [] };
  }

  /** Start a stopped (or finished) run's scenario again, as a new run. */
  async restart(id: string, opts: RunOptions = {}): Promise<StartResult> {
    const old = this.get(id);
    if (old.active) throw new SimError(409, `${id} is ${old.state}: stop it first`);
    return this.start(old.loaded, { ...old.options, ...opts, envoy: undefined });
  }

  private onEvent(id: string, e: HostEvent): void {
    const log = this.engine.log;
    if (e.type === 'log') log[e.level](`sim ${id}: ${e.message}`);
    else if (e.type === 'incident') {
      const i = e.incident;
      const who = `${i.service}${i.instance !== null ? `#${i.instance}` : ' (every instance)'}`;
      log.info(`sim ${id}: incident ${e.on ? 'started' : 'ended'}: ${i.name} — ${who} ${i.type} ${i.detail}${e.on ? ` for ${Math.round(i.endS - i.startS)} s` : ''}`);
    } else if (e.type === 'finished') {
      const run = this.runs.get(id);
      if (run && run.active) {
        void run.snapshot().then(async () => {
          run.state = 'finished';
          await run.backend.stop().catch(() => {});
          log.info(`sim ${id}: finished (duration reached)`);
        });
      }
    }
  }

  private trim(): void {
    const done = this.list().filter((r) => !r.active);
    for (const r of done.slice(0, Math.max(0, done.length - KEEP_FINISHED))) this.runs.delete(r.id);
  }

  private activeRun(id?: string): SimRun {
    const run = this.get(id);
    if (!run.active) throw new SimError(409, `${run.id} is ${run.state}`);
    return run;
  }

  async pause(id?: string): Promise<SimRun> {
    const run = this.activeRun(id);
    await run.backend.pause();
    run.state = 'paused';
    this.engine.log.info(`sim ${run.id}: paused`);
    return run;
  }

  async resume(id?: string): Promise<SimRun> {
    const run = this.activeRun(id);
    await run.backend.resume();
    run.state = 'running';
    this.engine.log.info(`sim ${run.id}: resumed`);
    return run;
  }

  async setRate(rate: number, id?: string): Promise<SimRun> {
    if (!Number.isFinite(rate) || rate < 0 || rate > 100_000) throw new SimError(400, '"rate" must be a number of requests per second, 0 to 100000');
    const run = this.activeRun(id);
    if (!run.scenario.load) throw new SimError(409, `${run.id} has no load: section`);
    await run.backend.setRate(rate);
    this.engine.log.info(`sim ${run.id}: rate set to ${rate} req/s`);
    return run;
  }

  async trigger(req: SimIncidentRequest): Promise<SimRun> {
    const run = this.activeRun(req.id);
    await run.backend.trigger(incidentFromRequest(run.scenario, req));
    return run;
  }

  async stop(id?: string): Promise<SimRun> {
    const run = this.get(id);
    if (!run.active) return run;
    await run.snapshot();
    run.state = 'stopped';
    await run.backend.stop();
    this.engine.log.info(`sim ${run.id}: stopped`);
    return run;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.list().filter((r) => r.active).map((r) => this.stop(r.id).catch(() => {})));
  }
}

/** An API request for an incident → its spec, checked against the scenario. */
export function incidentFromRequest(s: Scenario, req: SimIncidentRequest): IncidentSpec {
  const duration = (text: unknown, what: string): number => {
    if (typeof text !== 'string') throw new SimError(400, `"${what}" must be a duration like 30s or 2m`);
    try {
      const ms = parseDurationMs(text);
      if (ms <= 0) throw new Error();
      return ms;
    } catch {
      throw new SimError(400, `"${what}" must be a duration like 30s or 2m, not "${text}"`);
    }
  };
  if ('incident' in req) {
    const spec = s.incidents.find((i) => i.name === req.incident);
    if (!spec) throw new SimError(404, `no incident named "${req.incident}" in the timeline (known: ${s.incidents.map((i) => i.name).join(', ') || 'none'})`);
    return { ...spec, atMs: 0, everyMs: undefined, durationMs: req.duration !== undefined ? duration(req.duration, 'duration') : spec.durationMs };
  }
  const svc = s.services.find((x) => x.name === req.service);
  if (!svc) throw new SimError(400, `no service "${String(req.service)}" (known: ${s.services.map((x) => x.name).join(', ')})`);
  if (req.instance !== undefined && (!Number.isInteger(req.instance) || req.instance < 0 || req.instance >= svc.instances.length)) {
    throw new SimError(400, `${svc.name} has ${svc.instances.length} instance(s), numbered from 0`);
  }
  const rate = () => {
    if (typeof req.rate !== 'number' || !(req.rate >= 0 && req.rate <= 1)) throw new SimError(400, '"rate" must be a number from 0 to 1');
    return req.rate;
  };
  let effect: IncidentEffect;
  switch (req.type) {
    case 'slowdown':
      if (typeof req.factor !== 'number' || !(req.factor > 0)) throw new SimError(400, '"factor" must be a number above 0');
      effect = { type: 'slowdown', factor: req.factor };
      break;
    case 'errors': {
      const status = req.status ?? 503;
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new SimError(400, '"status" must be an HTTP status');
      effect = { type: 'errors', rate: rate(), status };
      break;
    }
    case 'down':
      effect = { type: 'down' };
      break;
    case 'hangs':
    case 'resets':
      effect = { type: req.type, rate: rate() };
      break;
    default:
      throw new SimError(400, `"type" must be one of slowdown, errors, down, hangs, resets`);
  }
  const durationMs = duration(req.duration, 'duration');
  return { name: req.name ?? `${svc.name}${req.instance !== undefined ? `#${req.instance}` : ''} ${effect.type} (manual)`, atMs: 0, durationMs, service: svc.name, instance: req.instance, effect };
}

const managers = new WeakMap<Engine, SimManager>();

/** The engine's simulation manager (created on first use). */
export function simManagerFor(engine: Engine): SimManager {
  let m = managers.get(engine);
  if (!m) managers.set(engine, (m = new SimManager(engine)));
  return m;
}
