// `meshdeck replay FILE.har --target URL …`: replays a HAR file (or a capture session directory)
// against a target and prints a final summary — a few readable lines, or one JSON line (--json).

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ReplayMode } from '../admin/contract';
import { readSession } from './capture';
import type { RecordedExchange } from './exchange';
import { HarError, parseHar, toHar } from './har';
import { replayOptions, ReplayError, Replayer, resultsAsExchanges } from './replay';

const USAGE = `Usage: meshdeck replay FILE.har --target URL [options]

Replays the requests of a HAR file (or a capture session directory) against URL, open-loop:
each request leaves at its scheduled time whatever the earlier ones are doing.

  --target URL          where to send (http://127.0.0.1:10000); required
  --speed X             the recorded schedule at X times its speed, 0.1 to 100 (default 1)
  --rate R              R requests per second instead of the recorded schedule
  --asap                as fast as possible (with --concurrency requests in flight)
  --concurrency N       requests in flight at most (default 256; with --asap 64)
  --loop N              go through the file N times (default 1)
  --method M[,M]        only these methods
  --url REGEX           only URLs matching REGEX
  --status S[,S]        only entries recorded with these statuses (200, 5xx, 0 = no response)
  --host HOST           rewrite Host / :authority
  --drop-header NAME    leave this header out (repeatable)
  --header 'NAME: VAL'  set or override a header (repeatable); {{uuid}} and {{seq}} are filled
                        per request, e.g. --header 'idempotency-key: {{uuid}}'
  --timeout-ms N        per request (default 30000)
  --out FILE.har        save the replayed requests and their responses as HAR
  --json                print the summary as one JSON line
  -h, --help            this text
`;

export async function replayMain(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        target: { type: 'string' },
        speed: { type: 'string' },
        rate: { type: 'string' },
        asap: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        loop: { type: 'string' },
        method: { type: 'string' },
        url: { type: 'string' },
        status: { type: 'string' },
        host: { type: 'string' },
        'drop-header': { type: 'string', multiple: true },
        header: { type: 'string', multiple: true },
        'timeout-ms': { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    err.write(`meshdeck replay: ${(e as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const fail = (m: string) => {
    err.write(`meshdeck replay: ${m}\n`);
    return 1;
  };
  if (positionals.length !== 1) return fail(positionals.length ? `one file at a time, got ${positionals.length}` : 'give the HAR file to replay');
  if (typeof values.target !== 'string') return fail('--target URL is required');
  const modes = [values.speed !== undefined, values.rate !== undefined, values.asap === true].filter(Boolean).length;
  if (modes > 1) return fail('--speed, --rate and --asap are alternatives: give one');
  const num = (name: string): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ReplayError(`--${name} must be a number, not '${v}'`);
    return n;
  };
  const setHeaders: Record<string, string> = {};
  for (const h of (values.header as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) return fail(`--header '${h}': write it as 'name: value'`);
    setHeaders[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }

  let exchanges: RecordedExchange[];
  const file = positionals[0];
  try {
    exchanges = loadTraffic(file);
  } catch (e) {
    if (e instanceof HarError) return fail(`${file}: ${e.message}`);
    return fail(`cannot read ${file}: ${(e as Error).message}`);
  }

  let replayer: Replayer;
  try {
    const mode: ReplayMode = values.asap ? 'asap' : values.rate !== undefined ? 'rate' : 'recorded';
    const options = replayOptions({
      target: values.target,
      mode,
      speed: num('speed'),
      rate: num('rate'),
      concurrency: num('concurrency'),
      loop: num('loop'),
      filter: {
        methods: typeof values.method === 'string' ? values.method.split(',').map((m) => m.trim()).filter(Boolean) : undefined,
        url: values.url as string | undefined,
        status: values.status as string | undefined,
      },
      host: values.host as string | undefined,
      dropHeaders: values['drop-header'] as string[] | undefined,
      setHeaders,
      timeoutMs: num('timeout-ms'),
      keepResponseBodyBytes: values.out ? 64 * 1024 : 0,
    });
    replayer = new Replayer(exchanges, options);
  } catch (e) {
    if (e instanceof ReplayError) return fail(e.message);
    throw e;
  }

  let progress: NodeJS.Timeout | undefined;
  if (!values.json) {
    progress = setInterval(() => {
      const p = replayer.progress;
      err.write(`  sent ${p.sent}/${p.planned}, answered ${p.completed}, in flight ${p.inFlight}\n`);
    }, 2000);
  }
  const onSignal = () => void replayer.cancel();
  process.once('SIGINT', onSignal);
  await replayer.start();
  process.off('SIGINT', onSignal);
  clearInterval(progress);
  const s = replayer.summary();
  if (values.out) writeFileSync(values.out as string, JSON.stringify(toHar(resultsAsExchanges(replayer.results), { comment: `meshdeck replay of ${file}` }), null, 1));
  if (values.json) {
    out.write(`${JSON.stringify({ event: 'replay_summary', file, target: values.target, ...s })}\n`);
  } else {
    const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
    out.write(
      [
        `replayed ${file} → ${values.target}`,
        `  sent ${s.sent} of ${s.planned}, ok ${s.ok}, failed ${s.failed}, status different from the recording: ${s.statusMismatches}`,
        `  achieved rate ${s.achievedRate} req/s over ${(s.durationMs / 1000).toFixed(2)} s`,
        `  send delay p50 ${ms(s.sendDelayMs.p50)}, p99 ${ms(s.sendDelayMs.p99)}, max ${ms(s.sendDelayMs.max)}`,
        `  latency p50 ${ms(s.latencyMs.p50)}, p99 ${ms(s.latencyMs.p99)}`,
        `  statuses ${Object.entries(s.byStatus).map(([k, v]) => `${k === '0' ? 'none' : k}: ${v}`).join(', ') || '-'}`,
        '',
      ].join('\n'),
    );
  }
  return s.failed > 0 && s.ok === 0 && s.sent > 0 ? 2 : 0;
}

/** A HAR file, or a capture session directory (its journal). */
export function loadTraffic(path: string): RecordedExchange[] {
  if (statSync(path).isDirectory()) return readSession(path).exchanges;
  return parseHar(readFileSync(path)).exchanges;
}
