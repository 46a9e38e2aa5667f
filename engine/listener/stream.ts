// One downstream request/response exchange (Envoy's "stream"): the node request and response,
// the facts recorded for the access log, and Envoy's local replies.

import type { Socket } from 'node:net';
import type { Route, TypedExtension, VirtualHost } from '../config/model';
import { newStreamInfo, type StreamInfo } from '../observe/stream-info';
import type { CompiledHcm } from './hcm';

/**
 * What the connection manager needs of a downstream request. Meshdeck's HTTP/1 codec
 * (listener/http1/) and node:http2's compatibility request both provide it, so one
 * request path serves both protocols.
 */
export interface DownstreamRequest extends AsyncIterable<Buffer> {
  readonly method?: string;
  readonly url?: string;
  /** Lower-case names; repeated fields joined. The HCM adds x-request-id / XFF here. */
  readonly headers: Record<string, string | undefined>;
  /** Names as the client spelled them, values in order: [name, value, …] (capture keeps these). */
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly socket: Socket;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end' | 'aborted', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  /** Read (and drop) whatever body is left. */
  resume(): this;
  /** Called by the codec with each body chunk as it arrives (capture wraps it to copy the body). */
  push(chunk: Buffer, encoding?: BufferEncoding): boolean;
}

/** What the connection manager and the router need of a downstream response. */
export interface DownstreamResponse {
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  shouldKeepAlive: boolean;
  /** Status and headers as a flat [name, value, …] list. */
  writeHead(status: number, headers?: readonly (string | readonly string[])[]): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  destroy(): unknown;
  /** Trailers after the body (HTTP/2, or chunked HTTP/1.1); dropped where the framing cannot carry them. */
  addTrailers(trailers: Record<string, string>): void;
  on(event: 'drain' | 'close' | 'finish', listener: () => void): unknown;
  once(event: 'drain' | 'close' | 'finish', listener: () => void): unknown;
  off(event: 'drain' | 'close' | 'finish', listener: () => void): unknown;
}

export class HttpStream {
  readonly info: StreamInfo;
  /** Path without query string, and the query string without '?'. */
  path: string;
  query: string;
  /** The matched route and its virtual host (set before the HTTP filters run). */
  route: Route | undefined;
  vhost: VirtualHost | undefined;
  /** Set when the downstream connection went away before the response finished. */
  downstreamGone = false;
  private done = false;

  constructor(
    readonly req: DownstreamRequest,
    readonly res: DownstreamResponse,
    readonly hcm: CompiledHcm,
    listenerName: string,
  ) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    const sock = req.socket;
    // Filled in place rather than spread from a literal: this runs for every request.
    const info = (this.info = newStreamInfo());
    info.startTimeMs = Date.now();
    info.startMono = performance.now();
    // Envoy logs HTTP/2 as "HTTP/2" (node says "2.0").
    const major = req.httpVersionMajor;
    info.protocol = major === 2 ? 'HTTP/2' : major === 1 && req.httpVersionMinor === 1 ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`;
    info.method = req.method ?? 'GET';
    info.originalPath = url;
    info.authority = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
    info.requestHeaders = req.headers;
    info.downstreamRemoteAddress = `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`;
    info.downstreamLocalAddress = `${sock.localAddress ?? ''}:${sock.localPort ?? 0}`;
    info.listenerName = listenerName;
    info.statPrefix = hcm.config.statPrefix;
  }

  /** A filter's typed_per_filter_config, the most specific one as Envoy picks it: route, then virtual host. */
  perFilterConfig(filterName: string): TypedExtension | undefined {
    return this.route?.typedPerFilterConfig[filterName] ?? this.vhost?.typedPerFilterConfig[filterName];
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  /**
   * Envoy's local reply: the status, `content-type: text/plain` when there is a body, the
   * response flag and the code details that the access log shows.
   */
  sendLocalReply(status: number, body: string, flag: number, details: string, extraHeaders?: readonly string[]): void {
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
    // Headers a filter adds to its own reply (WWW-Authenticate, x-ratelimit…), flat [name, value, …].
    if (extraHeaders) headers.push(...extraHeaders);
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
