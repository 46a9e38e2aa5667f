// One replay next to what was recorded: per route (latency before and after, statuses, hosts),
// and request by request.

import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ReplayRunView, RouteSideView, TrafficPercentiles } from '../../../../engine/admin/contract';
import { ms, statusClass } from '../../components/format';
import { ErrorState, Loading } from '../../components/states';
import { runQuery } from './api';

export const statuses = (s: RouteSideView) =>
  Object.entries(s.byStatus)
    .sort()
    .map(([k, n]) => `${k === '0' ? 'none' : k}×${n}`)
    .join(' ');

export const pp = (p: TrafficPercentiles) => `${ms(p.p50)} / ${ms(p.p99)}`;

/** Host shares as "a 50% · b 50%" (the host's port is what tells them apart on loopback). */
export function hostShares(s: RouteSideView): string {
  const entries = Object.entries(s.hosts).sort((x, y) => y[1] - x[1]);
  if (!entries.length || (entries.length === 1 && entries[0][0] === '')) return '–';
  return entries.map(([h, n]) => `${h || 'none'} ${Math.round((n / Math.max(1, s.count)) * 100)}%`).join(' · ');
}

export function RunDetail({ run }: { run: ReplayRunView }) {
  const q = useQuery(runQuery(run.id, run.state === 'running'));
  if (q.isPending) return <Loading what="the run" />;
  if (q.isError) return <ErrorState error={q.error} what="the run" onRetry={() => void q.refetch()} />;
  const d = q.data;
  const chart = d.routes.slice(0, 8).map((r) => ({
    route: r.route.length > 28 ? `${r.route.slice(0, 27)}…` : r.route,
    'recorded p50': r.original.latencyMs.p50,
    'replay p50': r.replay.latencyMs.p50,
    'recorded p99': r.original.latencyMs.p99,
    'replay p99': r.replay.latencyMs.p99,
  }));
  return (
    <section className="panel wide" data-testid="run-detail">
      <h2>
        {d.run.label} <span className="muted small">against {d.run.target}{d.run.configVersion !== null ? `, config v${d.run.configVersion}` : ''}</span>
      </h2>
      <div className="run-grid">
        <table>
          <thead>
            <tr>
              <th>route</th>
              <th className="num">requests</th>
              <th>status recorded → replay</th>
              <th className="num">latency p50 / p99 recorded</th>
              <th className="num">replay</th>
              <th>upstream hosts (replay)</th>
            </tr>
          </thead>
          <tbody>
            {d.routes.map((r) => (
              <tr key={r.route} className={r.statusMismatches ? 'row-changed' : ''}>
                <td className="mono">{r.route}</td>
                <td className="num">{r.replay.count}</td>
                <td className="small">
                  {statuses(r.original)} → {statuses(r.replay)}
                  {r.statusMismatches ? <span className="pill pill-warn"> {r.statusMismatches} differ</span> : null}
                </td>
                <td className="num">{pp(r.original.latencyMs)}</td>
                <td className="num">{pp(r.replay.latencyMs)}</td>
                <td className="small mono">{hostShares(r.replay)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <figure className="chart">
          <figcaption>
            <strong>Latency per route</strong> <span className="muted">recorded vs replayed, ms</span>
          </figcaption>
          <ResponsiveContainer width="100%" height={200}>
            <BarChart data={chart} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="route" tick={{ fontSize: 10 }} interval={0} />
              <YAxis width={44} tick={{ fontSize: 11 }} />
              <Tooltip formatter={(v) => ms(v as number)} />
              <Legend iconSize={10} wrapperStyle={{ fontSize: 11 }} />
              <Bar dataKey="recorded p50" fill="#94a3b8" isAnimationActive={false} />
              <Bar dataKey="replay p50" fill="#3b82f6" isAnimationActive={false} />
              <Bar dataKey="recorded p99" fill="#cbd5e1" isAnimationActive={false} />
              <Bar dataKey="replay p99" fill="#1d4ed8" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </figure>
      </div>
      <h3 className="sub">
        Request by request <span className="muted small">(first {d.results.length} of {d.total})</span>
      </h3>
      <div className="results-scroll">
        <table className="compact results" data-testid="results">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>request</th>
              <th className="num">status rec → replay</th>
              <th className="num">latency rec → replay</th>
              <th>upstream rec → replay</th>
              <th>flags</th>
              <th className="num">sent late by</th>
            </tr>
          </thead>
          <tbody>
            {d.results.map((r) => {
              const differs = r.original.status > 0 && r.status !== r.original.status;
              return (
                <tr key={r.seq} className={differs ? 'row-changed' : ''}>
                  <td className="num muted">{r.seq}</td>
                  <td className="mono small ellipsis" title={r.url}>
                    {r.method} {r.url.replace(/^https?:\/\/[^/]+/, '')}
                  </td>
                  <td className="num">
                    <span className={statusClass(r.original.status)}>{r.original.status || '–'}</span> → <span className={statusClass(r.status)}>{r.status || r.error || '–'}</span>
                  </td>
                  <td className="num">
                    {ms(r.original.timeMs >= 0 ? r.original.timeMs : null)} → {ms(r.latencyMs)}
                  </td>
                  <td className="mono small">
                    {r.original.upstreamHost || '–'} → {r.upstreamHost || '–'}
                  </td>
                  <td className="mono small">{r.flags && r.flags !== '-' ? r.flags : ''}</td>
                  <td className="num">{ms(r.sendDelayMs)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
