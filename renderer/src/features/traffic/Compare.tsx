// Two replays of the same traffic side by side (config A vs config B): per route, statuses,
// latency percentiles and where requests went, with what changed highlighted.

import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ReplayComparison, RouteComparisonView } from '../../../../engine/admin/contract';
import { ms } from '../../components/format';
import { ErrorState, Loading } from '../../components/states';
import { compareQuery } from './api';
import { hostShares, statuses } from './RunDetail';

const signed = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : x < 0 ? '−' : '±'}${ms(Math.abs(x))}`);

function why(r: RouteComparisonView): string {
  const out: string[] = [];
  if (r.statusChanged) out.push(`${r.statusChanged} status change${r.statusChanged > 1 ? 's' : ''}`);
  if (r.hostShiftPct > 5) out.push(`hosts moved ${r.hostShiftPct} pts`);
  if (r.p99DeltaMs !== null && r.a.latencyMs.p99 !== null && Math.abs(r.p99DeltaMs) > 1 && Math.abs(r.p99DeltaMs) > 0.2 * r.a.latencyMs.p99) out.push(`p99 ${r.p99DeltaMs > 0 ? 'slower' : 'faster'}`);
  return out.join(' · ');
}

/** Each host's share of the route's requests in A and in B (the busiest route first). */
function hostData(c: ReplayComparison) {
  const route = c.routes[0];
  if (!route) return { route: '', rows: [] as Array<Record<string, string | number>> };
  const hosts = [...new Set([...Object.keys(route.a.hosts), ...Object.keys(route.b.hosts)])].filter(Boolean).sort();
  return {
    route: route.route,
    rows: hosts.map((h) => ({
      host: h,
      A: Math.round(((route.a.hosts[h] ?? 0) / Math.max(1, route.a.count)) * 1000) / 10,
      B: Math.round(((route.b.hosts[h] ?? 0) / Math.max(1, route.b.count)) * 1000) / 10,
    })),
  };
}

export function Compare({ a, b, live }: { a: string; b: string; live: boolean }) {
  const q = useQuery(compareQuery(a, b, live));
  if (q.isPending) return <Loading what="the comparison" />;
  if (q.isError) return <ErrorState error={q.error} what="the comparison" onRetry={() => void q.refetch()} />;
  const c = q.data;
  const latency = c.routes.slice(0, 8).map((r) => ({
    route: r.route.length > 28 ? `${r.route.slice(0, 27)}…` : r.route,
    'A p50': r.a.latencyMs.p50,
    'B p50': r.b.latencyMs.p50,
    'A p99': r.a.latencyMs.p99,
    'B p99': r.b.latencyMs.p99,
  }));
  const hosts = hostData(c);
  const flagged = c.routes.filter((r) => r.highlight).length;
  return (
    <section className="panel wide" data-testid="comparison">
      <h2>
        <span className="cmp-a">A</span> {c.a.label} <span className="muted">vs</span> <span className="cmp-b">B</span> {c.b.label}
      </h2>
      <p className={`notice ${flagged ? 'notice-warn' : 'notice-ok'}`} data-testid="compare-verdict">
        {flagged
          ? `${flagged} of ${c.routes.length} route${c.routes.length > 1 ? 's' : ''} changed between A and B (highlighted). ${c.statusChangesTotal} request${c.statusChangesTotal === 1 ? '' : 's'} got a different status.`
          : `No route changed noticeably between A and B: same statuses, p99 within 20%, hosts within 5 points.`}
      </p>
      <table data-testid="compare-routes">
        <thead>
          <tr>
            <th>route</th>
            <th className="num">requests A / B</th>
            <th>status A → B</th>
            <th className="num">p50 A / B</th>
            <th className="num">p99 A / B</th>
            <th className="num">Δ p99</th>
            <th>upstream hosts A → B</th>
            <th>what changed</th>
          </tr>
        </thead>
        <tbody>
          {c.routes.map((r) => (
            <tr key={r.route} className={r.highlight ? 'row-changed' : ''} data-highlight={r.highlight ? 'yes' : 'no'} data-route={r.route}>
              <td className="mono">{r.route}</td>
              <td className="num">
                {r.a.count} / {r.b.count}
              </td>
              <td className="small">
                {statuses(r.a)} → {statuses(r.b)}
              </td>
              <td className="num">
                {ms(r.a.latencyMs.p50)} / {ms(r.b.latencyMs.p50)}
              </td>
              <td className="num">
                {ms(r.a.latencyMs.p99)} / {ms(r.b.latencyMs.p99)}
              </td>
              <td className={`num ${r.p99DeltaMs !== null && r.p99DeltaMs > 0 ? 'bad-text' : 'ok-text'}`}>{signed(r.p99DeltaMs)}</td>
              <td className="small mono">
                <div>A: {hostShares(r.a)}</div>
                <div>B: {hostShares(r.b)}</div>
              </td>
              <td className="small" data-testid="why">
                {why(r)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="charts">
        <figure className="chart">
          <figcaption>
            <strong>Latency per route</strong> <span className="muted">A vs B, ms</span>
          </figcaption>
          <ResponsiveContainer width="100%" height={200}>
            <BarChart data={latency} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="route" tick={{ fontSize: 10 }} interval={0} />
              <YAxis width={44} tick={{ fontSize: 11 }} />
              <Tooltip formatter={(v) => ms(v as number)} />
              <Legend iconSize={10} wrapperStyle={{ fontSize: 11 }} />
              <Bar dataKey="A p50" fill="#94a3b8" isAnimationActive={false} />
              <Bar dataKey="B p50" fill="#f59e0b" isAnimationActive={false} />
              <Bar dataKey="A p99" fill="#64748b" isAnimationActive={false} />
              <Bar dataKey="B p99" fill="#d97706" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </figure>
        <figure className="chart" data-testid="host-chart">
          <figcaption>
            <strong>Where requests went</strong> <span className="muted">share per upstream host on {hosts.route || '–'}, %</span>
          </figcaption>
          <ResponsiveContainer width="100%" height={200}>
            <BarChart data={hosts.rows} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="host" tick={{ fontSize: 10 }} interval={0} />
              <YAxis width={36} tick={{ fontSize: 11 }} domain={[0, 100]} unit="%" />
              <Tooltip formatter={(v) => `${v}%`} />
              <Legend iconSize={10} wrapperStyle={{ fontSize: 11 }} />
              <Bar dataKey="A" fill="#94a3b8" isAnimationActive={false} />
              <Bar dataKey="B" fill="#f59e0b" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </figure>
      </div>
      {c.statusChanges.length ? (
        <>
          <h3 className="sub">Requests whose status changed ({c.statusChangesTotal})</h3>
          <table className="compact">
            <tbody>
              {c.statusChanges.slice(0, 50).map((s) => (
                <tr key={`${s.loop}:${s.index}`} className="row-changed">
                  <td className="mono small">
                    {s.method} {s.url.replace(/^https?:\/\/[^/]+/, '')}
                  </td>
                  <td className="num">
                    {s.a || '–'} → {s.b || '–'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
