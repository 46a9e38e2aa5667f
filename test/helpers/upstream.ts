// Real upstream HTTP servers on 127.0.0.1 for engine tests. Each answers with its own name so a
// test can see where the load balancer sent a request; behaviour can be changed while running.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamBehaviour {
  status?: number;
  delayMs?: number;
  /** Close the socket without answering. */
  reset?: boolean;
}

export interface Upstream {
  name: string;
  port: number;
  address: string;
  hits: number;
  /** Every request seen: method, url, headers, body. */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }>;
  behaviour: UpstreamBehaviour;
  /** Optional per-request override. */
  handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean;
  close(): Promise<void>;
}

export async function startUpstream(name: string, behaviour: UpstreamBehaviour = {}, opts: { record?: boolean } = {}): Promise<Upstream> {
  const u: Upstream = {
    name,
    port: 0,
    address: '127.0.0.1',
    hits: 0,
    seen: [],
    behaviour,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      u.hits++;
      const body = Buffer.concat(chunks);
      if (opts.record) u.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (u.handler?.(req, res, body)) return;
      const b = u.behaviour;
      const answer = () => {
        if (b.reset) {
          req.socket.destroy();
          return;
        }
        const text = `${name}\n`;
        res.writeHead(b.status ?? 200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), 'x-upstream': name });
        res.end(text);
      };
      if (b.delayMs) setTimeout(answer, b.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  u.port = (server.address() as AddressInfo).port;
  u.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return u;
}

export async function startUpstreams(names: string[], behaviour: UpstreamBehaviour = {}): Promise<Upstream[]> {
  return Promise.all(names.map((n) => startUpstream(n, { ...behaviour })));
}
