// The dashboard: a card per cluster (which upstream is slow or failing, at a glance), then the
// chosen cluster's live charts and its hosts. Everything reads the time-series cache, which the
// event stream extends every second.

import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import type { ClusterView } from '../../../../engine/admin/contract';
import { clustersQuery, liveQuery, seriesQuery, type LiveTick } from '../../api/queries';
import { seriesKey, windowStats, type SeriesData } from '../../api/series';
import { lbPolicy, ms, pct, rate } from '../../components/format';
import { Sparkline } from '../../components/Sparkline';
import { Empty, ErrorState, Loading } from '../../components/states';
import { ErrorChart, LatencyChart, RpsChart } from './Charts';
import { findWorst, verdict, type HostStats } from './health';
import { BreakHost, HealthPill, HealthTimeline } from './HostHealth';
import { hostHealthQuery } from '../../api/health';

const WINDOWS = [
  { s: 60, label: '1 min' },
  { s: 300, label: '5 min' },
  { s: 900, label: '15 min' },
];
/** Seconds the overview's figures cover. */
const RECENT = 10;

interface HostRow extends HostStats {
  inFlight: number;
  weight: number;
  share: number;
  spark: number[];
}

function hostRows(c: ClusterView, data: SeriesData, live: LiveTick | null | undefined, now: number, window: number): HostRow[] {
  const liveHosts = new Map(live?.clusters.find((x) => x.name === c.name)?.hosts.map((h) => [h.address, h]) ?? []);
  const clusterReq = windowStats(data.series[seriesKey(c.name)], now, RECENT).requests;
  return c.hosts.map((h) => {
    const pts = data.series[seriesKey(c.name, h.address)] ?? [];
    const stats = windowStats(pts, now, RECENT);
    const lh = liveHosts.get(h.address);
    return {
      address: h.address,
      stats,
      healthy: lh?.healthy ?? h.healthy,
      inFlight: lh?.inFlight ?? h.inFlight,
      weight: h.weight,
      share: clusterReq > 0 ? stats.requests / clusterReq : 0,
      spark: pts.filter((p) => p.t > now - window).map((p) => p.p99 ?? 0),
    };
  });
}

export function Dashboard() {
  const [windowS, setWindowS] = useState(60);
  const [picked, setPicked] = useState<string | null>(null);
  const series = useQuery(seriesQuery());
  const clusters = useQuery(clustersQuery(RECENT, 5000));
  const live = useQuery(liveQuery());
  const hostHealth = useQuery(hostHealthQuery());

  const data = series.data;
  const now = data?.lastT ?? 0;
  const list = clusters.data?.clusters ?? [];
  const selected = list.find((c) => c.name === picked) ?? list[0];

  const overview = useMemo(() => {
    if (!data) return [];
    return list.map((c) => {
      const pts = data.series[seriesKey(c.name)] ?? [];
      const stats = windowStats(pts, now, RECENT);
      const hosts = hostRows(c, data, live.data, now, windowS);
      const unhealthy = hosts.filter((h) => !h.healthy).length;
      return { c, stats, hosts, worst: findWorst(hosts), unhealthy, v: verdict(stats, unhealthy, hosts.length), spark: pts.filter((p) => p.t > now - windowS).map((p) => p.rps) };
    });
  }, [data, list, live.data, now, windowS]);

  if (series.isError) return <ErrorState error={series.error} what="the traffic history" onRetry={() => void series.refetch()} />;
  if (clusters.isError && !clusters.data) return <ErrorState error={clusters.error} what="the clusters" onRetry={() => void clusters.refetch()} />;
  if (!data || !clusters.data) return <Loading what="live traffic" />;
  if (list.length === 0) {
    return (
      <Empty title="No clusters in the running config">
        A <em>cluster</em> is a group of upstream hosts (your services) that requests are sent to. Add one under{' '}
        <code>static_resources.clusters</code> in the YAML; this screen then shows how each host is doing.
      </Empty>
    );
  }

  const sel = overview.find((o) => o.c.name === selected?.name) ?? overview[0]!;
  // Host health (flags, ejections) of the selected cluster, kept live by the event stream.
  const health = hostHealth.data?.clusters.find((c) => c.name === sel.c.name);
  const healthOf = new Map(health?.hosts.map((h) => [h.address, h]) ?? []);
  const from = now - windowS;
  const selPoints = (data.series[seriesKey(sel.c.name)] ?? []).filter((p) => p.t > from);

  return (
    <div className="dashboard" data-testid="dashboard">
      <div className="screen-head">
        <div>
          <h1>Dashboard</h1>
          <p className="muted">
            Each <strong>cluster</strong> is a group of upstream hosts (copies of one service) that the proxy spreads requests over. Figures
            cover the last {RECENT} seconds; red means failing, amber means some errors.
          </p>
        </div>
        <div className="seg" role="group" aria-label="Time window">
          {WINDOWS.map((w) => (
            <button key={w.s} type="button" className={w.s === windowS ? 'on' : ''} aria-pressed={w.s === windowS} onClick={() => setWindowS(w.s)}>
              {w.label}
            </button>
          ))}
        </div>
      </div>

      <section className="cards" aria-label="Clusters overview">
        {overview.map(({ c, stats, hosts, worst, unhealthy, v, spark }) => (
          <button
            type="button"
            key={c.name}
            className={`card verdict-${v} ${c.name === sel.c.name ? 'selected' : ''}`}
            onClick={() => setPicked(c.name)}
            data-testid={`cluster-card-${c.name}`}
            aria-pressed={c.name === sel.c.name}
          >
            <div className="card-title">
              <span className="name">{c.name}</span>
              <span className={`pill pill-${v}`}>{v === 'ok' ? 'healthy' : v === 'idle' ? 'no traffic' : v === 'warn' ? 'some errors' : 'failing'}</span>
            </div>
            <div className="card-figures">
              <div>
                <span className="fig" data-testid="cluster-rps">{rate(stats.rps)}</span>
                <span className="unit">req/s</span>
              </div>
              <div>
                <span className="fig">{pct(stats.errorRate, 1)}</span>
                <span className="unit">errors</span>
              </div>
              <div>
                <span className="fig">{ms(stats.p99)}</span>
                <span className="unit">p99</span>
              </div>
            </div>
            <Sparkline values={spark} width={220} height={30} />
            <div className="card-foot muted">
              {hosts.length - unhealthy} of {hosts.length} upstream hosts healthy
              {worst.slowest ? (
                <div className="callout slow">
                  Slowest: <span className="mono">{worst.slowest}</span> ({ms(hosts.find((h) => h.address === worst.slowest)?.stats.p99)} p99)
                </div>
              ) : null}
              {worst.failing ? (
                <div className="callout failing">
                  Most errors: <span className="mono">{worst.failing}</span> ({pct(hosts.find((h) => h.address === worst.failing)?.stats.errorRate ?? 0, 1)})
                </div>
              ) : null}
            </div>
          </button>
        ))}
      </section>

      <section className="detail" aria-label={`Cluster ${sel.c.name}`} data-testid="cluster-detail">
        <h2>
          {sel.c.name}{' '}
          <span className="muted small">
            · {sel.hosts.length} upstream host{sel.hosts.length === 1 ? '' : 's'} · load balancing {lbPolicy(sel.c.lbPolicy).name}: {lbPolicy(sel.c.lbPolicy).text}
          </span>
        </h2>
        <div className="charts">
          <RpsChart points={selPoints} from={from} to={now} />
          <ErrorChart points={selPoints} from={from} to={now} />
          <LatencyChart points={selPoints} from={from} to={now} />
        </div>
        <HealthTimeline health={health} from={from} to={now} />
        <table className="hosts" data-testid="host-table">
          <thead>
            <tr>
              <th>Upstream host</th>
              <th>Health</th>
              <th title="Requests sent and not yet answered">In flight</th>
              <th>Req/s</th>
              <th title="Share of this cluster’s requests in the last 10 s">Share of requests</th>
              <th>Errors</th>
              <th>p50</th>
              <th>p99</th>
              <th>p99 over the window</th>
              <th title="Start a simulator incident on the instance behind this host, to watch detection and recovery">Break this host</th>
            </tr>
          </thead>
          <tbody>
            {sel.hosts.map((h) => {
              const slow = sel.worst.slowest === h.address;
              const failing = sel.worst.failing === h.address;
              return (
                <tr key={h.address} className={`${slow ? 'row-slow' : ''} ${failing ? 'row-failing' : ''}`} data-testid="host-row">
                  <td className="mono">
                    {h.address}
                    {slow ? <span className="tag tag-slow">slowest</span> : null}
                    {failing ? <span className="tag tag-failing">most errors</span> : null}
                  </td>
                  <td>
                    {healthOf.has(h.address) ? (
                      <HealthPill flags={healthOf.get(h.address)!.flags} ejections={healthOf.get(h.address)!.ejections} />
                    ) : h.healthy ? (
                      <span className="pill pill-ok">healthy</span>
                    ) : (
                      <span className="pill pill-bad">unhealthy</span>
                    )}
                  </td>
                  <td className="num">{h.inFlight}</td>
                  <td className="num">{rate(h.stats.rps)}</td>
                  <td className="num">{pct(h.share)}</td>
                  <td className="num">{pct(h.stats.errorRate, 1)}</td>
                  <td className="num">{ms(h.stats.p50)}</td>
                  <td className="num">{ms(h.stats.p99)}</td>
                  <td>
                    <Sparkline values={h.spark} width={140} height={22} className={slow ? 'spark-slow' : ''} />
                  </td>
                  <td>
                    <BreakHost cluster={sel.c.name} address={h.address} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {sel.stats.requests === 0 ? (
          <p className="muted">No requests reached this cluster in the last {RECENT} seconds. Send traffic to a route that points at it.</p>
        ) : null}
      </section>
    </div>
  );
}
