// A bound listener: one TCP socket, and per connection the filter chain and protocol Envoy would
// pick. The first bytes say what the connection is (engine/listener/sniff.ts: a TLS ClientHello
// and its SNI, the HTTP/2 preface, or other), the chain is chosen by filter_chain_match
// (server_names), TLS is terminated by the chain's terminator (engine/listener/tls.ts), and the
// socket goes to the chain's terminal filter: the HTTP connection manager over HTTP/1.1 (node:http)
// or HTTP/2 (node:http2, h2 by ALPN or h2c by preface), or tcp_proxy. Both HTTP servers only parse:
// they never listen, and hand every request to the same CompiledHcm.handle.
//
// The listener outlives config snapshots: a reload swaps the compiled chains it hands new requests
// to, while requests already running finish on the ones they started with.

import { createServer as createH2Server, type Http2Server, type Http2Session, type ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FilterChainBase, Listener } from '../config/model';
import type { Logger } from '../log';
import { listenerStats, listenerStatAddress, type ListenerStats, type StatsStore } from '../observe/stats';
import type { CompiledHcm } from './hcm';
import { Http1Server } from './http1/server';
import type { DownstreamRequest, DownstreamResponse } from './stream';
import { matchServerName, sniff, type Sniffed } from './sniff';
import type { CompiledTcpProxy } from './tcp-proxy';
import { TlsTerminator, tlsStats, type TlsStats } from './tls';

/** One filter chain of a snapshot, compiled: its terminal filter is an HCM or a tcp_proxy. */
export interface CompiledChain {
  config: FilterChainBase;
  hcm?: CompiledHcm;
  tcp?: CompiledTcpProxy;
}

/** What a request runs against: the chains of the snapshot that was current when it arrived. */
export interface ListenerTarget {
  chains: CompiledChain[];
  /** Called when the request started; the returned function when it is over. */
  enter(): () => void;
}

/** The chain index a connection was given, kept on its socket (the TLS socket for TLS). */
const CHAIN = Symbol('meshdeck.chain');
type Tagged = { [CHAIN]?: number };

/** How long a silent client may keep the listener guessing what it speaks (then: not TLS, not h2). */
const SNIFF_TIMEOUT_MS = 1000;

export class BoundListener {
  private server: NetServer | undefined;
  /** HTTP/1.1 (Meshdeck's codec, listener/http1/) for every HTTP chain of this listener. */
  private h1: Http1Server | undefined;
  /** HTTP/2 sessions, created when the first h2 connection arrives. */
  private h2: Http2Server | undefined;
  private readonly sessions = new Set<Http2Session>();
  private readonly sockets = new Set<Socket>();
  private draining = false;
  boundAddress = '';
  boundPort = 0;
  /** listener.<bound address>.* (resolved once bound, when the address is known). */
  private stats: ListenerStats | undefined;
  private sslStats: TlsStats | undefined;
  /** TLS terminators by their context (as JSON): an unchanged context keeps its terminator and watcher across reloads. */
  private terminators = new Map<string, TlsTerminator>();
  private prepared: { config: Listener; terminators: Map<string, TlsTerminator> } | undefined;
  private _config: Listener;
  private _target: ListenerTarget;

  constructor(
    config: Listener,
    target: ListenerTarget,
    private readonly log: Logger,
  ) {
    this._config = config;
    this._target = target;
  }

  get name(): string {
    return this._config.name;
  }

  get config(): Listener {
    return this._config;
  }

  /** A reload: the new config's TLS contexts replace the old ones (prepared first, see prepare()). */
  set config(c: Listener) {
    let next = this.prepared?.config === c ? this.prepared.terminators : undefined;
    if (!next) this.dropPrepared();
    if (!next) {
      try {
        next = this.buildTerminators(c);
      } catch (e) {
        this.log.error(`listener '${c.name}': keeping the previous TLS settings: ${(e as Error).message}`);
        next = this.terminators;
      }
    }
    this.prepared = undefined;
    for (const [k, t] of this.terminators) if (next.get(k) !== t) t.close();
    this.terminators = next;
    this._config = c;
  }

  get target(): ListenerTarget {
    return this._target;
  }

  set target(t: ListenerTarget) {
    this._target = t;
  }

  /**
   * Reads the certificates a new config of this (already bound) listener needs; throws a clear
   * error when one cannot be read or used, so that the config is refused before it is committed.
   */
  prepare(c: Listener): void {
    this.dropPrepared();
    this.prepared = { config: c, terminators: this.buildTerminators(c) };
  }

  /** A prepared config that was not committed (the reload failed elsewhere): close what it built. */
  private dropPrepared(): void {
    if (!this.prepared) return;
    const live = new Set(this.terminators.values());
    for (const t of this.prepared.terminators.values()) if (!live.has(t)) t.close();
    this.prepared = undefined;
  }

  private get store(): StatsStore {
    const c = this._target.chains[0];
    return (c.hcm?.store ?? c.tcp!.store) as StatsStore;
  }

  /** A terminator per chain (its match and TLS settings); the same key across a reload keeps it. */
  private tlsKey(cfg: FilterChainBase, alpn: string[]): string {
    return JSON.stringify([cfg.name, cfg.serverNames, cfg.tls, alpn]);
  }

  /** The ALPN a TLS chain offers when its config lists none: what its codec can speak. */
  private defaultAlpn(i: number, c: Listener): string[] {
    const http = c.filterChains[i];
    if (!http) return [];
    return http.hcm.codecType === 'HTTP1' ? ['http/1.1'] : http.hcm.codecType === 'HTTP2' ? ['h2'] : ['h2', 'http/1.1'];
  }

  /** Chains in the order the snapshot compiles them: HTTP ones, then tcp_proxy ones. */
  private chainConfigs(c: Listener): FilterChainBase[] {
    return [...c.filterChains, ...c.tcpFilterChains];
  }

  private buildTerminators(c: Listener): Map<string, TlsTerminator> {
    const out = new Map<string, TlsTerminator>();
    const chains = this.chainConfigs(c);
    const built: TlsTerminator[] = [];
    try {
      chains.forEach((cfg, i) => {
        if (!cfg.tls) return;
        const alpn = this.defaultAlpn(i, c);
        const key = this.tlsKey(cfg, alpn);
        if (out.has(key)) return;
        const existing = this.terminators.get(key);
        if (existing) {
          out.set(key, existing);
          return;
        }
        const where = `listener '${c.name}' filter chain ${cfg.name ? `'${cfg.name}'` : i} transport_socket`;
        const t = new TlsTerminator(cfg.tls, alpn, where, this.log, this.sslStats!);
        t.onSecure = (s) => this.onSecure(s, key);
        t.watch();
        built.push(t);
        out.set(key, t);
      });
    } catch (e) {
      for (const t of built) t.close();
      throw e;
    }
    return out;
  }

  async bind(): Promise<void> {
    const c = this._config;
    const first = this._target.chains.find((ch) => ch.hcm)?.hcm?.config;
    if (first) {
      const h1 = new Http1Server(
        {
          maxHeaderSize: first.maxRequestHeadersKb * 1024,
          requestTimeoutMs: first.requestTimeoutMs,
          idleTimeoutMs: Math.min(first.idleTimeoutMs, 2 ** 31 - 1),
        },
        (req, res) => this.onRequest(req, res),
        (err, sock) => this.onClientError(err, sock),
      );
      this.h1 = h1;
    }
    const server = createNetServer({ allowHalfOpen: true, noDelay: true }, (sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: c.address.address, port: c.address.port, exclusive: true }, () => {
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
    this.stats = listenerStats(this.store, this.addressString);
    this.sslStats = tlsStats(this.store, `listener.${listenerStatAddress(this.addressString)}.`);
    try {
      this.terminators = this.buildTerminators(c);
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw e;
    }
    this.server = server;
  }

  /** "127.0.0.1:10000" as the ready line and Envoy's listener stats name it. */
  get addressString(): string {
    const a = this.boundAddress.includes(':') ? `[${this.boundAddress}]` : this.boundAddress;
    return `${a}:${this.boundPort}`;
  }

  private onConnection(sock: Socket): void {
    this.sockets.add(sock);
    const ls = this.stats;
    const opened = performance.now();
    ls?.downstream_cx_total.inc();
    ls?.downstream_cx_active.inc();
    sock.once('close', () => {
      this.sockets.delete(sock);
      ls?.downstream_cx_active.dec();
      ls?.downstream_cx_destroy.inc();
      ls?.downstream_cx_length_ms.record(performance.now() - opened);
    });
    // A reset from a client must never surface as an unhandled error.
    sock.on('error', () => {});
    if (this.draining) {
      sock.destroy();
      return;
    }
    const chains = this._config;
    const tlsAware = (f: FilterChainBase) => f.tls !== undefined || f.serverNames.length > 0 || f.transportProtocol !== '';
    const wantTls = chains.filterChains.some(tlsAware) || chains.tcpFilterChains.some(tlsAware);
    const plain = this.plainChain();
    const wantH2 = plain !== undefined && this._target.chains[plain]?.hcm?.config.codecType === 'AUTO';
    if (!wantTls && !wantH2) {
      this.dispatch(sock, { kind: 'other' });
      return;
    }
    sniff(sock, wantTls, wantH2, SNIFF_TIMEOUT_MS, (s) => this.dispatch(sock, s));
  }

  /** The chain for connections that are not TLS: the first one with neither TLS nor server_names nor transport_protocol tls. */
  private plainChain(): number | undefined {
    const i = this._target.chains.findIndex((c) => !c.config.tls && c.config.serverNames.length === 0 && c.config.transportProtocol !== 'tls');
    return i < 0 ? undefined : i;
  }

  private dispatch(sock: Socket, s: Sniffed): void {
    const chains = this._target.chains;
    let index: number | undefined;
    if (s.kind === 'tls') {
      // server_names only match TLS connections; a chain without names and TLS is the fallback.
      const candidates = chains
        .map((c, i) => ({ serverNames: c.config.serverNames, i, c }))
        .filter((x) => x.c.config.transportProtocol !== 'raw_buffer' && (x.c.config.tls || x.serverNames.length || x.c.config.transportProtocol === 'tls'));
      index = matchServerName(candidates, s.serverName)?.i;
      if (index === undefined) {
        const plain = this.plainChain();
        if (plain !== undefined && chains[plain].config.transportProtocol !== 'raw_buffer') index = plain;
      }
    } else index = this.plainChain();
    const chain = index === undefined ? undefined : chains[index];
    if (!chain) {
      // Envoy: no filter chain matched → the connection is closed.
      this.log.debug(`listener '${this.name}': no filter chain matches a connection from ${sock.remoteAddress}${s.kind === 'tls' ? ` (SNI '${s.serverName}')` : ''}`);
      sock.destroy();
      return;
    }
    (sock as Tagged)[CHAIN] = index;
    if (chain.config.tls) {
      const t = this.terminatorFor(index!);
      if (!t) {
        sock.destroy();
        return;
      }
      t.server.emit('connection', sock);
      return;
    }
    this.toTerminal(sock, index!, s.kind === 'h2c', s.kind === 'tls' ? s.serverName : '');
  }

  private terminatorFor(index: number): TlsTerminator | undefined {
    const cfg = this.chainConfigs(this._config)[index];
    return cfg ? this.terminators.get(this.tlsKey(cfg, this.defaultAlpn(index, this._config))) : undefined;
  }

  /** A TLS handshake finished: hand the decrypted stream to the chain's terminal filter (ALPN picks the HTTP codec). */
  private onSecure(tls: TLSSocket, key: string): void {
    const index = this.chainConfigs(this._config).findIndex((cfg, i) => cfg.tls && this.tlsKey(cfg, this.defaultAlpn(i, this._config)) === key);
    if (index < 0) {
      tls.destroy();
      return;
    }
    (tls as Tagged)[CHAIN] = index;
    const sni = typeof (tls as { servername?: unknown }).servername === 'string' ? (tls as unknown as { servername: string }).servername : '';
    const hcm = this._target.chains[index]?.hcm;
    this.toTerminal(tls, index, tls.alpnProtocol === 'h2' || (tls.alpnProtocol !== 'http/1.1' && hcm?.config.codecType === 'HTTP2'), sni);
  }

  private toTerminal(sock: Socket, index: number, h2: boolean, serverName: string): void {
    const chain = this._target.chains[index];
    if (chain.tcp) {
      const leave = this._target.enter();
      chain.tcp.handle(sock, this.name, serverName, leave);
      return;
    }
    const hcm = chain.hcm!;
    const st = hcm.stats;
    st.downstream_cx_total.inc();
    st.downstream_cx_active.inc();
    if ((sock as TLSSocket).encrypted) st.downstream_cx_ssl_total.inc();
    (h2 || hcm.config.codecType === 'HTTP2' ? st.downstream_cx_http2_total : st.downstream_cx_http1_total).inc();
    sock.once('close', () => st.downstream_cx_active.dec());
    if (h2 || hcm.config.codecType === 'HTTP2') this.http2().emit('connection', sock);
    else {
      this.h1!.handle(sock);
      // Bytes read while sniffing wait in the socket's buffer; flowing again hands them to the parser.
      if (sock.isPaused()) process.nextTick(() => sock.resume());
    }
  }

  private http2(): Http2Server {
    if (this.h2) return this.h2;
    const hcm = this._target.chains.find((c) => c.hcm)?.hcm?.config;
    const settings: Record<string, number> = {};
    if (hcm?.http2MaxConcurrentStreams) settings.maxConcurrentStreams = hcm.http2MaxConcurrentStreams;
    if (hcm?.http2InitialStreamWindowSize) settings.initialWindowSize = hcm.http2InitialStreamWindowSize;
    const h2 = createH2Server({ settings, maxHeaderListPairs: 1000 });
    // node:http2's compatibility request/response provide what the HCM reads (stream.ts).
    h2.on('request', (req, res) => this.onRequest(req as unknown as DownstreamRequest, res as unknown as DownstreamResponse));
    h2.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.on('error', () => {});
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    h2.on('sessionError', () => {});
    this.h2 = h2;
    return h2;
  }

  private onRequest(req: DownstreamRequest, res: DownstreamResponse): void {
    const target = this._target;
    const chains = target.chains;
    const chain = chains.length === 1 ? chains[0] : chains[(req.socket as Tagged)[CHAIN] ?? 0];
    const hcm = chain?.hcm ?? chains.find((c) => c.hcm)?.hcm;
    if (!hcm) {
      res.destroy();
      return;
    }
    if (this.draining && req.httpVersionMajor === 1) res.shouldKeepAlive = false;
    const leave = target.enter();
    hcm.handle(req, res, this.name, leave);
  }

  /** Malformed HTTP: answer 400 (431 for oversized headers, as Envoy) and close; others keep being served. */
  private onClientError(err: NodeJS.ErrnoException, sock: Socket): void {
    const chains = this._target.chains;
    const hcm = chains[(sock as Tagged)[CHAIN] ?? 0]?.hcm ?? chains.find((c) => c.hcm)?.hcm;
    hcm?.stats.downstream_cx_protocol_error.inc();
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
    this.dropPrepared();
    for (const t of this.terminators.values()) t.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const h1 = this.h1;
    h1?.closeIdleConnections();
    for (const s of this.sessions) s.close();
    // Keep-alive connections become idle as their last response ends: close them as they do.
    const sweep = setInterval(() => h1?.closeIdleConnections(), 50);
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, graceMs);
    await closed;
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
