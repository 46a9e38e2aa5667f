// Traffic: capture per listener, captures and imported HAR files as replayable sets, replay with
// its options and live progress, each run's results next to the originals, and two runs compared.

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { ReplayMode, ReplayRequest, ReplayRunView, TrafficOverview, TrafficSetView } from '../../../../engine/admin/contract';
import { ApiRequestError } from '../../api/client';
import { clock, ms, rate } from '../../components/format';
import { Empty, ErrorState, Loading } from '../../components/states';
import { downloadHar, overviewQuery, useCapture, useCancel, useFromCapture, useImport, useReplay } from './api';
import { Compare } from './Compare';
import { RunDetail } from './RunDetail';
import './traffic.css';

const kib = (b: number) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(b / 1024)} KiB`);
/** A recording's length: ms for a burst, up to days for a browser session saved over time. */
function span(msTotal: number): string {
  if (msTotal < 60_000) return ms(msTotal);
  const units: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min']];
  for (const [size, unit] of units) if (msTotal >= size) return `${(msTotal / size).toFixed(1)} ${unit}`;
  return ms(msTotal);
}
const errorText = (e: unknown) => (e instanceof Error ? e.message : e ? String(e) : '');

function Capture({ o }: { o: TrafficOverview }) {
  const capture = useCapture();
  const fromCapture = useFromCapture();
  return (
    <section className="panel" aria-labelledby="cap-h">
      <h2 id="cap-h">Capture</h2>
      <p className="muted small">
        Records each exchange of a listener (bodies up to {kib(o.bodyCapBytes)}, the rest marked truncated) to a journal on disk
        in <code>{o.captureRoot}</code>. Export it as HAR, or replay it.
      </p>
      <table className="compact">
        <tbody>
          {o.listeners.map((l) => (
            <tr key={l.name}>
              <td className="mono">{l.name}</td>
              <td className="mono muted">{l.address}</td>
              <td className="num">
                <label className="switch">
                  <input
                    type="checkbox"
                    data-testid={`capture-${l.name}`}
                    checked={l.capturing}
                    disabled={capture.isPending}
                    onChange={(e) => capture.mutate({ listener: l.name, enabled: e.target.checked })}
                  />{' '}
                  {l.capturing ? <span className="pill pill-bad">● recording</span> : 'capture'}
                </label>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {capture.error ? <div className="notice notice-error">{errorText(capture.error)}</div> : null}
      <h3 className="sub">Captures</h3>
      {o.sessions.length === 0 ? (
        <p className="muted small">None yet.</p>
      ) : (
        <table className="compact" data-testid="sessions">
          <tbody>
            {o.sessions.slice(0, 8).map((s) => (
              <tr key={s.id}>
                <td>
                  <div className="mono small">{s.id}</div>
                  <div className="muted small">
                    {s.listeners.join(', ')} · {new Date(s.startedMs).toLocaleTimeString()} · {kib(s.bytes)}
                    {s.active ? ` · ${s.written ?? 0} written${s.dropped ? `, ${s.dropped} dropped` : ''}` : ''}
                  </div>
                </td>
                <td className="num nowrap">
                  <button type="button" className="link" onClick={() => void downloadHar({ session: s.id }, s.id)}>
                    HAR
                  </button>
                  <button type="button" disabled={fromCapture.isPending} onClick={() => fromCapture.mutate(s.id)}>
                    Use for replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Sets({ o, selected, onSelect }: { o: TrafficOverview; selected: string; onSelect: (id: string) => void }) {
  const imp = useImport();
  const [importError, setImportError] = useState('');
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setImportError('');
    try {
      const r = await imp.mutateAsync({ har: await file.text(), name: file.name });
      onSelect(r.set.id);
    } catch (e) {
      setImportError(e instanceof ApiRequestError ? e.message : errorText(e));
    }
  };
  return (
    <section className="panel" aria-labelledby="sets-h">
      <h2 id="sets-h">Traffic to replay</h2>
      <label className="file">
        Import HAR… <input type="file" accept=".har,application/json" data-testid="import-har" onChange={(e) => void onFile(e.target.files?.[0])} />
      </label>
      {importError ? (
        <div className="notice notice-error" role="alert" data-testid="import-error">
          {importError}
        </div>
      ) : null}
      {o.sets.length === 0 ? (
        <p className="muted small">Import a HAR file (from a browser, a proxy or Meshdeck) or use a capture.</p>
      ) : (
        <ul className="sets">
          {o.sets.map((s) => (
            <li key={s.id}>
              <label>
                <input type="radio" name="set" checked={selected === s.id} onChange={() => onSelect(s.id)} />
                <span className="mono">{s.name}</span>{' '}
                <span className="muted small">
                  {s.entries} requests over {span(s.spanMs)} · {Object.entries(s.methods).map(([m, n]) => `${m} ${n}`).join(', ')}
                </span>
              </label>
              {s.warnings.length ? <div className="muted small warn-text">{s.warnings.slice(0, 2).join(' · ')}</div> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ReplayForm({ o, set, onStarted }: { o: TrafficOverview; set: TrafficSetView | undefined; onStarted: (run: ReplayRunView) => void }) {
  const replay = useReplay();
  const [target, setTarget] = useState('');
  const [mode, setMode] = useState<ReplayMode>('recorded');
  const [speed, setSpeed] = useState('1');
  const [rps, setRps] = useState('100');
  const [concurrency, setConcurrency] = useState('');
  const [loop, setLoop] = useState('1');
  const [methods, setMethods] = useState('');
  const [urlPattern, setUrlPattern] = useState('');
  const [status, setStatus] = useState('');
  const [host, setHost] = useState('');
  const [drop, setDrop] = useState('');
  const [headers, setHeaders] = useState('');
  const [label, setLabel] = useState('');
  const start = async () => {
    if (!set) return;
    const setHeaders: Record<string, string> = {};
    for (const line of headers.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) setHeaders[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    const req: ReplayRequest = {
      set: set.id,
      target: target || undefined,
      mode,
      speed: mode === 'recorded' ? Number(speed) : undefined,
      rate: mode === 'rate' ? Number(rps) : undefined,
      concurrency: concurrency ? Number(concurrency) : undefined,
      loop: Number(loop) || 1,
      filter: { methods: methods ? methods.split(',').map((m) => m.trim()).filter(Boolean) : undefined, url: urlPattern || undefined, status: status || undefined },
      host: host || undefined,
      dropHeaders: drop ? drop.split(',').map((h) => h.trim()).filter(Boolean) : undefined,
      setHeaders,
      label: label || undefined,
    };
    const r = await replay.mutateAsync(req).catch(() => undefined);
    if (r) onStarted(r.run);
  };
  return (
    <section className="panel" aria-labelledby="replay-h">
      <h2 id="replay-h">Replay</h2>
      {!set ? (
        <p className="muted small">Pick the traffic to replay first.</p>
      ) : (
        <form
          className="replay-form"
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <label>
            Target
            <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="replay-target">
              {o.listeners.map((l) => (
                <option key={l.name} value={l.name}>
                  listener {l.name} ({l.address})
                </option>
              ))}
            </select>
          </label>
          <div className="row">
            <span className="seg" role="group" aria-label="Schedule">
              {(['recorded', 'rate', 'asap'] as const).map((m) => (
                <button key={m} type="button" className={mode === m ? 'on' : ''} onClick={() => setMode(m)}>
                  {m === 'recorded' ? 'Recorded schedule' : m === 'rate' ? 'Fixed rate' : 'As fast as possible'}
                </button>
              ))}
            </span>
            {mode === 'recorded' ? (
              <label>
                speed × <input className="short" type="number" min={0.1} max={100} step={0.1} value={speed} onChange={(e) => setSpeed(e.target.value)} />
              </label>
            ) : mode === 'rate' ? (
              <label>
                req/s <input className="short" type="number" min={1} value={rps} onChange={(e) => setRps(e.target.value)} />
              </label>
            ) : null}
          </div>
          <div className="row">
            <label>
              in flight at most <input className="short" type="number" min={1} placeholder={mode === 'asap' ? '64' : '256'} value={concurrency} onChange={(e) => setConcurrency(e.target.value)} />
            </label>
            <label>
              loop <input className="short" type="number" min={1} value={loop} onChange={(e) => setLoop(e.target.value)} />
            </label>
          </div>
          <details>
            <summary>Filter and rewrite</summary>
            <div className="grid2">
              <label>
                methods <input placeholder="GET,POST" value={methods} onChange={(e) => setMethods(e.target.value)} />
              </label>
              <label>
                URL matches <input placeholder="/v1/payments" value={urlPattern} onChange={(e) => setUrlPattern(e.target.value)} />
              </label>
              <label>
                recorded status <input placeholder="2xx,404" value={status} onChange={(e) => setStatus(e.target.value)} />
              </label>
              <label>
                Host <input placeholder="keep as recorded" value={host} onChange={(e) => setHost(e.target.value)} />
              </label>
              <label>
                drop headers <input placeholder="cookie,x-trace" value={drop} onChange={(e) => setDrop(e.target.value)} />
              </label>
              <label>
                set headers
                <textarea rows={2} placeholder={'idempotency-key: {{uuid}}\nauthorization: Bearer NEW'} value={headers} onChange={(e) => setHeaders(e.target.value)} />
              </label>
            </div>
          </details>
          <div className="row">
            <label>
              label <input placeholder="e.g. config A" value={label} onChange={(e) => setLabel(e.target.value)} data-testid="replay-label" />
            </label>
            <button type="submit" className="primary" disabled={replay.isPending} data-testid="replay-start">
              Replay {set.entries * (Number(loop) || 1)} requests
            </button>
          </div>
          {replay.error ? <div className="notice notice-error">{errorText(replay.error)}</div> : null}
        </form>
      )}
    </section>
  );
}

function Runs({ runs, selected, onSelect, compare, setCompare }: { runs: ReplayRunView[]; selected: string; onSelect: (id: string) => void; compare: [string, string]; setCompare: (c: [string, string]) => void }) {
  const cancel = useCancel();
  if (!runs.length) return null;
  return (
    <section className="panel wide" aria-labelledby="runs-h">
      <h2 id="runs-h">Runs</h2>
      <table data-testid="runs">
        <thead>
          <tr>
            <th>run</th>
            <th>progress</th>
            <th className="num">ok</th>
            <th className="num">failed</th>
            <th className="num">status ≠ original</th>
            <th className="num">rate</th>
            <th className="num">send delay p50 / p99</th>
            <th className="num">latency p50 / p99</th>
            <th>compare</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const s = r.summary;
            const frac = s.planned ? s.sent / s.planned : 1;
            return (
              <tr key={r.id} className={selected === r.id ? 'selected' : ''} data-testid={`run-${r.id}`} data-state={r.state}>
                <td>
                  <button type="button" className="link" onClick={() => onSelect(r.id)}>
                    {r.label}
                  </button>
                  <div className="muted small">
                    {r.id} · {clock(r.startedMs)} · {r.options.mode}
                    {r.options.mode === 'recorded' ? ` ×${r.options.speed}` : r.options.mode === 'rate' ? ` ${r.options.rate}/s` : ''}
                  </div>
                </td>
                <td>
                  <div className="progress" title={`${s.sent} of ${s.planned} sent, ${r.inFlight} in flight`}>
                    <span style={{ width: `${(frac * 100).toFixed(1)}%` }} />
                  </div>
                  <span className="small muted">
                    {s.sent}/{s.planned} {r.state === 'running' ? `· ${r.inFlight} in flight` : `· ${r.state}`}
                  </span>
                </td>
                <td className="num">{s.ok}</td>
                <td className={`num ${s.failed ? 'bad-text' : ''}`}>{s.failed}</td>
                <td className={`num ${s.statusMismatches ? 'warn-text' : ''}`}>{s.statusMismatches}</td>
                <td className="num">{rate(s.achievedRate)}/s</td>
                <td className="num">
                  {ms(s.sendDelayMs.p50)} / {ms(s.sendDelayMs.p99)}
                </td>
                <td className="num">
                  {ms(s.latencyMs.p50)} / {ms(s.latencyMs.p99)}
                </td>
                <td className="nowrap">
                  <label title="Baseline (A)">
                    <input type="radio" name="cmp-a" data-testid={`compare-a-${r.id}`} checked={compare[0] === r.id} onChange={() => setCompare([r.id, compare[1]])} /> A
                  </label>{' '}
                  <label title="Candidate (B)">
                    <input type="radio" name="cmp-b" data-testid={`compare-b-${r.id}`} checked={compare[1] === r.id} onChange={() => setCompare([compare[0], r.id])} /> B
                  </label>
                </td>
                <td className="nowrap">
                  {r.state === 'running' ? (
                    <button type="button" onClick={() => cancel.mutate(r.id)}>
                      Stop
                    </button>
                  ) : (
                    <button type="button" className="link" onClick={() => void downloadHar({ run: r.id }, r.id)}>
                      HAR
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export function Traffic() {
  const q = useQuery(overviewQuery());
  const [setId, setSetId] = useState('');
  const [runId, setRunId] = useState('');
  const [compare, setCompare] = useState<[string, string]>(['', '']);
  const [view, setView] = useState<'run' | 'compare'>('run');
  if (q.isPending) return <Loading what="traffic" />;
  if (q.isError) return <ErrorState error={q.error} what="traffic" onRetry={() => void q.refetch()} />;
  const o = q.data;
  const set = o.sets.find((s) => s.id === setId) ?? o.sets[0];
  const run = o.runs.find((r) => r.id === runId) ?? o.runs[0];
  // A new run becomes B, compared against the one before it (A).
  const onStarted = (r: ReplayRunView) => {
    setRunId(r.id);
    setView('run');
    setCompare(([a, b]) => (b || a ? [b || a, r.id] : [r.id, '']));
  };
  const canCompare = compare[0] && compare[1] && compare[0] !== compare[1];
  return (
    <div className="traffic">
      <div className="screen-head">
        <div>
          <h1>Traffic</h1>
          <p className="muted">Record what a listener sees, replay it (or any HAR) against a config, and see what a change does before it ships.</p>
        </div>
      </div>
      <div className="traffic-top">
        <Capture o={o} />
        <Sets o={o} selected={set?.id ?? ''} onSelect={setSetId} />
        <ReplayForm o={o} set={set} onStarted={onStarted} />
      </div>
      <Runs runs={o.runs} selected={run?.id ?? ''} onSelect={(id) => { setRunId(id); setView('run'); }} compare={compare} setCompare={setCompare} />
      {o.runs.length ? (
        <div className="seg view-switch" role="tablist">
          <button type="button" role="tab" aria-selected={view === 'run'} className={view === 'run' ? 'on' : ''} onClick={() => setView('run')}>
            Results vs original
          </button>
          <button type="button" role="tab" aria-selected={view === 'compare'} className={view === 'compare' ? 'on' : ''} disabled={!canCompare} onClick={() => setView('compare')} data-testid="show-compare">
            Compare A / B
          </button>
        </div>
      ) : (
        <Empty title="No replays yet">Pick the traffic to replay and start one: each request is shown next to its original.</Empty>
      )}
      {view === 'run' && run ? <RunDetail run={run} /> : null}
      {view === 'compare' && canCompare ? <Compare a={compare[0]} b={compare[1]} live={o.runs.some((r) => (r.id === compare[0] || r.id === compare[1]) && r.state === 'running')} /> : null}
    </div>
  );
}
