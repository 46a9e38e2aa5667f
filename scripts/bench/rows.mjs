// What the bench measures: the upstream, and the list of proxy rows put in front of it one at a
// time. A row is { id, label, tools, fixedRate, start(ctx) → { url, proc } }; to add one (an
// access-log or TLS variant, say), push another entry from buildRows().
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join, basename, resolve } from 'node:path';
import { start, startWithReadyLine, waitHttpReady, freePort } from './procs.mjs';
import { nginxUpstreamConf, nginxProxyConf, haproxyConf, envoyBootstrap, adaptUserConfig, toYaml } from './configs.mjs';
import { withJwtRbac } from './security.mjs';
import { protocolRows } from './protocols.mjs';

const here = new URL('.', import.meta.url).pathname;
export const STAND_IN = join(here, 'undici-proxy.mjs');

async function startNginx(name, dir, conf, port, cpu, readyMs) {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf(dir, port));
  const proc = start(name, 'nginx', ['-e', 'stderr', '-p', dir, '-c', file], { cpu });
  const url = `http://127.0.0.1:${port}/`;
  await waitHttpReady(proc, url, readyMs);
  return { url, proc };
}

/** The upstream every proxy forwards to: nginx, 1 worker, `return 200`. */
export async function startUpstream(ctx) {
  const port = await freePort();
  const dir = join(ctx.dir, 'upstream');
  mkdir(dir);
  const { url, proc } = await startNginx('upstream-nginx', dir, (d, p) => nginxUpstreamConf(d, p), port, ctx.upstreamCpu, ctx.readyMs);
  return { host: '127.0.0.1', port, url, proc };
}

/** Start a Node engine (Meshdeck or the stand-in) on a bootstrap file and read its ready line. */
async function startEngine(name, entry, yamlFile, scheme, ctx) {
  const { proc, ready } = await startWithReadyLine(name, process.execPath, [entry, '-c', yamlFile], { cpu: ctx.proxyCpu, cwd: ctx.root }, ctx.readyMs);
  const addr = ready.listeners?.[0]?.address;
  if (!addr) throw new Error(`${name}: ready line has no listeners[0].address: ${JSON.stringify(ready)}`);
  return { url: `${scheme}://${addr}/`, proc, admin: ready.admin };
}

/** The Meshdeck entry point: --engine (relative to where the command was run) or bin/meshdeck.mjs. */
export const enginePath = (opts) => (opts.engine ? resolve(opts.cwd, opts.engine) : join(opts.root, 'bin', 'meshdeck.mjs'));

export function buildRows(opts) {
  const engine = enginePath(opts);
  const standIn = engine === STAND_IN;
  const meshdeckLabel = standIn ? 'meshdeck (stand-in)' : 'meshdeck';
  const rows = [
    {
      // No proxy: wrk straight at the upstream. Shows the ceiling of the load core (wrk and the
      // upstream share it) and the fixed-rate generator's own floor.
      id: 'direct', label: 'direct (no proxy)', tools: [], fixedRate: true, noProxy: true,
      async start(ctx) { return { url: ctx.upstream.url, proc: null }; },
    },
    {
      id: 'nginx', label: 'nginx', tools: ['nginx'], fixedRate: true,
      async start(ctx) {
        const dir = join(ctx.dir, 'nginx'); mkdir(dir);
        return startNginx('nginx-proxy', dir, (d, p) => nginxProxyConf(d, p, ctx.upstream), await freePort(), ctx.proxyCpu, ctx.readyMs);
      },
    },
    {
      id: 'haproxy', label: 'haproxy', tools: ['haproxy'], fixedRate: false,
      async start(ctx) {
        const port = await freePort();
        const file = join(ctx.dir, 'haproxy.cfg');
        writeFileSync(file, haproxyConf(port, ctx.upstream));
        const proc = start('haproxy', 'haproxy', ['-db', '-f', file], { cpu: ctx.proxyCpu });
        const url = `http://127.0.0.1:${port}/`;
        await waitHttpReady(proc, url, ctx.readyMs);
        return { url, proc };
      },
    },
    {
      id: 'meshdeck', label: meshdeckLabel, tools: [], fixedRate: true, engine: true,
      async start(ctx) {
        const file = join(ctx.dir, 'meshdeck.yaml');
        writeFileSync(file, toYaml(envoyBootstrap(ctx.upstream)));
        return startEngine('meshdeck', engine, file, 'http', ctx);
      },
    },
    {
      // The same, with Envoy's default access-log format written to a file for every request.
      id: 'meshdeck-accesslog', label: `${meshdeckLabel} + access log`, tools: [], fixedRate: false, engine: true,
      async start(ctx) {
        const file = join(ctx.dir, 'meshdeck-accesslog.yaml');
        writeFileSync(file, toYaml(withFileAccessLog(envoyBootstrap(ctx.upstream), join(ctx.dir, 'access.log'))));
        return startEngine('meshdeck-accesslog', engine, file, 'http', ctx);
      },
    },
    {
      // The cost of jwt_authn (RS256 signature checked on every request) + rbac (a JWT claim) on the request path.
      id: 'meshdeck-jwt-rbac', label: `${meshdeckLabel} + jwt_authn + rbac`, tools: [], fixedRate: true, engine: true,
      async start(ctx) {
        const { bootstrap, query } = await withJwtRbac(envoyBootstrap(ctx.upstream));
        const file = join(ctx.dir, 'meshdeck-jwt-rbac.yaml');
        writeFileSync(file, toYaml(bootstrap));
        const srv = await startEngine('meshdeck-jwt-rbac', engine, file, 'http', ctx);
        return { ...srv, url: srv.url + query };
      },
    },
    {
      id: 'undici', label: 'bare node (undici)', tools: [], fixedRate: false,
      async start(ctx) {
        const file = join(ctx.dir, 'undici.yaml');
        writeFileSync(file, toYaml(envoyBootstrap(ctx.upstream)));
        return startEngine('undici-proxy', STAND_IN, file, 'http', ctx);
      },
    },
    // TLS termination and HTTP/2 downstream, each against nginx doing the same (scripts/bench/protocols.mjs).
    ...protocolRows({ startEngine, engine, label: meshdeckLabel }),
  ];
  // --config=FILE (repeatable): Meshdeck on a user's bootstrap, listeners and clusters re-pointed.
  for (const cfg of opts.configs) {
    const path = resolve(opts.cwd, cfg);
    const name = basename(path).replace(/\.ya?ml$/, '');
    rows.push({
      id: `meshdeck:${name}`, label: `${meshdeckLabel} [${name}]`, tools: [], fixedRate: opts.configFixedRate, engine: true,
      async start(ctx) {
        const { yaml, scheme } = adaptUserConfig(readFileSync(path, 'utf8'), ctx.upstream);
        const file = join(ctx.dir, `config-${name}.yaml`);
        writeFileSync(file, `# adapted from ${path} by scripts/bench\n${yaml}`);
        return startEngine(`meshdeck[${name}]`, engine, file, scheme, ctx);
      },
    });
  }
  return rows;
}

/** Keep the rows named by --only (an id, or a prefix before ":" for --config rows). */
export function selectRows(rows, only) {
  if (!only?.length) return rows;
  const unknown = only.filter((o) => !rows.some((r) => r.id === o || r.id.split(':')[0] === o));
  if (unknown.length) throw new Error(`--only: unknown row(s) ${unknown.join(', ')}; known: ${[...new Set(rows.map((r) => r.id))].join(', ')}`);
  return rows.filter((r) => only.includes(r.id) || only.includes(r.id.split(':')[0]));
}

function withFileAccessLog(bootstrap, path) {
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  hcm.access_log = [{
    name: 'envoy.access_loggers.file',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path },
  }];
  return bootstrap;
}

function mkdir(d) { mkdirSync(d, { recursive: true }); }
