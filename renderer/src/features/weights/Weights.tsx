// Weights: how requests are split — between the hosts of each cluster (load_balancing_weight) and
// between clusters on a route (weighted_clusters) — configured, expected and observed side by side.
// Moving a slider previews the expected share; Apply edits the YAML through POST /weights.

import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import type { ClusterView, ConfigResponse, WeightEdit } from '../../../../engine/admin/contract';
import { clustersQuery, configQuery } from '../../api/queries';
import { changedHunks, diffLines } from '../../components/diff';
import { lbPolicy, pct } from '../../components/format';
import { Empty, ErrorState, Loading } from '../../components/states';
import { useApplyWeights, type ApplyOutcome } from './api';
import { findSplits, type Split } from './splits';

const WINDOW = 10;

interface Row {
  id: string;
  label: string;
  sub?: string;
  weight: number;
  /** Rows sharing a group share the weight total (a priority level). */
  group: number;
  healthy: boolean;
  observed: number;
  requests: number;
}

function expectedShares(rows: Row[], weights: Map<string, number>): Map<string, number> {
  const totals = new Map<number, number>();
  for (const r of rows) if (r.healthy) totals.set(r.group, (totals.get(r.group) ?? 0) + (weights.get(r.id) ?? r.weight));
  return new Map(rows.map((r) => [r.id, r.healthy && (totals.get(r.group) ?? 0) > 0 ? (weights.get(r.id) ?? r.weight) / totals.get(r.group)! : 0]));
}

function ShareBars({ expected, preview, observed }: { expected: number; preview: number; observed: number }) {
  const changed = Math.abs(preview - expected) > 1e-9;
  return (
    <div className="bars">
      <div className="bar-line" title="Expected share: what the weights ask for">
        <span className="bar-label">expected</span>
        <span className="bar-track">
          <span className="bar bar-expected" style={{ width: pct(expected, 2) }} />
          {changed ? <span className="bar bar-preview" style={{ width: pct(preview, 2) }} /> : null}
        </span>
        <span className="bar-value">
          {pct(expected)}
          {changed ? <strong className="preview" data-testid="preview-share"> → {pct(preview)}</strong> : null}
        </span>
      </div>
      <div className="bar-line" title={`Observed share: what the hosts actually got in the last ${WINDOW} s`}>
        <span className="bar-label">observed</span>
        <span className="bar-track">
          <span className="bar bar-observed" style={{ width: pct(observed, 2) }} />
        </span>
        <span className="bar-value" data-testid="observed-share" data-value={observed.toFixed(4)}>
          {pct(observed)}
        </span>
      </div>
    </div>
  );
}

function WeightEditor(props: {
  title: React.ReactNode;
  explain: React.ReactNode;
  rows: Row[];
  min: number;
  config: ConfigResponse;
  testId: string;
  makeEdit: (row: Row, weight: number) => WeightEdit;
}) {
  const { rows, config } = props;
  const [draft, setDraft] = useState(new Map<string, number>());
  // The version the user started editing from: Apply sends it, so a change made meanwhile
  // (another tab, the file on disk, a script) answers 409 instead of being overwritten unseen.
  const [baseVersion, setBaseVersion] = useState<number | null>(null);
  // What the last Apply did, shown in this card, next to the button that did it.
  const [outcome, setOutcome] = useState<ApplyOutcome | null>(null);
  const apply = useApplyWeights();
  useEffect(() => {
    if (draft.size === 0) setBaseVersion(null);
  }, [draft]);

  const current = useMemo(() => expectedShares(rows, new Map()), [rows]);
  const preview = useMemo(() => expectedShares(rows, draft), [rows, draft]);
  const edits = rows.filter((r) => draft.has(r.id) && draft.get(r.id) !== r.weight);
  const invalid = rows.some((r) => {
    const w = draft.get(r.id);
    return w !== undefined && (!Number.isInteger(w) || w < props.min);
  });
  const setW = (id: string, v: number) => {
    setBaseVersion((b) => b ?? config.version);
    setDraft((d) => new Map(d).set(id, v));
  };
  const stale = baseVersion !== null && baseVersion !== config.version;

  return (
    <section className="weight-card" data-testid={props.testId}>
      <header>
        <h3>{props.title}</h3>
        <p className="muted small">{props.explain}</p>
      </header>
      <table className="weights">
        <thead>
          <tr>
            <th>{props.testId.startsWith('split') ? 'Cluster' : 'Upstream host'}</th>
            <th>Weight</th>
            <th className="share-col">Share of requests</th>
            <th className="num" title={`Requests in the last ${WINDOW} s`}>
              Requests
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const w = draft.get(r.id) ?? r.weight;
            const max = Math.max(100, r.weight * 2, w);
            return (
              <tr key={r.id} data-testid="weight-row" data-id={r.id}>
                <td>
                  <div className="mono">{r.label}</div>
                  {r.sub ? <div className="muted small">{r.sub}</div> : null}
                  {!r.healthy ? <span className="pill pill-bad">unhealthy: gets no traffic</span> : null}
                </td>
                <td className="weight-input">
                  <input
                    type="range"
                    min={props.min}
                    max={max}
                    value={w}
                    aria-label={`Weight of ${r.label}`}
                    onChange={(e) => setW(r.id, Number(e.target.value))}
                  />
                  <input
                    type="number"
                    min={props.min}
                    value={Number.isFinite(w) ? w : ''}
                    aria-label={`Weight of ${r.label} (number)`}
                    onChange={(e) => setW(r.id, e.target.value === '' ? Number.NaN : Number(e.target.value))}
                  />
                </td>
                <td>
                  <ShareBars expected={current.get(r.id) ?? 0} preview={preview.get(r.id) ?? 0} observed={r.observed} />
                </td>
                <td className="num">{r.requests}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <footer>
        {invalid ? <span className="warn-text">Weights must be whole numbers of at least {props.min}.</span> : null}
        {stale && !invalid ? (
          <span className="warn-text" data-testid="stale-draft">
            The config changed since you started editing (version {baseVersion} → {config.version}).
          </span>
        ) : null}
        <button type="button" className="secondary" disabled={draft.size === 0 || apply.isPending} onClick={() => setDraft(new Map())}>
          Reset
        </button>
        <button
          type="button"
          className="primary"
          disabled={edits.length === 0 || invalid || apply.isPending}
          onClick={() =>
            apply.mutate(
              { edits: edits.map((r) => props.makeEdit(r, draft.get(r.id)!)), base: config, baseVersion: baseVersion ?? config.version },
              {
                onSuccess: (out) => {
                  setOutcome(out);
                  if (out.response?.ok) setDraft(new Map());
                  // After a conflict the draft stays, now on top of the latest version: applying
                  // again is a deliberate choice made with the new weights in view.
                  else if (out.conflict) setBaseVersion(null);
                },
              },
            )
          }
        >
          {apply.isPending ? 'Applying…' : edits.length ? `Apply ${edits.length} change${edits.length > 1 ? 's' : ''}` : 'Apply'}
        </button>
      </footer>
      {outcome ? <Outcome out={outcome} onClose={() => setOutcome(null)} /> : null}
    </section>
  );
}

function clusterRows(c: ClusterView): Row[] {
  const priorities = new Set(c.hosts.map((h) => h.priority)).size;
  return c.hosts.map((h) => ({
    id: h.address,
    label: h.address,
    sub: [priorities > 1 ? `priority ${h.priority}` : '', h.locality && h.locality !== '//' ? h.locality : ''].filter(Boolean).join(' · ') || undefined,
    weight: h.weight,
    group: h.priority,
    healthy: h.healthy,
    observed: h.observedShare,
    requests: h.requestsInWindow,
  }));
}

function splitRows(s: Split, clusters: ClusterView[]): Row[] {
  const req = new Map(clusters.map((c) => [c.name, c.requestsInWindow]));
  const total = s.clusters.reduce((a, c) => a + (req.get(c.name) ?? 0), 0);
  return s.clusters.map((c) => ({
    id: c.name,
    label: c.name,
    weight: c.weight,
    group: 0,
    healthy: true,
    observed: total > 0 ? (req.get(c.name) ?? 0) / total : 0,
    requests: req.get(c.name) ?? 0,
  }));
}

function Outcome({ out, onClose }: { out: ApplyOutcome; onClose: () => void }) {
  if (out.conflict) {
    return (
      <div className="notice notice-warn" role="alert" data-testid="apply-conflict">
        <strong>The config changed while you were editing.</strong> {out.conflict}. The screen now shows the latest weights: check them and apply
        again. <button type="button" className="link" onClick={onClose}>Dismiss</button>
      </div>
    );
  }
  if (out.error) {
    return (
      <div className="notice notice-error" role="alert">
        <strong>The change was not applied.</strong> {out.error} <button type="button" className="link" onClick={onClose}>Dismiss</button>
      </div>
    );
  }
  const r = out.response!;
  if (!r.ok) {
    return (
      <div className="notice notice-error" role="alert" data-testid="apply-rejected">
        <strong>The engine rejected the change; the running config keeps serving.</strong>
        <ul>
          {r.diagnostics.map((d, i) => (
            <li key={i}>
              line {d.line}: {d.message}
              {d.suggestion ? ` — ${d.suggestion}` : ''}
            </li>
          ))}
        </ul>
        <button type="button" className="link" onClick={onClose}>Dismiss</button>
      </div>
    );
  }
  const hunks = changedHunks(diffLines(out.before, r.yaml));
  return (
    <div className="notice notice-ok" role="status" data-testid="apply-ok">
      <div>
        <strong>Applied — now running config version {r.version}.</strong> The observed shares follow within a few seconds. The YAML lines that
        changed: <button type="button" className="link" onClick={onClose}>Dismiss</button>
      </div>
      <pre className="diff" data-testid="apply-diff">
        {hunks.map((l, i) =>
          l === null ? (
            <div key={i} className="diff-gap">⋯</div>
          ) : (
            <div key={i} className={`diff-${l.kind}`}>
              <span className="ln">{l.line}</span>
              <span className="sign">{l.kind === 'add' ? '+' : l.kind === 'del' ? '−' : ' '}</span>
              {l.text}
            </div>
          ),
        )}
      </pre>
    </div>
  );
}

export function Weights() {
  const clusters = useQuery(clustersQuery(WINDOW, 2000));
  const config = useQuery(configQuery());
  const splits = useMemo(() => (config.data ? findSplits(config.data.yaml) : []), [config.data]);

  if (config.isError && !config.data) return <ErrorState error={config.error} what="the running config" onRetry={() => void config.refetch()} />;
  if (clusters.isError && !clusters.data) return <ErrorState error={clusters.error} what="the clusters" onRetry={() => void clusters.refetch()} />;
  if (!clusters.data || !config.data) return <Loading what="weights" />;
  const list = clusters.data.clusters;

  return (
    <div className="weights-screen" data-testid="weights">
      <div className="screen-head">
        <div>
          <h1>Weights</h1>
          <p className="muted">
            A <strong>weight</strong> sets how big a share of requests something gets: weight 2 gets twice as many as weight 1.{' '}
            <strong>Expected</strong> is what the weights ask for; <strong>observed</strong> is what really happened in the last {WINDOW} seconds.
            Drag a slider to preview, then Apply: the change is written into the YAML and takes effect at once.
          </p>
        </div>
        <div className="muted small">running config version {config.data.version}</div>
      </div>

      {splits.length ? (
        <>
          <h2>Traffic split between clusters</h2>
          <p className="muted small">Routes with <code>weighted_clusters</code> send a share of their requests to each cluster — e.g. a canary.</p>
          <div className="weight-grid">
            {splits.map((s) => (
              <WeightEditor
                key={`${s.listener}/${s.route}`}
                testId={`split-${s.route}`}
                title={
                  <>
                    Route <span className="mono">{s.route}</span> <span className="muted small">({s.match})</span>
                  </>
                }
                explain={`Requests matching ${s.match} on listener ${s.listener} are split over these clusters.`}
                rows={splitRows(s, list)}
                min={0}
                config={config.data}
                makeEdit={(r, weight) => ({ kind: 'weighted_cluster', route: s.route, listener: s.listener, cluster: r.id, weight })}
              />
            ))}
          </div>
        </>
      ) : null}

      <h2>Hosts within each cluster</h2>
      {list.length === 0 ? (
        <Empty title="No clusters">Add clusters under static_resources.clusters; their hosts’ weights show here.</Empty>
      ) : (
        <div className="weight-grid">
          {list.map((c) => (
            <WeightEditor
              key={c.name}
              testId={`cluster-${c.name}`}
              title={
                <>
                  Cluster <span className="mono">{c.name}</span>
                </>
              }
              explain={`${c.hosts.length} upstream host${c.hosts.length === 1 ? '' : 's'} · load balancing ${lbPolicy(c.lbPolicy).name}: ${lbPolicy(c.lbPolicy).text}${
                lbPolicy(c.lbPolicy).sticky ? ' (weights size each host’s part of the ring)' : ''
              }`}
              rows={clusterRows(c)}
              min={1}
              config={config.data}
              makeEdit={(r, weight) => ({ kind: 'endpoint', cluster: c.name, endpoint: r.id, weight })}
            />
          ))}
        </div>
      )}
    </div>
  );
}
