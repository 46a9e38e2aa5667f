// `meshdeck`: Envoy's command line where the two overlap (-c, --config-yaml, --mode, -l), plus
// --watch. Serving prints one JSON ready line on stdout once everything is bound; the engine's
// own log goes to stderr.

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { formatDiagnostic, loadConfig } from './config/load';
import type { Diagnostic } from './config/model';
import { createLogger, parseLogLevel, type Logger } from './log';
import { Engine } from './server';
import { closeTraffic, startCapture } from './traffic/service';

const USAGE = `Usage: meshdeck -c FILE [options]
       meshdeck --config-yaml 'YAML' [options]
       meshdeck demo | meshdeck sim SCENARIO.yaml   (simulated services and load: see meshdeck sim --help)
       meshdeck replay FILE.har --target URL [...]  (replay recorded traffic: see meshdeck replay --help)
       meshdeck kit [--out DIR]                      (local CA, certificates, JWT keys and tokens: see meshdeck kit --help)

Runs an Envoy v3 bootstrap (YAML or JSON) as Envoy would.

  -c, --config-path FILE   the bootstrap config (YAML or JSON)
      --config-yaml YAML   config text; merged over -c when both are given, as in Envoy
      --mode serve|validate
                           validate: check the config, bind nothing, exit 0 when it loads
  -l, --log-level LEVEL    trace, debug, info (default), warning, error, critical, off
      --watch              reload the config file when it changes
      --drain-time-s N     on SIGTERM/SIGINT, let requests in flight finish for up to N s (default 5)
      --capture L[,L]      capture the exchanges of these listeners (by name) to a journal on disk
      --capture-dir DIR    where capture sessions go (default $MESHDECK_CAPTURE_DIR or <tmp>/meshdeck-captures)
      --capture-body-cap N body bytes kept per request and per response (default 65536)
  -h, --help               this text
`;

interface Args {
  configPath?: string;
  configYaml?: string;
  mode: 'serve' | 'validate';
  log: Logger;
  watch: boolean;
  drainMs: number;
  capture: string[];
  captureDir?: string;
  captureBodyCap?: number;
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  // Subcommands before Envoy's flags: the simulator (engine/sim/cli.ts), loaded only when asked for.
  if (argv[0] === 'demo' || argv[0] === 'sim') {
    const { simMain } = await import('./sim/cli');
    return simMain(argv, out, err);
  }
  if (argv[0] === 'kit') {
    const { kitMain } = await import('./kit/cli');
    return kitMain(argv.slice(1), out, err);
  }
  if (argv[0] === 'replay') {
    const { replayMain } = await import('./traffic/cli');
    return replayMain(argv.slice(1), out, err);
  }
  let args: Args;
  try {
    const parsed = parseCli(argv, err);
    if (parsed === 'help') {
      out.write(USAGE);
      return 0;
    }
    args = parsed;
  } catch (e) {
    err.write(`meshdeck: ${(e as Error).message}\n\n${USAGE}`);
    return 1;
  }

  let source: { text: string; name: string };
  try {
    source = readSource(args);
  } catch (e) {
    err.write(`meshdeck: ${(e as Error).message}\n`);
    return 1;
  }

  if (args.mode === 'validate') {
    const result = await loadConfig(source.text, { sourceName: source.name });
    printDiagnostics(err, result.diagnostics, source.name);
    if (!result.ok) {
      const n = result.diagnostics.filter((d) => d.severity === 'error').length;
      err.write(`configuration '${source.name}' is invalid: ${n} error(s)\n`);
      return 1;
    }
    out.write(`configuration '${source.name}' OK\n`);
    return 0;
  }

  const engine = new Engine({ log: args.log });
  const started = await engine.start(source.text, source.name);
  printDiagnostics(err, started.diagnostics, source.name);
  if (!started.ok) {
    err.write(`meshdeck: configuration '${source.name}' rejected; nothing is serving\n`);
    return 1;
  }
  const ready: Record<string, unknown> = { event: 'ready', admin: engine.adminUrl, listeners: engine.boundListeners() };
  if (args.capture.length) {
    try {
      const started = startCapture(engine, args.capture, { root: args.captureDir, bodyCapBytes: args.captureBodyCap });
      ready.capture = { session: started.session.id, dir: started.session.dir };
    } catch (e) {
      err.write(`meshdeck: --capture: ${(e as Error).message}\n`);
      await engine.stop(0);
      return 1;
    }
  }
  // A token the user chose is theirs to know; a generated one must be told or nobody can use it.
  if (engine.adminTokenGenerated) ready.token = engine.adminToken;

  // A bug in one request's handling must not take every other request down with it: log it
  // loudly and keep serving (the engine's state is per request and per snapshot).
  process.on('uncaughtException', (e) => args.log.critical(`uncaught exception, still serving: ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => args.log.critical(`unhandled rejection, still serving: ${(e as Error)?.stack ?? e}`));

  let watcher: FSWatcher | undefined;
  if (args.watch && args.configPath) watcher = watchConfig(engine, args, err);

  // The signal handlers go in before the ready line: a supervisor may send SIGTERM the moment it
  // reads it, and without a handler that would kill the engine undrained.
  const exit = new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      args.log.info(`caught ${signal}: draining (up to ${args.drainMs} ms)`);
      watcher?.close();
      // Capture journals are flushed and closed before the engine goes (capture on by flag or API).
      closeTraffic(engine)
        .then(() => engine.stop(args.drainMs))
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

function parseCli(argv: string[], err: NodeJS.WritableStream): Args | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'config-path': { type: 'string', short: 'c' },
      'config-yaml': { type: 'string' },
      mode: { type: 'string', default: 'serve' },
      'log-level': { type: 'string', short: 'l', default: 'info' },
      watch: { type: 'boolean', default: false },
      'drain-time-s': { type: 'string', default: '5' },
      capture: { type: 'string' },
      'capture-dir': { type: 'string' },
      'capture-body-cap': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length) throw new Error(`unexpected argument '${positionals[0]}'`);
  const mode = values.mode;
  if (mode !== 'serve' && mode !== 'validate') throw new Error(`--mode must be serve or validate, not '${mode}'`);
  const level = parseLogLevel(values['log-level'] ?? 'info');
  if (!level) throw new Error(`unknown log level '${values['log-level']}'`);
  const drain = Number(values['drain-time-s']);
  if (!Number.isFinite(drain) || drain < 0) throw new Error(`--drain-time-s must be a number of seconds`);
  if (!values['config-path'] && !values['config-yaml']) throw new Error('no config: give -c FILE or --config-yaml');
  if (values.watch && !values['config-path']) throw new Error('--watch needs -c FILE');
  return {
    configPath: values['config-path'],
    configYaml: values['config-yaml'],
    mode,
    log: createLogger(level, (l) => err.write(l)),
    watch: values.watch ?? false,
    drainMs: drain * 1000,
    capture: (values.capture ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    captureDir: values['capture-dir'],
    captureBodyCap: captureBodyCap(values['capture-body-cap']),
  };
}

function captureBodyCap(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error('--capture-body-cap must be a whole number of bytes');
  return n;
}

function readSource(args: Args): { text: string; name: string } {
  const fromFile = args.configPath ? readConfigFile(args.configPath) : undefined;
  if (fromFile !== undefined && args.configYaml === undefined) return { text: fromFile, name: args.configPath! };
  if (fromFile === undefined) return { text: args.configYaml!, name: '--config-yaml' };
  // Both: Envoy merges --config-yaml over the file (messages merge, repeated fields append).
  let base: unknown;
  let over: unknown;
  try {
    base = parseYaml(fromFile);
    over = parseYaml(args.configYaml!);
  } catch (e) {
    throw new Error(`cannot merge --config-yaml over ${args.configPath}: ${(e as Error).message}`);
  }
  return { text: stringifyYaml(mergeFrom(base, over)), name: `${args.configPath} + --config-yaml` };
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`cannot read config '${path}': no such file`);
    throw new Error(`cannot read config '${path}': ${(e as Error).message}`);
  }
}

export function mergeFrom(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  if (isObject(base) && isObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeFrom(out[k], v) : v;
    return out;
  }
  return over === undefined ? base : over;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function printDiagnostics(err: NodeJS.WritableStream, diags: Diagnostic[], name: string): void {
  for (const d of diags) err.write(`${formatDiagnostic(d, name)}\n`);
}

/** Reload on change. Editors often replace the file, so the directory is watched too. */
function watchConfig(engine: Engine, args: Args, err: NodeJS.WritableStream): FSWatcher {
  const path = resolve(args.configPath!);
  let timer: NodeJS.Timeout | undefined;
  let last = readConfigFile(path);
  const reload = () => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return; // mid-replace; the next event will tell
    }
    if (text === last) return;
    last = text;
    void engine.apply(text, args.configPath!).then((r) => {
      printDiagnostics(err, r.diagnostics, args.configPath!);
      if (r.ok) args.log.info(`reloaded ${args.configPath}: now version ${r.version}`);
      else args.log.error(`reload of ${args.configPath} rejected; version ${r.version} keeps serving`);
    });
  };
  const w = watch(dirname(path), (_event, file) => {
    if (file && file.toString() !== basename(path)) return;
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  return w;
}
