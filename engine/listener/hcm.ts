// Envoy's HTTP connection manager (envoy.filters.network.http_connection_manager): per request,
// set Envoy's request headers, pick the route, run the HTTP filters in order, then the router;
// record what happened for the access log and the stats.

import { randomUUID } from 'node:crypto';
import type { DirectResponseAction, HttpConnectionManager, RedirectAction } from '../config/model';
import { getHttpFilter, ROUTER_FILTER } from '../filters/registry';
import type { HttpFilter } from '../filters/types';
import { ResponseFlag } from '../observe/response-flags';
import { hcmStats, type HcmStats, type StatsStore } from '../observe/stats';
import type { StreamInfo } from '../observe/stream-info';
import { forward, type RouterContext } from '../router/router';
import { RouteTable, type CompiledRoute } from '../router/route-table';
import { HttpStream, type DownstreamRequest, type DownstreamResponse } from './stream';
import { streamStartChannel } from '../traffic/tap';

export type AccessLogSink = (info: StreamInfo) => void;

export class CompiledHcm {
  readonly routeTable: RouteTable;
  readonly stats: HcmStats;
  readonly filters: HttpFilter[];

  constructor(
    readonly config: HttpConnectionManager,
    /** The engine's stats (the listener resolves its listener.<address>.* stats here). */
    readonly store: StatsStore,
    readonly router: RouterContext,
    readonly accessLog: AccessLogSink | undefined,
  ) {
    this.routeTable = new RouteTable(config.routeConfig);
    this.stats = hcmStats(store, config.statPrefix);
    this.filters = [];
    for (const f of config.httpFilters) {
      if (f.name === ROUTER_FILTER || f.disabled) continue;
      const factory = getHttpFilter(f.name);
      // The config loader already warned about filters Meshdeck does not run; they pass through.
      if (factory) this.filters.push(factory.create(f, { store, statPrefix: config.statPrefix }));
    }
  }

  handle(req: DownstreamRequest, res: DownstreamResponse, listenerName: string, onDone: () => void): void {
    const stream = new HttpStream(req, res, this, listenerName);
    const st = this.stats;
    st.downstream_rq_total.inc();
    (req.httpVersionMajor === 2 ? st.downstream_rq_http2_total : st.downstream_rq_http1_total).inc();
    st.downstream_rq_active.inc();
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      st.downstream_rq_active.dec();
      const code = stream.info.responseCode;
      if (code >= 500) st.downstream_rq_5xx.inc();
      else if (code >= 400) st.downstream_rq_4xx.inc();
      else if (code >= 300) st.downstream_rq_3xx.inc();
      else if (code >= 200) st.downstream_rq_2xx.inc();
      else if (code >= 100) st.downstream_rq_1xx.inc();
      stream.finish();
      st.downstream_rq_time.record(stream.info.lastDownstreamTxMono - stream.info.startMono);
      this.accessLog?.(stream.info);
      onDone();
    };
    // Each fires at most once on a response that lives for one request: plain listeners, no once() wrappers.
    res.on('finish', done);
    res.on('close', done);
    // Capture (engine/traffic/) taps here; with no capture on this is one flag check.
    if (streamStartChannel.hasSubscribers) streamStartChannel.publish(stream);
    if (req.httpVersionMajor !== 1 ? req.httpVersionMajor !== 2 : req.httpVersionMinor === 0 && !this.config.acceptHttp10) {
      // Envoy: HTTP/1.0 is refused with 426 unless accept_http_10; HTTP/0.9 is a protocol error.
      res.shouldKeepAlive = false;
      if (req.httpVersionMajor === 1) stream.sendLocalReply(426, '', 0, 'low_version');
      else {
        st.downstream_cx_protocol_error.inc();
        stream.sendLocalReply(400, '', ResponseFlag.DownstreamProtocolError, 'http1.codec_error');
      }
      req.resume();
      return;
    }
    this.prepareHeaders(stream);
    this.decode(stream);
  }

  /** x-request-id and x-forwarded-for / -proto as Envoy sets them on the way in. */
  private prepareHeaders(stream: HttpStream): void {
    const h = stream.req.headers;
    const c = this.config;
    let id = h['x-request-id'];
    // Envoy keeps a client's x-request-id unless the request is external (use_remote_address)
    // and preserve_external_request_id is off; it generates one when there is none.
    const external = c.useRemoteAddress;
    if (c.generateRequestId && (typeof id !== 'string' || !id || (external && !c.preserveExternalRequestId))) {
      id = randomUUID();
      h['x-request-id'] = id;
    }
    stream.info.requestId = typeof id === 'string' ? id : '';
    if (c.useRemoteAddress && !c.skipXffAppend) {
      const remote = stream.req.socket.remoteAddress ?? '';
      const xff = h['x-forwarded-for'];
      h['x-forwarded-for'] = xff ? `${xff}, ${remote}` : remote;
    }
    if (!h['x-forwarded-proto'] || c.useRemoteAddress) h['x-forwarded-proto'] = (stream.req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  }

  private decode(stream: HttpStream): void {
    const req = stream.req;
    const hit = this.routeTable.route(stream.info.authority, { path: stream.path, query: stream.query, headers: req.headers });
    if (!hit) {
      this.stats.no_route.inc();
      stream.sendLocalReply(404, '', ResponseFlag.NoRouteFound, 'route_not_found');
      req.resume();
      return;
    }
    stream.info.routeName = hit.route.route.name;
    stream.route = hit.route.route;
    stream.vhost = hit.vhost.vhost;
    this.runFilters(stream, hit.route, 0);
  }

  private runFilters(stream: HttpStream, route: CompiledRoute, from: number): void {
    for (let i = from; i < this.filters.length; i++) {
      const r = this.filters[i].decodeHeaders(stream);
      if (r === true) continue;
      if (r === false) {
        stream.req.resume();
        return;
      }
      r.then(
        (go) => (go ? this.runFilters(stream, route, i + 1) : stream.req.resume()),
        () => stream.sendLocalReply(500, 'filter error', 0, 'filter_error'),
      );
      return;
    }
    this.route(stream, route);
  }

  private route(stream: HttpStream, compiled: CompiledRoute): void {
    const action = compiled.route.action;
    switch (action.kind) {
      case 'direct_response':
        this.stats.rq_direct_response.inc();
        this.directResponse(stream, action, compiled);
        stream.req.resume();
        return;
      case 'redirect':
        this.stats.rq_redirect.inc();
        this.redirect(stream, action, compiled);
        stream.req.resume();
        return;
      case 'route':
        this.withBody(stream, action.retryPolicy !== undefined && action.retryPolicy.numRetries > 0, (body) =>
          forward(stream, compiled, this.router, body),
        );
    }
  }

  /**
   * The request body for the router: null when there is none, a Buffer when it may have to be
   * sent again (retries; bounded by per_connection_buffer_limit_bytes like Envoy's buffer),
   * otherwise 'stream' to pipe it through untouched.
   */
  private withBody(stream: HttpStream, mayRetry: boolean, go: (body: Buffer | null | 'stream') => void): void {
    const req = stream.req;
    const h = req.headers;
    const hasBody =
      h['transfer-encoding'] !== undefined ||
      (h['content-length'] !== undefined ? h['content-length'] !== '0' : req.httpVersionMajor === 2 && !(req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders);
    if (!hasBody) {
      stream.info.lastDownstreamRxMono = stream.info.startMono;
      req.resume();
      go(null);
      return;
    }
    if (!mayRetry) {
      // Streamed straight to the upstream; the router counts the bytes as undici sends them.
      go('stream');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      chunks.push(c);
    });
    req.on('end', () => {
      stream.info.bytesReceived = size;
      stream.info.lastDownstreamRxMono = performance.now();
      go(Buffer.concat(chunks, size));
    });
    req.on('error', () => {});
  }

  private directResponse(stream: HttpStream, a: DirectResponseAction, compiled: CompiledRoute): void {
    const body = a.body ?? '';
    const headers: string[] = ['server', this.config.serverName];
    if (body) headers.push('content-type', 'text/plain', 'content-length', String(Buffer.byteLength(body)));
    else headers.push('content-length', '0');
    compiled.responseMutations(headers, stream);
    stream.info.responseCode = a.status;
    stream.info.responseCodeDetails = 'direct_response';
    stream.info.responseHeaderList = headers;
    stream.info.bytesSent = stream.info.method === 'HEAD' ? 0 : Buffer.byteLength(body);
    stream.res.writeHead(a.status, headers);
    stream.res.end(stream.info.method === 'HEAD' ? undefined : body);
  }

  private redirect(stream: HttpStream, a: RedirectAction, compiled: CompiledRoute): void {
    const authority = stream.info.authority;
    const colon = authority.lastIndexOf(':');
    let host = colon > 0 && !authority.endsWith(']') ? authority.slice(0, colon) : authority;
    let port = colon > 0 && !authority.endsWith(']') ? authority.slice(colon + 1) : '';
    let scheme = 'http';
    if (a.httpsRedirect) scheme = 'https';
    if (a.schemeRedirect) scheme = a.schemeRedirect;
    if (scheme !== 'http' && (a.httpsRedirect || a.schemeRedirect)) port = '';
    if (a.hostRedirect) host = a.hostRedirect;
    if (a.portRedirect) port = String(a.portRedirect);
    let path = stream.path;
    if (a.pathRedirect !== undefined) path = a.pathRedirect;
    else if (a.prefixRewrite !== undefined && compiled.route.match.path.kind !== 'safe_regex') {
      path = a.prefixRewrite + path.slice(compiled.route.match.path.value.length);
    }
    const query = a.stripQuery || (a.pathRedirect ?? '').includes('?') ? '' : stream.query;
    const location = `${scheme}://${host}${port ? `:${port}` : ''}${path}${query ? `?${query}` : ''}`;
    const headers = ['server', this.config.serverName, 'location', location, 'content-length', '0'];
    compiled.responseMutations(headers, stream);
    stream.info.responseCode = a.responseCode;
    stream.info.responseHeaderList = headers;
    stream.info.responseCodeDetails = 'direct_response';
    stream.res.writeHead(a.responseCode, headers);
    stream.res.end();
  }
}
