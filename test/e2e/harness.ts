// The e2e world: mock upstreams (a little slow, a little failing, like a payment stack), the real
// engine as a child process (`node bin/meshdeck.mjs -c FILE`, killed and restarted on the same admin
// port), open-loop traffic through it, and Debian's chromium driven by playwright-core.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Pool } from 'undici';
import { startUpstream, type Upstream } from '../helpers/upstream';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.MESHDECK_CHROMIUM || '/usr/bin/chromium';
export const TOKEN = 'e2e-token-0123456789abcdef';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** Builds the console when dist/renderer is missing or older than renderer/ (CI builds it before `npm test`). */
export function ensureConsoleBuilt(): void {
  const index = join(ROOT, 'dist/renderer/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, 'renderer'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build:renderer failed');
}

export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface MockSpec {
  name: string;
  medianMs: number;
  errorRate: number;
}

/** Upstreams that answer after a log-normal delay around `medianMs`, with 503s at `errorRate`. */
export async function startMocks(specs: MockSpec[]): Promise<Map<string, Upstream>> {
  const out = new Map<string, Upstream>();
  for (const s of specs) {
    const u = await startUpstream(s.name);
    u.handler = (_req, res) => {
      const delay = s.medianMs * Math.exp(0.4 * gaussian());
      setTimeout(() => {
        const fail = Math.random() < s.errorRate;
        const body = JSON.stringify({ service: s.name, ok: !fail });
        res.writeHead(fail ? 503 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, delay);
      return true;
    };
    out.set(s.name, u);
  }
  return out;
}

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

export const MOCKS: MockSpec[] = [
  { name: 'payments-v1-a', medianMs: 4, errorRate: 0 },
  { name: 'payments-v1-b', medianMs: 5, errorRate: 0 },
  { name: 'payments-v2', medianMs: 3, errorRate: 0.01 },
  { name: 'fraud-1', medianMs: 2, errorRate: 0 },
  { name: 'fraud-2', medianMs: 20, errorRate: 0 },
  { name: 'psp-1', medianMs: 8, errorRate: 0 },
  { name: 'psp-2', medianMs: 10, errorRate: 0.15 },
];

/** The demo's shape (examples/payment-gateway.yaml) on free ports, with a fixed admin port. */
export function demoConfig(adminPort: number, m: Map<string, Upstream>): string {
  const ep = (name: string, weight?: number) =>
    `        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${m.get(name)!.port} } } }${weight ? `\n          load_balancing_weight: ${weight}` : ''}`;
  return `# e2e: the payment gateway demo on free ports
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }

static_resources:
  listeners:
  - name: gateway
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: gateway
          route_config:
            name: payments
            virtual_hosts:
            - name: api
              domains: ["*"]
              routes:
              - match: { prefix: "/load" }
                direct_response: { status: 200, body: { inline_string: "ok" } }
              # Canary: 10% of payment calls go to the new build.
              - name: payments
                match: { prefix: "/v1/payments" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: payments_v1, weight: 90 }
                    - { name: payments_v2, weight: 10 }
                  timeout: 2s
              - name: fraud
                match: { prefix: "/v1/fraud" }
                route: { cluster: fraud_score, timeout: 0.5s }
              - name: psp
                match: { prefix: "/v1/psp" }
                route: { cluster: psp, timeout: 3s }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router

  clusters:
  - name: payments_v1
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: payments_v1
      endpoints:
      - lb_endpoints:
${ep('payments-v1-a', 2)}
${ep('payments-v1-b', 1)}
  - name: payments_v2
    connect_timeout: 0.25s
    type: STATIC
    load_assignment:
      cluster_name: payments_v2
      endpoints:
      - lb_endpoints:
${ep('payments-v2')}
  - name: fraud_score
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: fraud_score
      endpoints:
      - lb_endpoints:
${ep('fraud-1')}
${ep('fraud-2')}
  - name: psp
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: psp
      endpoints:
      - lb_endpoints:
${ep('psp-1')}
${ep('psp-2')}
`;
}

export interface EngineProc {
  admin: string;
  gateway: string;
  proc: ChildProcess;
  stderr: string[];
  /** SIGKILL: the engine vanishes as a crash would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEngineProcess(configPath: string): Promise<EngineProc> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/meshdeck.mjs'), '-c', configPath, '-l', 'warning', '--drain-time-s', '0'], {
    cwd: ROOT,
    env: { ...process.env, MESHDECK_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr.push(d);
    if (stderr.length > 200) stderr.shift();
  });
  const rl = createInterface({ input: proc.stdout! });
  const ready = await new Promise<{ admin: string; listeners: Array<{ address: string }> }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`engine not ready within 20 s:\n${stderr.join('')}`)), 20_000);
    rl.once('line', (l) => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(l));
      } catch {
        reject(new Error(`not a ready line: ${l}`));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`engine exited (${code}) before it was ready:\n${stderr.join('')}`));
    });
  });
  const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
  return {
    admin: ready.admin,
    gateway: `http://${ready.listeners[0]!.address}`,
    proc,
    stderr,
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export function writeTempConfig(text: string): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-e2e-'));
  const path = join(dir, 'envoy.yaml');
  writeFileSync(path, text);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Open-loop traffic: `rate` requests per second spread over `paths`, sent in 10 ms slices, at most
 * `maxInFlight` outstanding (beyond that a slice is skipped and counted). The target can move
 * (the engine's listener port changes when it restarts).
 */
export class Traffic {
  sent = 0;
  done = 0;
  failed = 0;
  skipped = 0;
  private pool: Pool | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight = 0;
  private carry = 0;

  constructor(
    private target: string,
    public rate: number,
    public paths: string[],
    private readonly maxInFlight = 256,
  ) {}

  retarget(url: string): void {
    const old = this.pool;
    this.target = url;
    this.pool = undefined;
    void old?.destroy().catch(() => {});
  }

  start(): this {
    const sliceMs = 10;
    let last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.carry += (this.rate * (now - last)) / 1000;
      last = now;
      const n = Math.floor(this.carry);
      this.carry -= n;
      for (let i = 0; i < n; i++) {
        if (this.inFlight >= this.maxInFlight) {
          this.skipped++;
          continue;
        }
        this.fire(this.paths[(this.sent + i) % this.paths.length]!);
      }
    }, sliceMs);
    return this;
  }

  private fire(path: string): void {
    this.pool ??= new Pool(this.target, { connections: 64, keepAliveTimeout: 10_000 });
    this.sent++;
    this.inFlight++;
    const post = !path.startsWith('/load') && !path.startsWith('/v1/fraud');
    this.pool
      .request({ path, method: post ? 'POST' : 'GET', headers: post ? { 'content-type': 'application/json', 'idempotency-key': `k-${this.sent % 500}` } : {}, body: post ? '{"amount":1299,"currency":"EUR"}' : undefined })
      .then(async (r) => {
        await r.body.dump();
        this.done++;
      })
      .catch(() => {
        this.failed++;
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + 3000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.pool?.destroy().catch(() => {});
    this.pool = undefined;
  }
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browsing {
  browser: BrowserContext;
  page: Page;
  /** console.error, page errors and CSP violations, with when they happened (Date.now()). */
  problems: Array<{ at: number; kind: string; text: string }>;
  close(): Promise<void>;
}

/**
 * A fresh profile (persistent context on a new user-data-dir), every console error, page error and
 * CSP violation recorded. The page also records long tasks and when the dashboard became usable.
 */
export async function openBrowser(): Promise<Browsing> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdeck-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    colorScheme: 'light',
  });
  const problems: Browsing['problems'] = [];
  await context.addInitScript(() => {
    const w = globalThis as unknown as {
      __longTasks: Array<{ start: number; duration: number }>;
      __csp: string[];
      addEventListener: (t: string, f: (e: { blockedURI: string; violatedDirective: string }) => void) => void;
      PerformanceObserver: new (cb: (list: { getEntries(): Array<{ startTime: number; duration: number }> }) => void) => { observe(o: { type: string; buffered: boolean }): void };
    };
    w.__longTasks = [];
    w.__csp = [];
    new w.PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    w.addEventListener('securitypolicyviolation', (e) => {
      w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push({ at: Date.now(), kind: 'console.error', text: m.text() });
  });
  page.on('pageerror', (e) => problems.push({ at: Date.now(), kind: 'pageerror', text: `${e.name}: ${e.message}` }));
  return {
    browser: context,
    page,
    problems,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { Browser };
