// Mock service instances: real HTTP/1.1 servers on 127.0.0.1 (a port picked by the OS) that
// answer like one instance of a payment service. Each instance draws its decisions from its own
// seeded stream, a fixed five uniforms per request in arrival order (reset?, hang?, error?, then a
// latency), so the k-th request it answers gets the same outcome in every run with the same seed,
// whatever the other instances and the load balancer do. Incidents change the thresholds and
// the latency factor, never the draws.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { compileLatency, type LatencySampler } from './latency';
import { Rng } from './rng';
import type { IncidentEffect, InstanceSpec } from './scenario';
import { compileTemplate, type CompiledTemplate } from './template';

const MAX_BODY = 1024 * 1024;

export type Outcome = 'ok' | 'error' | 'hang' | 'reset';

/** One decision of an instance (kept for tests when `record` is set). */
export interface Decision {
  seq: number;
  outcome: Outcome;
  status: number;
  latencyMs: number;
}

interface CompiledResponse {
  method?: string;
  prefix?: string;
  regex?: RegExp;
  status: number;
  headers: Array<[string, CompiledTemplate]>;
  body: CompiledTemplate;
}

export interface InstanceCounters {
  requests: number;
  ok: number;
  errors: number;
  hangs: number;
  resets: number;
}

export class MockInstance {
  port = 0;
  readonly address = '127.0.0.1';
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<{ timer: NodeJS.Timeout; socket: Socket }>();
  private readonly rng: Rng;
  private readonly idRng: Rng;
  private readonly sampler: LatencySampler;
  private readonly responses: CompiledResponse[];
  private readonly needsBody: boolean;
  private seq = 0;
  private readonly effects = new Map<string, IncidentEffect>();
  private down = false;
  private downQueue: Promise<void> = Promise.resolve();
  private closed = false;
  readonly counters: InstanceCounters = { requests: 0, ok: 0, errors: 0, hangs: 0, resets: 0 };
  /** The first `record` decisions, when asked for (tests). */
  readonly decisions: Decision[] = [];

  // Thresholds and factor from the spec and the active incidents (recomputed on change).
  private resetRate = 0;
  private hangRate = 0;
  private errorRate = 0;
  private burstRate = 0;
  private burstStatus = 503;
  private slowdown = 1;
  private readonly label: string;

  constructor(
    readonly service: string,
    readonly index: number,
    private readonly spec: InstanceSpec,
    seed: number,
    private readonly record = 0,
    /** PEM certificate and key: serve HTTPS (a scenario that runs encrypted end to end). */
    private readonly tls?: { cert: string; key: string },
  ) {
    this.label = `${service}#${index}`;
    this.rng = new Rng(seed, `instance/${service}/${index}`);
    this.idRng = new Rng(seed, `ids/${service}/${index}`);
    this.sampler = compileLatency(spec.latency);
    let needsBody = false;
    this.responses = spec.responses.map((r) => {
      const body = compileTemplate(r.body, 'response');
      const headers = Object.entries(r.headers).map(([k, v]) => [k, compileTemplate(v, 'response')] as [string, CompiledTemplate]);
      needsBody ||= body.needsBody || headers.some(([, t]) => t.needsBody);
      return { method: r.method, prefix: r.prefix, regex: r.regex !== undefined ? new RegExp(r.regex) : undefined, status: r.status, headers, body };
    });
    this.needsBody = needsBody;
    this.recompute();
  }

  get key(): string {
    return `${this.address}:${this.port}`;
  }

  get isUp(): boolean {
    return !this.down && !this.closed;
  }

  activeEffects(): IncidentEffect[] {
    return [...this.effects.values()];
  }

  async listen(port = 0): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const server = this.tls ? createHttpsServer({ ...this.tls, keepAliveTimeout: 60_000 }, handler) : createServer({ keepAliveTimeout: 60_000 }, handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.once('close', () => this.sockets.delete(s));
    });
    server.headersTimeout = 60_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.address, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening and drop every connection (clients see refused connections), or come back on the same port. */
  setDown(down: boolean): Promise<void> {
    const run = this.downQueue.then(() => this.setDownNow(down));
    this.downQueue = run.catch(() => {});
    return run;
  }

  private async setDownNow(down: boolean): Promise<void> {
    if (down === this.down || this.closed) return;
    this.down = down;
    if (down) {
      await this.stopServer();
    } else {
      // The port was ours a moment ago; if something took it meanwhile, keep trying.
      for (let attempt = 0; !this.closed && !this.down; attempt++) {
        try {
          await this.listen(this.port);
          return;
        } catch (e) {
          if (attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopServer();
  }

  private async stopServer(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const h of this.hung) clearTimeout(h.timer);
    this.hung.clear();
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Turn an incident's effect on (or off, with undefined). A `down` effect closes the server until no `down` is left. */
  setEffect(id: string, effect: IncidentEffect | undefined): Promise<void> {
    if (effect) this.effects.set(id, effect);
    else this.effects.delete(id);
    this.recompute();
    return this.setDown([...this.effects.values()].some((e) => e.type === 'down'));
  }

  private recompute(): void {
    const s = this.spec;
    let slowdown = 1;
    let burst = 0;
    let burstStatus = 503;
    let hang = s.hangs.rate;
    let reset = s.resets.rate;
    for (const e of this.effects.values()) {
      if (e.type === 'slowdown') slowdown *= e.factor;
      else if (e.type === 'errors' && e.rate >= burst) {
        burst = e.rate;
        burstStatus = e.status;
      } else if (e.type === 'hangs') hang = 1 - (1 - hang) * (1 - e.rate);
      else if (e.type === 'resets') reset = 1 - (1 - reset) * (1 - e.rate);
    }
    this.slowdown = slowdown;
    this.burstRate = burst;
    this.burstStatus = burstStatus;
    this.errorRate = 1 - (1 - s.errors.rate) * (1 - burst);
    this.hangRate = hang;
    this.resetRate = reset;
  }

  /** The next decision, drawn whatever it turns out to be (five uniforms). */
  decide(): Decision {
    const seq = this.seq++;
    const uReset = this.rng.next();
    const uHang = this.rng.next();
    const uErr = this.rng.next();
    const latencyMs = this.sampler.sample(this.rng) * this.slowdown;
    let outcome: Outcome = 'ok';
    let status = 0;
    if (uReset < this.resetRate) outcome = 'reset';
    else if (uHang < this.hangRate) outcome = 'hang';
    else if (uErr < this.errorRate) {
      outcome = 'error';
      // The burst's status for the draws the burst accounts for, the instance's own otherwise.
      status = uErr < this.burstRate ? this.burstStatus : this.spec.errors.status;
    }
    const d: Decision = { seq, outcome, status, latencyMs };
    if (this.decisions.length < this.record) this.decisions.push(d);
    return d;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const arrived = performance.now();
    this.counters.requests++;
    const d = this.decide();
    const chunks: Buffer[] | undefined = this.needsBody ? [] : undefined;
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (chunks && (size += c.length) <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const wait = Math.max(0, d.latencyMs - (performance.now() - arrived));
      if (d.outcome === 'hang') {
        this.counters.hangs++;
        const socket = req.socket;
        const h = { socket, timer: setTimeout(() => (this.hung.delete(h), socket.destroy()), this.spec.hangs.maxMs) };
        this.hung.add(h);
        socket.once('close', () => (clearTimeout(h.timer), this.hung.delete(h)));
        return;
      }
      const act = () => {
        if (res.destroyed || req.socket.destroyed) return;
        if (d.outcome === 'reset') {
          this.counters.resets++;
          req.socket.destroy();
          return;
        }
        if (d.outcome === 'error') {
          this.counters.errors++;
          this.send(res, d.status, [], JSON.stringify(errorBody(d.status, this.idRng)));
          return;
        }
        this.counters.ok++;
        this.answer(req, res, d.seq, chunks);
      };
      if (wait < 0.5) act();
      else setTimeout(act, wait);
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse, seq: number, chunks: Buffer[] | undefined): void {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const r = this.responses.find((x) => (!x.method || x.method === method) && (!x.prefix || path.startsWith(x.prefix)) && (!x.regex || x.regex.test(path)));
    if (!r) {
      // No response of the scenario answers this request: as a real service would, say so.
      this.send(res, 404, [], JSON.stringify({ error: { type: 'not_found', message: `${this.service} has no ${method} ${path.split('?')[0]}` } }));
      return;
    }
    let body: unknown;
    if (chunks) {
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        body = undefined;
      }
    }
    const ctx = { rng: this.idRng, seq, service: this.service, instance: this.index, method, path, headers: req.headers, body };
    const headers = r.headers.map(([k, t]) => [k, String(t.render(ctx) ?? '')] as [string, string]);
    const rendered = r.body.render(ctx);
    this.send(res, r.status, headers, typeof rendered === 'string' ? rendered : JSON.stringify(rendered));
  }

  private send(res: ServerResponse, status: number, headers: Array<[string, string]>, text: string): void {
    const h: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-sim-instance': this.label };
    for (const [k, v] of headers) h[k] = v;
    res.writeHead(status, h);
    res.end(text);
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request',
  402: 'card_declined',
  409: 'idempotency_conflict',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'upstream_timeout',
};

function errorBody(status: number, rng: Rng): unknown {
  return { error: { type: ERROR_TYPES[status] ?? 'error', status, request_id: `req_${rng.base36(20)}` } };
}

/** A service's instances. */
export class MockService {
  constructor(
    readonly name: string,
    readonly instances: MockInstance[],
  ) {}
}
