// The admin endpoint: loopback only, every request carries the per-run token, and the Host and
// Origin must be the admin's own (DNS rebinding and CSRF defence). Envoy-compatible endpoints
// and the console's /api/v1 hang off the route table in routes.ts.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log';
import type { Engine } from '../server';
import { adminRoutes, type AdminRoute } from './routes';
import { apiRoutes } from './api/routes';
import { simRoutes } from '../sim/routes';
import { trafficRoutes } from '../traffic/routes';
import { serveConsole } from './static';

export interface AdminOptions {
  host: string;
  port: number;
  /** From MESHDECK_ADMIN_TOKEN, else generated. */
  token?: string;
  /** Origins besides the admin's own that may call it (the console's dev server, Electron's). */
  allowedOrigins: string[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class AdminServer {
  readonly token: string;
  readonly tokenGenerated: boolean;
  private server: Server | undefined;
  private port = 0;
  private host = '127.0.0.1';
  private readonly routes: Map<string, AdminRoute>;
  private readonly opts: AdminOptions;

  constructor(
    private readonly engine: Engine,
    opts: Partial<AdminOptions>,
    private readonly log: Logger,
  ) {
    this.opts = { host: '127.0.0.1', port: 0, allowedOrigins: [], ...opts };
    const fromEnv = opts.token ?? process.env.MESHDECK_ADMIN_TOKEN;
    this.tokenGenerated = !fromEnv;
    this.token = fromEnv || randomBytes(24).toString('base64url');
    this.routes = adminRoutes(apiRoutes(), simRoutes(), trafficRoutes());
  }

  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}`;
  }

  async listen(): Promise<void> {
    let host = this.opts.host;
    if (!LOOPBACK.has(host)) {
      // Envoy configs often say 0.0.0.0 for admin (in containers). Meshdeck's admin carries
      // control of the engine, so it stays on loopback.
      this.log.warn(`admin address ${host} is not loopback: binding 127.0.0.1 instead`);
      host = '127.0.0.1';
    }
    if (host === 'localhost') host = '127.0.0.1';
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: this.opts.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.host = host;
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private refuse(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${message}\n`);
  }

  private authorized(req: IncomingMessage, url: URL, tokenRequired = true): string | undefined {
    const host = req.headers.host ?? '';
    const okHosts = [`127.0.0.1:${this.port}`, `localhost:${this.port}`, `[::1]:${this.port}`];
    if (!okHosts.includes(host)) return 'foreign Host header';
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const own = okHosts.map((h) => `http://${h}`);
      if (!own.includes(origin) && !this.opts.allowedOrigins.includes(origin)) return 'foreign Origin';
    }
    if (!tokenRequired) return undefined;
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token') ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return 'missing or wrong token';
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      this.refuse(res, 400, 'bad request');
      return;
    }
    // The console's static files (a GET/HEAD outside /api/ that is no admin endpoint) are not
    // secret: Host and Origin are checked, the token is not (the page reads it from its URL fragment).
    const isConsole = (req.method === 'GET' || req.method === 'HEAD') && !url.pathname.startsWith('/api/') && !this.routes.has(url.pathname);
    const why = this.authorized(req, url, !isConsole);
    if (why) {
      this.refuse(res, why === 'missing or wrong token' ? 401 : 403, `refused: ${why}`);
      return;
    }
    if (isConsole) {
      await serveConsole(req, res, url);
      return;
    }
    const route = this.routes.get(url.pathname);
    if (!route) {
      this.refuse(res, 404, `no such admin endpoint: ${url.pathname}`);
      return;
    }
    if (route.method !== req.method && !(route.method === 'GET' && req.method === 'HEAD')) {
      // Envoy: mutations are POST only, and a GET to them is a 400 that says so.
      this.refuse(res, route.method === 'POST' ? 400 : 405, `${url.pathname} requires ${route.method}`);
      return;
    }
    try {
      await route.handle({ engine: this.engine, req, res, url });
    } catch (err) {
      this.log.error(`admin ${url.pathname}: ${(err as Error).message}`);
      if (!res.headersSent) this.refuse(res, 500, 'internal error');
      else res.destroy();
    }
  }
}

