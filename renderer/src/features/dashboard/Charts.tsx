import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SeriesPoint } from '../../../../engine/admin/contract';
import { ms } from '../../components/format';

const timeTick = (t: number) => {
  const d = new Date(t * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
};

export interface ChartProps {
  points: SeriesPoint[];
  from: number;
  to: number;
}

function Frame({ title, help, children }: { title: string; help: string; children: React.ReactNode }) {
  return (
    <figure className="chart">
      <figcaption>
        <strong>{title}</strong> <span className="muted">{help}</span>
      </figcaption>
      <div className="chart-body">{children}</div>
    </figure>
  );
}

const common = { margin: { top: 6, right: 12, bottom: 0, left: 0 } };

function xAxis(from: number, to: number) {
  return <XAxis dataKey="t" type="number" domain={[from, to]} tickFormatter={timeTick} minTickGap={40} tick={{ fontSize: 11 }} allowDataOverflow />;
}

export const RpsChart = memo(function RpsChart({ points, from, to }: ChartProps) {
  return (
    <Frame title="Requests per second" help="how many requests this cluster answered each second">
      <ResponsiveContainer width="100%" height={160}>
        <LineChart data={points} {...common}>
          <CartesianGrid strokeDasharray="3 3" />
          {xAxis(from, to)}
          <YAxis width={44} tick={{ fontSize: 11 }} allowDecimals={false} />
          <Tooltip labelFormatter={(t) => timeTick(Number(t))} formatter={(v) => [Number(v).toFixed(0), 'req/s']} />
          <Line type="linear" dataKey="rps" name="req/s" stroke="#3b82f6" strokeWidth={1.6} dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </Frame>
  );
});

export const ErrorChart = memo(function ErrorChart({ points, from, to }: ChartProps) {
  const data = points.map((p) => ({ t: p.t, err: p.rps > 0 ? (p.errorsPerSec / p.rps) * 100 : 0 }));
  return (
    <Frame title="Error rate" help="share of requests that failed (5xx or no answer)">
      <ResponsiveContainer width="100%" height={160}>
        <LineChart data={data} {...common}>
          <CartesianGrid strokeDasharray="3 3" />
          {xAxis(from, to)}
          <YAxis width={44} tick={{ fontSize: 11 }} unit="%" domain={[0, (max: number) => Math.max(5, Math.ceil(max))]} />
          <Tooltip labelFormatter={(t) => timeTick(Number(t))} formatter={(v) => [`${Number(v).toFixed(1)}%`, 'errors']} />
          <Line type="linear" dataKey="err" name="errors" stroke="#ef4444" strokeWidth={1.6} dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </Frame>
  );
});

export const LatencyChart = memo(function LatencyChart({ points, from, to }: ChartProps) {
  return (
    <Frame title="Response time" help="p50: half the requests were faster · p99: all but 1 in 100 were faster">
      <ResponsiveContainer width="100%" height={160}>
        <LineChart data={points} {...common}>
          <CartesianGrid strokeDasharray="3 3" />
          {xAxis(from, to)}
          <YAxis width={56} tick={{ fontSize: 11 }} tickFormatter={(v: number) => `${v} ms`} />
          <Tooltip labelFormatter={(t) => timeTick(Number(t))} formatter={(v, name) => [ms(v as number), name]} />
          <Legend verticalAlign="top" height={18} iconSize={10} wrapperStyle={{ fontSize: 11 }} />
          <Line type="linear" dataKey="p50" name="p50" stroke="#10b981" strokeWidth={1.4} dot={false} isAnimationActive={false} connectNulls />
          <Line type="linear" dataKey="p90" name="p90" stroke="#f59e0b" strokeWidth={1.4} dot={false} isAnimationActive={false} connectNulls />
          <Line type="linear" dataKey="p99" name="p99" stroke="#ef4444" strokeWidth={1.4} dot={false} isAnimationActive={false} connectNulls />
        </LineChart>
      </ResponsiveContainer>
    </Frame>
  );
});
