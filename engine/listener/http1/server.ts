// A listening socket that speaks HTTP/1.1 through Meshdeck's codec (codec.ts). `handle(socket)`
// also takes sockets accepted elsewhere (a TLS handshake, a sniffed cleartext connection), so
// every HTTP/1 connection runs the same code whatever carried it.

import { createServer, type Server, type Socket } from 'node:net';
import { Http1Connection, type Http1Options, type ProtocolErrorHandler, type RequestHandler } from './connection';

export class Http1Server {
  /** The accepting socket (for cleartext listeners); sockets from elsewhere go to handle(). */
  readonly net: Server;
  private readonly conns = new Set<Http1Connection>();

  constructor(
    private readonly opts: Http1Options,
    private readonly onRequest: RequestHandler,
    private readonly onProtocolError: ProtocolErrorHandler,
    private readonly onConnection?: (socket: Socket) => void,
  ) {
    // allowHalfOpen: the codec decides what a client's FIN means (codec.ts onEnd).
    this.net = createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.handle(s));
  }

  /** Serve HTTP/1 on a connected socket. */
  handle(socket: Socket): Http1Connection {
    this.onConnection?.(socket);
    const c = new Http1Connection(socket, this.opts, this.onRequest, this.onProtocolError);
    this.conns.add(c);
    socket.once('close', () => this.conns.delete(c));
    return c;
  }

  /** Connections open now (any state). */
  get connections(): number {
    return this.conns.size;
  }

  /** Close every connection that has no request in flight; the others close after their response. */
  closeIdleConnections(): void {
    for (const c of this.conns) c.closeWhenIdle();
  }

  /** Cut every connection at once. */
  destroyAll(): void {
    for (const c of this.conns) c.socket.destroy();
  }
}
