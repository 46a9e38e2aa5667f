// One downstream request/response exchange (Envoy's "stream"): the node request and response,
// the facts recorded for the access log, and Envoy's local replies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { newStreamInfo, type StreamInfo } from '../observe/stream-info';
import type { CompiledHcm } from './hcm';

export class HttpStream {
  readonly info: StreamInfo;
  /** Path without query string, and the query string without '?'. */
  path: string;
  query: string;
  /** Set when the downstream connection went away before the response finished. */
  downstreamGone = false;
  private done = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly hcm: CompiledHcm,
    listenerName: string,
  ) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    const sock = req.socket;
    this.info = newStreamInfo({
      startTimeMs: Date.now(),
      startMono: performance.now(),
      protocol: `HTTP/${req.httpVersion}`,
      method: req.method ?? 'GET',
      originalPath: url,
      authority: req.headers.host ?? '',
      requestHeaders: req.headers,
      downstreamRemoteAddress: `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`,
      downstreamLocalAddress: `${sock.localAddress ?? ''}:${sock.localPort ?? 0}`,
      listenerName,
      statPrefix: hcm.config.statPrefix,
    });
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  /**
   * Envoy's local reply: the status, `content-type: text/plain` when there is a body, the
   * response flag and the code details that the access log shows.
   */
  sendLocalReply(status: number, body: string, flag: number, details: string): void {
    this.info.responseFlags |= flag;
    this.info.responseCodeDetails = details;
    if (this.res.headersSent) {
      // Too late for a status: reset the stream as Envoy does.
      this.res.destroy();
      return;
    }
    const headers: string[] = ['server', this.hcm.config.serverName];
    if (body) headers.push('content-type', 'text/plain', 'content-length', String(Buffer.byteLength(body)));
    else headers.push('content-length', '0');
    this.info.responseCode = status;
    this.info.responseHeaderList = headers;
    this.info.bytesSent = this.info.method === 'HEAD' ? 0 : Buffer.byteLength(body);
    this.res.writeHead(status, headers);
    this.res.end(this.info.method === 'HEAD' ? undefined : body);
  }

  /** Called once when the exchange is over, whichever way it ended. */
  finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.info.lastDownstreamTxMono = performance.now();
    return true;
  }
}
