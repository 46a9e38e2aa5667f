// A bound listener: one socket, HTTP/1.1 for now (HTTP/2 and TLS will hang off the filter chain).
// The listener outlives config snapshots: a reload swaps the compiled connection manager it hands
// new requests to, while requests already running finish on the one they started with.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Listener } from '../config/model';
import type { Logger } from '../log';
import { listenerStats, type ListenerStats } from '../observe/stats';
import type { CompiledHcm } from './hcm';

/** What a request runs against: the HCM of the snapshot that was current when it arrived. */
export interface ListenerTarget {
  hcm: CompiledHcm;
  /** Called when the request started; the returned function when it is over. */
  enter(): () => void;
}

export class BoundListener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private draining = false;
  boundAddress = '';
  boundPort = 0;
  /** listener.<bound address>.* (resolved once bound, when the address is known). */
  private stats: ListenerStats | undefined;

  constructor(
    public config: Listener,
    public target: ListenerTarget,
    private readonly log: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async bind(): Promise<void> {
    const hcm = this.target.hcm.config;
    const server = createServer({
      maxHeaderSize: hcm.maxRequestHeadersKb * 1024,
      requestTimeout: hcm.requestTimeoutMs,
      keepAliveTimeout: Math.min(hcm.idleTimeoutMs, 2 ** 31 - 1),
      // Envoy answers requests without Host (HTTP/1.0) too.
      requireHostHeader: false,
      joinDuplicateHeaders: true,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    server.on('connection', (sock: Socket) => this.onConnection(sock));
    server.on('clientError', (err: NodeJS.ErrnoException, sock: Socket) => this.onClientError(err, sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.config.address.address, port: this.config.address.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error(`listener '${this.name}': ${err.message}`));
    const addr = server.address();
    if (addr && typeof addr === 'object') {
      this.boundAddress = addr.address;
      this.boundPort = addr.port;
    }
    this.stats = listenerStats(this.target.hcm.store, this.addressString);
    this.server = server;
  }

  /** "127.0.0.1:10000" as the ready line and Envoy's listener stats name it. */
  get addressString(): string {
    const a = this.boundAddress.includes(':') ? `[${this.boundAddress}]` : this.boundAddress;
    return `${a}:${this.boundPort}`;
  }

  private onConnection(sock: Socket): void {
    this.sockets.add(sock);
    const st = this.target.hcm.stats;
    st.downstream_cx_total.inc();
    st.downstream_cx_active.inc();
    const ls = this.stats;
    const opened = performance.now();
    ls?.downstream_cx_total.inc();
    ls?.downstream_cx_active.inc();
    sock.once('close', () => {
      this.sockets.delete(sock);
      st.downstream_cx_active.dec();
      ls?.downstream_cx_active.dec();
      ls?.downstream_cx_destroy.inc();
      ls?.downstream_cx_length_ms.record(performance.now() - opened);
    });
    // A reset from a client must never surface as an unhandled error.
    sock.on('error', () => {});
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = this.target;
    if (this.draining) res.shouldKeepAlive = false;
    const leave = target.enter();
    target.hcm.handle(req, res, this.name, leave);
  }

  /** Malformed HTTP: answer 400 (431 for oversized headers, as Envoy) and close; others keep being served. */
  private onClientError(err: NodeJS.ErrnoException, sock: Socket): void {
    this.target.hcm.stats.downstream_cx_protocol_error.inc();
    if (err.code === 'ECONNRESET' || !sock.writable) {
      sock.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    this.log.debug(`listener '${this.name}': protocol error from ${sock.remoteAddress}: ${err.code ?? err.message}`);
    sock.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    sock.destroySoon?.();
  }

  /** Stop accepting; let requests in flight finish for up to `graceMs`, then cut what is left. */
  async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Keep-alive connections become idle as their last response ends: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, graceMs);
    await closed;
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
