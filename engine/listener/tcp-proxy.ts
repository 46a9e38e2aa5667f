// envoy.filters.network.tcp_proxy: each downstream connection gets one upstream connection to a
// host the cluster's load balancer picks; bytes are copied both ways with backpressure, half-closes
// are passed on, and an idle connection (no bytes either way for idle_timeout) is closed. Stats
// carry Envoy's names (tcp.<stat_prefix>.*, cluster.<name>.upstream_cx_*), and each connection is
// one access-log entry with the TCP operators (BYTES_RECEIVED/SENT, UPSTREAM_HOST, DURATION, ...).

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { TcpProxy } from '../config/model';
import { ResponseFlag } from '../observe/response-flags';
import type { Counter, StatsStore } from '../observe/stats';
import { newStreamInfo, type StreamInfo } from '../observe/stream-info';
import type { ClusterRuntime, UpstreamHost } from '../upstream/cluster';
import { upstreamTlsOptions, tlsFailureReason } from '../upstream/tls';

export type TcpAccessLog = ((info: StreamInfo) => void) | undefined;

function tcpStats(store: StatsStore, prefix: string) {
  const p = `tcp.${prefix}.`;
  const c = (n: string) => store.counter(p + n);
  const g = (n: string) => store.gauge(p + n);
  return {
    downstream_cx_total: c('downstream_cx_total'),
    downstream_cx_no_route: c('downstream_cx_no_route'),
    downstream_cx_rx_bytes_total: c('downstream_cx_rx_bytes_total'),
    downstream_cx_tx_bytes_total: c('downstream_cx_tx_bytes_total'),
    downstream_flow_control_paused_reading_total: c('downstream_flow_control_paused_reading_total'),
    downstream_flow_control_resumed_reading_total: c('downstream_flow_control_resumed_reading_total'),
    idle_timeout: c('idle_timeout'),
    upstream_flush_total: c('upstream_flush_total'),
    upstream_flush_active: g('upstream_flush_active'),
  };
}

/** The cluster.<name>.* connection stats a TCP proxy keeps (HTTP pools count upstream_cx_total themselves). */
function clusterCxStats(store: StatsStore, cluster: string) {
  const p = `cluster.${cluster}.`;
  return {
    upstream_cx_total: store.counter(`${p}upstream_cx_total`),
    upstream_cx_active: store.gauge(`${p}upstream_cx_active`),
    upstream_cx_rx_bytes_total: store.counter(`${p}upstream_cx_rx_bytes_total`),
    upstream_cx_tx_bytes_total: store.counter(`${p}upstream_cx_tx_bytes_total`),
    upstream_cx_connect_fail: store.counter(`${p}upstream_cx_connect_fail`),
    upstream_cx_none_healthy: store.counter(`${p}upstream_cx_none_healthy`),
    upstream_cx_destroy_remote: store.counter(`${p}upstream_cx_destroy_remote`),
    upstream_cx_destroy_local: store.counter(`${p}upstream_cx_destroy_local`),
  };
}

export class CompiledTcpProxy {
  private readonly stats: ReturnType<typeof tcpStats>;
  private readonly cxStats = new Map<string, ReturnType<typeof clusterCxStats>>();

  constructor(
    readonly config: TcpProxy,
    readonly store: StatsStore,
    private readonly clusters: ReadonlyMap<string, ClusterRuntime>,
    private readonly random: () => number,
    private readonly accessLog: TcpAccessLog,
  ) {
    this.stats = tcpStats(store, config.statPrefix);
  }

  private pickCluster(): string | undefined {
    const w = this.config.weightedClusters;
    if (!w) return this.config.cluster;
    let r = Math.floor(this.random() * w.totalWeight);
    for (const c of w.clusters) {
      if (r < c.weight) return c.name;
      r -= c.weight;
    }
    return w.clusters[w.clusters.length - 1]?.name;
  }

  private clusterStats(name: string) {
    let s = this.cxStats.get(name);
    if (!s) this.cxStats.set(name, (s = clusterCxStats(this.store, name)));
    return s;
  }

  /** Proxies one accepted connection (plain or TLS-terminated; bytes already read are still in its buffer). */
  handle(down: Socket | TLSSocket, listenerName: string, serverName: string, onDone: () => void): void {
    const st = this.stats;
    st.downstream_cx_total.inc();
    const info = newStreamInfo({
      startTimeMs: Date.now(),
      startMono: performance.now(),
      downstreamRemoteAddress: `${down.remoteAddress ?? ''}:${down.remotePort ?? 0}`,
      downstreamLocalAddress: `${down.localAddress ?? ''}:${down.localPort ?? 0}`,
      listenerName,
      statPrefix: this.config.statPrefix,
    });
    if (serverName) info.requestedServerName = serverName;
    const clusterName = this.pickCluster() ?? '';
    info.clusterName = clusterName;
    const cluster = this.clusters.get(clusterName);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      info.lastDownstreamTxMono = performance.now();
      this.accessLog?.(info);
      onDone();
    };
    down.on('error', () => {});
    const refuse = (flag: number) => {
      info.responseFlags |= flag;
      down.destroy();
      finish();
    };
    if (!cluster) {
      st.downstream_cx_no_route.inc();
      refuse(ResponseFlag.NoClusterFound);
      return;
    }
    const cs = this.clusterStats(clusterName);
    const host = cluster.chooseHost({ hash: undefined, attempt: 0 });
    if (!host) {
      cs.upstream_cx_none_healthy.inc();
      refuse(ResponseFlag.NoHealthyUpstream);
      return;
    }
    info.upstreamHost = host.key;
    // Nothing is read from the client until the upstream is there (Envoy holds reads too).
    down.pause();
    const up = this.connect(cluster, host);
    cs.upstream_cx_total.inc();
    host.stats.cx_total.inc();
    let connected = false;
    let last = performance.now();
    const idle = this.config.idleTimeoutMs;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = (ms: number) => {
      idleTimer = setTimeout(() => {
        const quiet = performance.now() - last;
        if (quiet < idle) return armIdle(idle - quiet);
        st.idle_timeout.inc();
        up.destroy();
        down.destroy();
      }, ms);
      idleTimer.unref();
    };
    const connectTimer = setTimeout(() => up.destroy(Object.assign(new Error('connection timeout'), { code: 'ETIMEDOUT' })), cluster.config.connectTimeoutMs);
    up.once(cluster.config.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      connected = true;
      cs.upstream_cx_active.inc();
      info.upstreamLocalAddress = `${up.localAddress ?? ''}:${up.localPort ?? 0}`;
      info.firstUpstreamTxMono = performance.now();
      if (idle > 0) armIdle(idle);
      pipe(down, up, (n) => {
        info.bytesReceived += n;
        st.downstream_cx_rx_bytes_total.inc(n);
        cs.upstream_cx_tx_bytes_total.inc(n);
        last = performance.now();
      }, st.downstream_flow_control_paused_reading_total, st.downstream_flow_control_resumed_reading_total);
      pipe(up, down, (n) => {
        info.bytesSent += n;
        st.downstream_cx_tx_bytes_total.inc(n);
        cs.upstream_cx_rx_bytes_total.inc(n);
        last = performance.now();
      });
      down.resume();
    });
    up.on('error', (err: Error) => {
      if (connected) return;
      clearTimeout(connectTimer);
      cs.upstream_cx_connect_fail.inc();
      host.stats.cx_connect_fail.inc();
      info.responseFlags |= ResponseFlag.UpstreamConnectionFailure;
      const code = (err as NodeJS.ErrnoException).code;
      info.upstreamTransportFailureReason =
        tlsFailureReason(err) ?? (code === 'ECONNREFUSED' ? 'delayed connect error: Connection refused' : code === 'ETIMEDOUT' ? 'connection timeout' : err.message);
    });
    let upClosedFirst = false;
    up.on('close', () => {
      clearTimeout(connectTimer);
      if (connected) cs.upstream_cx_active.dec();
      if (!down.destroyed) {
        upClosedFirst = true;
        cs.upstream_cx_destroy_remote.inc();
        if (!connected) {
          down.destroy();
          // Logged now: the downstream socket's 'close' may come after the listener has shut down.
          finish();
        } else {
          // Flush what the upstream sent before closing (Envoy's FlushWrite).
          st.upstream_flush_total.inc();
          st.upstream_flush_active.inc();
          down.end(() => st.upstream_flush_active.dec());
          setTimeout(() => down.destroy(), 1000).unref();
        }
      }
    });
    down.on('close', () => {
      if (idleTimer) clearTimeout(idleTimer);
      if (!upClosedFirst && !up.destroyed) {
        cs.upstream_cx_destroy_local.inc();
        up.destroy();
      }
      finish();
    });
  }

  private connect(cluster: ClusterRuntime, host: UpstreamHost): Socket | TLSSocket {
    const tls = cluster.config.tls;
    if (!tls) return netConnect({ host: host.address, port: host.port, allowHalfOpen: true });
    return tlsConnect({ ...upstreamTlsOptions(tls, `cluster '${cluster.name}'`), host: host.address, port: host.port });
  }
}

/** Copies `from` → `to` with backpressure; `from`'s end becomes `to`'s end (half-close). */
function pipe(from: Duplex, to: Duplex, count: (n: number) => void, paused?: Counter, resumed?: Counter): void {
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    if (!to.write(chunk)) {
      paused?.inc();
      from.pause();
      to.once('drain', () => {
        resumed?.inc();
        from.resume();
      });
    }
  });
  from.on('end', () => {
    if (!to.destroyed) to.end();
  });
}
