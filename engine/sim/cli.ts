// `meshdeck demo` and `meshdeck sim SCENARIO.yaml`: the engine plus a scenario's mock services,
// timeline and load, headless. Prints the engine's JSON ready line on stdout once everything is
// bound and the load has started; the engine's log (with a one-line live summary every few
// seconds) goes to stderr. SIGTERM/SIGINT stop the load and the mocks, then drain the engine.

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, loadConfig } from '../config/load';
import { createLogger, parseLogLevel } from '../log';
import { Engine } from '../server';
import type { SimRunView } from '../admin/contract';
import { simManagerFor, type Problem } from './manager';
import { loadScenarioFile } from './scenario';
import { wireConfig } from './wire';

/** The bundled demo: a payment gateway in front of a simulated payment stack. */
export const DEMO_SCENARIO = fileURLToPath(new URL('../../examples/scenarios/payment-gateway.yaml', import.meta.url));

const USAGE = `Usage: meshdeck demo [options]
       meshdeck sim SCENARIO.yaml [options]

demo runs the bundled payment-gateway scenario (${'examples/scenarios/payment-gateway.yaml'});
sim runs any scenario: mock services on 127.0.0.1 wired into its Envoy config, incidents on
its timeline and open-loop load through a Meshdeck listener.

      --mode serve|validate
                           validate: check the scenario against its schema and its Envoy config, start nothing
      --seed N             override the scenario's seed
      --rate N             override the load: a constant N requests per second
      --ephemeral-ports    every listener and the admin endpoint on a free port
      --in-process         mocks and load in the engine's process (default: one child process)
      --summary-every S    a live summary line on stderr every S seconds (default 10; 0: none)
  -l, --log-level LEVEL    trace, debug, info (default), warning, error, critical, off
      --drain-time-s N     on SIGTERM/SIGINT, let requests in flight finish for up to N s (default 5)
  -h, --help               this text
`;

export async function simMain(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        mode: { type: 'string', default: 'serve' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        'ephemeral-ports': { type: 'boolean', default: false },
        'in-process': { type: 'boolean', default: false },
        'summary-every': { type: 'string', default: '10' },
        'log-level': { type: 'string', short: 'l', default: 'info' },
        'drain-time-s': { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    err.write(`meshdeck ${command}: ${(e as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const usage = (message: string) => {
    err.write(`meshdeck ${command}: ${message}\n\n${USAGE}`);
    return 1;
  };
  let path: string;
  if (command === 'demo') {
    if (positionals.length) return usage(`unexpected argument '${positionals[0]}'`);
    path = DEMO_SCENARIO;
  } else {
    if (positionals.length !== 1) return usage(positionals.length ? `unexpected argument '${positionals[1]}'` : 'give the scenario file: meshdeck sim SCENARIO.yaml');
    path = positionals[0];
  }
  const mode = values.mode;
  if (mode !== 'serve' && mode !== 'validate') return usage(`--mode must be serve or validate, not '${String(mode)}'`);
  const level = parseLogLevel(String(values['log-level']));
  if (!level) return usage(`unknown log level '${String(values['log-level'])}'`);
  const drain = Number(values['drain-time-s']);
  if (!Number.isFinite(drain) || drain < 0) return usage('--drain-time-s must be a number of seconds');
  const summaryEvery = Number(values['summary-every']);
  if (!Number.isFinite(summaryEvery) || summaryEvery < 0) return usage('--summary-every must be a number of seconds');
  const seed = values.seed !== undefined ? Number(values.seed) : undefined;
  if (seed !== undefined && !Number.isInteger(seed)) return usage('--seed must be an integer');
  const rate = values.rate !== undefined ? Number(values.rate) : undefined;
  if (rate !== undefined && !(rate >= 0)) return usage('--rate must be a number of requests per second');

  const loaded = loadScenarioFile(path);
  for (const d of loaded.diagnostics) err.write(`${formatDiagnostic(d, path)}\n`);
  if (!loaded.ok || !loaded.scenario) {
    err.write(`meshdeck ${command}: scenario '${path}' is invalid: ${loaded.diagnostics.filter((d) => d.severity === 'error').length} error(s)\n`);
    return 1;
  }
  const scenario = loaded.scenario;
  if (seed !== undefined) scenario.seed = seed;
  if (rate !== undefined && scenario.load) scenario.load = { ...scenario.load, rate, ramp: [] };
  if (!scenario.envoyConfigPath) {
    err.write(`meshdeck ${command}: scenario '${path}' names no envoy_config: the command line needs one to run\n`);
    return 1;
  }
  if (!existsSync(scenario.envoyConfigPath)) {
    const p = loaded.locate(['envoy_config']);
    err.write(`${path}:${p.line}:${p.column}: error: envoy_config: no such file: ${scenario.envoyConfigPath} [unreadable]\n`);
    return 1;
  }

  if (mode === 'validate') return validate(path, loaded, out, err);

  const log = createLogger(level, (l) => err.write(l));
  const engine = new Engine({ log });
  const manager = simManagerFor(engine);
  const started = await manager.start(loaded, { ephemeralPorts: values['ephemeral-ports'] === true, inProcess: values['in-process'] === true });
  printProblems(err, started.problems, path);
  if (!started.ok || !started.run) {
    err.write(`meshdeck ${command}: scenario '${path}' did not start; nothing is serving\n`);
    await engine.stop(0).catch(() => {});
    return 1;
  }
  const run = started.run;
  const ready: Record<string, unknown> = { event: 'ready', admin: engine.adminUrl, listeners: engine.boundListeners() };
  if (engine.adminTokenGenerated) ready.token = engine.adminToken;

  const summary = summaryEvery > 0 && !scenario.quiet
    ? setInterval(() => {
        void run.view().then((v) => {
          if (v.state === 'running' || v.state === 'paused') log.info(summaryLine(v));
        });
      }, summaryEvery * 1000)
    : undefined;

  // Signal handlers before the ready line (see engine/cli.ts).
  const exit = new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(summary);
      log.info(`caught ${signal}: stopping the scenario, then draining (up to ${drain} s)`);
      manager
        .stopAll()
        .then(() => engine.stop(drain * 1000))
        .then(
          () => resolveExit(0),
          () => resolveExit(1),
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  out.write(`${JSON.stringify(ready)}\n`);
  return exit;
}

async function validate(path: string, loaded: ReturnType<typeof loadScenarioFile>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const scenario = loaded.scenario!;
  const { readFileSync } = await import('node:fs');
  const envoyPath = scenario.envoyConfigPath!;
  const text = readFileSync(envoyPath, 'utf8');
  // Placeholder ports: what matters is that every mapped cluster and the target listener fit.
  const ports = Object.fromEntries(scenario.services.map((s) => [s.name, s.instances.map((_, i) => 40000 + i)]));
  const wired = wireConfig(text, scenario, loaded, ports);
  printProblems(err, wired.errors.map((p) => ({ source: p.in === 'scenario' ? path : envoyPath, diagnostic: p.diagnostic })), path);
  const config = await loadConfig(wired.text, { sourceName: envoyPath });
  for (const d of config.diagnostics) err.write(`${formatDiagnostic(d, envoyPath)}\n`);
  const errors = wired.errors.length + config.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors) {
    err.write(`scenario '${path}' is invalid: ${errors} error(s)\n`);
    return 1;
  }
  out.write(`scenario '${path}' OK (Envoy config '${envoyPath}' OK)\n`);
  return 0;
}

function printProblems(err: NodeJS.WritableStream, problems: Problem[], scenarioPath: string): void {
  for (const p of problems) err.write(`${formatDiagnostic(p.diagnostic, p.source === 'scenario' ? scenarioPath : p.source)}\n`);
}

const fmtMs = (v: number | null) => (v === null ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);

/** One line: time, achieved vs target rate, client-side percentiles, status mix, incidents. */
export function summaryLine(v: SimRunView): string {
  const parts = [`sim ${v.id} t=${Math.round(v.scenarioTimeS)}s${v.state === 'paused' ? ' (paused)' : ''}`];
  const l = v.load;
  if (l) {
    const r = l.recent;
    const total = Object.values(l.byClass).reduce((a, b) => a + b, 0) + l.transportErrors;
    const pct = (n: number) => (total ? `${((100 * n) / total).toFixed(1)}%` : '–');
    parts.push(`${r.sentRate.toFixed(1)}/${l.targetRate} req/s (overall ${l.achievedRate.toFixed(1)})`);
    parts.push(`p50 ${fmtMs(r.latencyMs.p50)} p99 ${fmtMs(r.latencyMs.p99)}`);
    parts.push(`2xx ${pct(l.byClass['2xx'] ?? 0)} 4xx ${pct(l.byClass['4xx'] ?? 0)} 5xx ${pct(l.byClass['5xx'] ?? 0)}${l.transportErrors ? ` failed ${pct(l.transportErrors)}` : ''}${l.dropped ? ` dropped ${l.dropped}` : ''}`);
  }
  if (v.process.cpuPercent !== null) parts.push(`sim cpu ${v.process.cpuPercent}%`);
  const inc = v.activeIncidents.map((i) => `${i.name} (${Math.max(0, Math.round(i.endS - v.scenarioTimeS))} s left)`);
  const next = v.upcomingIncidents[0];
  parts.push(inc.length ? `incidents: ${inc.join(', ')}` : next ? `next incident: ${next.name} in ${Math.max(0, Math.round(next.startS - v.scenarioTimeS))} s` : 'no incidents');
  return parts.join(' | ');
}
