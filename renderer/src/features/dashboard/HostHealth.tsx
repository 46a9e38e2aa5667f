// Per host: its health state (Envoy's health flags in words), a timeline of ejections and failed
// health checks under the latency chart, the recent health events, and "break this host" — an
// ad-hoc simulator incident on the instance behind it, to watch detection and recovery.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { HostHealthResponse, SimIncidentRequest, SimRunView } from '../../../../engine/admin/contract';
import { simKeys, simRunsQuery, startIncident } from '../../api/health';
import { clock } from '../../components/format';
import { describeEvent, describeFlags, healthSpans } from './health-timeline';

type ClusterHealth = HostHealthResponse['clusters'][number];

export function HealthPill({ flags, ejections }: { flags: string | undefined; ejections: number }) {
  if (flags === undefined) return null;
  const d = describeFlags(flags);
  return (
    <span className={`pill pill-${d.tone}`} title={`health_flags: ${flags}`} data-testid="host-health">
      {d.text}
      {ejections > 0 ? ` · ejected ${ejections}×` : ''}
    </span>
  );
}

const LANE = 16;

/** Ejections (red) and failed health checks (amber) per host over the chart's window. */
export function HealthTimeline({ health, from, to }: { health: ClusterHealth | undefined; from: number; to: number }) {
  if (!health) return null;
  const width = 1000;
  const x = (t: number) => ((t - from) / Math.max(1, to - from)) * width;
  const recent = health.hosts
    .flatMap((h) => h.events.map((e) => ({ host: h.address, e })))
    .sort((a, b) => b.e.t - a.e.t)
    .slice(0, 8);
  const checks = [health.activeHealthCheck ? 'active health checks' : '', health.outlierDetection ? 'outlier detection' : ''].filter(Boolean).join(' and ');
  return (
    <figure className="chart health-timeline" data-testid="health-timeline">
      <figcaption>
        <strong>Host health</strong>{' '}
        <span className="muted">
          {checks ? `${checks}: red = ejected, amber = failing its health check` : 'no health checks or outlier detection on this cluster'}
        </span>
      </figcaption>
      <div className="timeline-lanes">
        {health.hosts.map((h) => {
          const spans = healthSpans(h.events, from, to);
          return (
            <div className="timeline-lane" key={h.address} data-testid="health-lane" data-host={h.address}>
              <span className="mono lane-label">{h.address}</span>
              <svg viewBox={`0 0 ${width} ${LANE}`} preserveAspectRatio="none" height={LANE} role="img" aria-label={`${h.address}: ${spans.length} health incident(s) in the window`}>
                <rect x={0} y={LANE / 2 - 1} width={width} height={2} className="lane-base" />
                {spans.map((s, i) => (
                  <rect
                    key={i}
                    data-testid={`span-${s.kind}`}
                    className={s.kind === 'ejected' ? 'span-ejected' : 'span-hc'}
                    x={x(s.from)}
                    y={s.kind === 'ejected' ? 2 : 0}
                    width={Math.max(3, x(s.to) - x(s.from))}
                    height={s.kind === 'ejected' ? LANE - 4 : LANE}
                  >
                    <title>
                      {s.kind === 'ejected' ? `ejected (${s.reason}) at ${clock(s.from * 1000)}` : `failing its health check (${s.reason}) from ${clock(s.from * 1000)}`}
                      {s.open ? ', still out' : `, back at ${clock(s.to * 1000)} (${Math.round(s.to - s.from)} s)`}
                    </title>
                  </rect>
                ))}
              </svg>
            </div>
          );
        })}
      </div>
      {recent.length ? (
        <ol className="health-events" data-testid="health-events">
          {recent.map(({ host, e }, i) => (
            <li key={i} className={e.healthy ? 'ev-ok' : 'ev-bad'}>
              <span className="muted">{clock(e.t)}</span> <span className="mono">{host}</span> {describeEvent(e)}
            </li>
          ))}
        </ol>
      ) : null}
    </figure>
  );
}

const BREAKS: Record<string, { label: string; req: Record<string, unknown> }> = {
  errors: { label: 'erroring (50% 503)', req: { type: 'errors', rate: 0.5, status: 503 } },
  slowdown: { label: 'slow (×10 latency)', req: { type: 'slowdown', factor: 10 } },
  down: { label: 'down (refuses connections)', req: { type: 'down' } },
};

/** The active simulator run and instance answering for `address` in `cluster`, if any. */
export function useSimInstance(cluster: string, address: string): { run: SimRunView; index: number; service: string } | undefined {
  const q = useQuery(simRunsQuery());
  for (const run of q.data?.runs ?? []) {
    if (run.state !== 'running' && run.state !== 'paused') continue;
    const inst = run.instances.find((i) => i.address === address && i.clusters.includes(cluster));
    if (inst) return { run, index: inst.index, service: inst.service };
  }
  return undefined;
}

/** "Break this host": start an incident on the simulated instance behind the host for 30 s. */
export function BreakHost({ cluster, address }: { cluster: string; address: string }) {
  const target = useSimInstance(cluster, address);
  const qc = useQueryClient();
  const [kind, setKind] = useState('errors');
  const m = useMutation({
    mutationFn: () => startIncident({ id: target!.run.id, service: target!.service, instance: target!.index, duration: '30s', name: `${target!.service}#${target!.index} ${kind} (console)`, ...BREAKS[kind]!.req } as SimIncidentRequest),
    onSuccess: () => void qc.invalidateQueries({ queryKey: simKeys.all }),
  });
  if (!target) return <span className="muted small" title="Only hosts answered by a running simulation can be broken">—</span>;
  const active = target.run.activeIncidents.filter((i) => i.service === target.service && (i.instance === null || i.instance === target.index));
  return (
    <span className="break-host" data-testid="break-host">
      <select aria-label={`How to break ${address}`} value={kind} onChange={(e) => setKind(e.target.value)}>
        {Object.entries(BREAKS).map(([k, b]) => (
          <option key={k} value={k}>
            {b.label}
          </option>
        ))}
      </select>{' '}
      <button type="button" onClick={() => m.mutate()} disabled={m.isPending} title={`Start a 30 s simulator incident on ${target.service}#${target.index}`}>
        Break for 30 s
      </button>
      {m.isError ? <span className="small bad"> {(m.error as Error).message}</span> : null}
      {active.length ? <span className="small muted" data-testid="break-active"> {active.map((i) => `${i.type} ${i.detail}`.trim()).join(', ')} now</span> : null}
    </span>
  );
}
