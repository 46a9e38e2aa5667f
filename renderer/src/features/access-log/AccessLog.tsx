// The access log: a live tail from the event stream (filtered by the engine), virtualized so
// 100,000 rows scroll smoothly, newest first. Scrolling away from the top, or Pause, holds the view;
// entries keep arriving underneath and show when the view is released.

import { useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AccessLogEntry, AccessLogFilter } from '../../../../engine/admin/contract';
import { setLogFilter, useLogFilter } from '../../api/log-filter';
import { LOG_CAPACITY } from '../../api/log-ring';
import { clustersQuery, logTailQuery } from '../../api/queries';
import { clock, ms, statusClass } from '../../components/format';
import { ErrorState, Loading } from '../../components/states';
import { toCurl } from './curl';

const ROW = 28;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
/** HTTP filters that answer requests themselves (AccessLogEntry.refusedBy), for the "Refused by" filter. */
const REFUSING_FILTERS: Array<[string, string]> = [
  ['envoy.filters.http.jwt_authn', 'jwt_authn (JWT missing or invalid)'],
  ['envoy.filters.http.rbac', 'rbac (access denied)'],
  ['envoy.filters.http.local_ratelimit', 'local_ratelimit (rate limited)'],
  ['envoy.filters.http.fault', 'fault (injected abort)'],
];

const FLAGS: Array<[string, string]> = [
  ['UF', 'upstream connection failure'],
  ['UO', 'upstream overflow (circuit breaker)'],
  ['NR', 'no route'],
  ['URX', 'retry limit exceeded'],
  ['UT', 'upstream request timeout'],
  ['UH', 'no healthy upstream'],
  ['UC', 'upstream connection terminated'],
  ['UR', 'upstream reset'],
  ['DC', 'downstream connection terminated'],
];

function Filters({ filter, onChange }: { filter: AccessLogFilter; onChange: (f: AccessLogFilter) => void }) {
  const clusters = useQuery(clustersQuery(10, false));
  const [path, setPath] = useState(filter.path ?? '');
  const [minD, setMinD] = useState(filter.minDurationMs !== undefined ? String(filter.minDurationMs) : '');
  // Text fields are sent a moment after typing stops (each change reconnects the stream).
  useEffect(() => {
    const t = setTimeout(() => {
      const d = minD.trim() === '' ? undefined : Number(minD);
      if ((filter.path ?? '') !== path || filter.minDurationMs !== d) onChange({ ...filter, path, minDurationMs: d !== undefined && Number.isFinite(d) ? d : undefined });
    }, 300);
    return () => clearTimeout(t);
  }, [path, minD]); // eslint-disable-line react-hooks/exhaustive-deps
  const hosts = (clusters.data?.clusters ?? []).filter((c) => !filter.cluster || c.name === filter.cluster).flatMap((c) => c.hosts.map((h) => h.address));
  const pathRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement)) {
        e.preventDefault();
        pathRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the access log">
      <label>
        Status
        <select value={filter.status ?? ''} onChange={(e) => onChange({ ...filter, status: e.target.value || undefined })} data-testid="filter-status">
          <option value="">any</option>
          <option value="2xx">2xx success</option>
          <option value="3xx">3xx redirect</option>
          <option value="4xx">4xx client error</option>
          <option value="5xx">5xx server error</option>
          <option value="4xx,5xx">4xx or 5xx</option>
          <option value="0">no response</option>
        </select>
      </label>
      <label>
        Method
        <select value={filter.method ?? ''} onChange={(e) => onChange({ ...filter, method: e.target.value || undefined })} data-testid="filter-method">
          <option value="">any</option>
          {METHODS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </label>
      <label className="grow">
        Path contains
        <input ref={pathRef} type="search" placeholder="/v1/payments   (press / to focus)" value={path} onChange={(e) => setPath(e.target.value)} data-testid="filter-path" />
      </label>
      <label>
        Cluster
        <select value={filter.cluster ?? ''} onChange={(e) => onChange({ ...filter, cluster: e.target.value || undefined, host: undefined })} data-testid="filter-cluster">
          <option value="">any</option>
          {(clusters.data?.clusters ?? []).map((c) => (
            <option key={c.name}>{c.name}</option>
          ))}
        </select>
      </label>
      <label>
        Upstream host
        <select value={filter.host ?? ''} onChange={(e) => onChange({ ...filter, host: e.target.value || undefined })} data-testid="filter-host">
          <option value="">any</option>
          {hosts.map((h) => (
            <option key={h}>{h}</option>
          ))}
        </select>
      </label>
      <label>
        Response flag
        <select value={filter.flags ?? ''} onChange={(e) => onChange({ ...filter, flags: e.target.value || undefined })} data-testid="filter-flags">
          <option value="">any</option>
          {FLAGS.map(([f, text]) => (
            <option key={f} value={f}>
              {f} — {text}
            </option>
          ))}
        </select>
      </label>
      <label>
        Refused by
        <select value={filter.filter ?? ''} onChange={(e) => onChange({ ...filter, filter: e.target.value || undefined })} data-testid="filter-refused-by">
          <option value="">any</option>
          {REFUSING_FILTERS.map(([f, text]) => (
            <option key={f} value={f}>
              {text}
            </option>
          ))}
        </select>
      </label>
      <label>
        Slower than (ms)
        <input type="number" min={0} className="narrow" value={minD} onChange={(e) => setMinD(e.target.value)} data-testid="filter-min-duration" />
      </label>
      {Object.keys(filter).length ? (
        <button
          type="button"
          className="link"
          onClick={() => {
            setPath('');
            setMinD('');
            onChange({});
          }}
        >
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function Details({ e, onClose }: { e: AccessLogEntry; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const curl = toCurl(e);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(curl);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the command below and copy it.');
    }
  };
  const fields: Array<[string, React.ReactNode]> = [
    ['Started', `${new Date(e.startTime).toISOString()}`],
    ['Request', `${e.method} ${e.path} (${e.protocol})`],
    ['Authority (Host)', e.authority],
    ['Status', `${e.status}${e.responseCodeDetails ? ` — ${e.responseCodeDetails}` : ''}`],
    ['Response flags', e.flags === '-' ? 'none' : e.flags],
    ['Refused by', e.refusedBy ?? '–'],
    ['Total time', ms(e.durationMs)],
    ['Upstream time', e.upstreamMs === null ? 'no upstream answer' : ms(e.upstreamMs)],
    ['Listener', e.listener],
    ['Route', e.route || '–'],
    ['Cluster', e.cluster || '–'],
    ['Upstream host', e.upstreamHost || '–'],
    ['Attempts', String(e.attempts)],
    ['Bytes received / sent', `${e.bytesReceived} / ${e.bytesSent}`],
    ['Client address', e.downstreamRemoteAddress],
    ['User agent', e.userAgent || '–'],
    ['Request id', e.requestId],
    ['Entry id', String(e.id)],
  ];
  return (
    <aside className="log-details" aria-label="Request details" data-testid="log-details">
      <header>
        <h3>
          <span className={`status ${statusClass(e.status)}`}>{e.status || '—'}</span> {e.method} <span className="mono">{e.path}</span>
        </h3>
        <button type="button" className="link" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      <dl>
        {fields.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className="mono">{v}</dd>
          </div>
        ))}
      </dl>
      <h4>Request headers</h4>
      <dl className="headers">
        {Object.entries(e.requestHeaders ?? {}).map(([k, v]) => (
          <div key={k}>
            <dt className="mono">{k}</dt>
            <dd className="mono">{v}</dd>
          </div>
        ))}
      </dl>
      <h4>Replay it</h4>
      <pre className="curl" data-testid="curl">{curl}</pre>
      <button type="button" onClick={() => void copy()} data-testid="copy-curl">
        Copy as curl
      </button>{' '}
      {copied ? <span className="muted small">{copied}</span> : null}
    </aside>
  );
}

export function AccessLog() {
  const filter = useLogFilter();
  const tail = useQuery(logTailQuery(filter));
  const [paused, setPaused] = useState(false);
  const [scrolled, setScrolled] = useState(false);
  const [frozenAt, setFrozenAt] = useState<number | null>(null);
  const [selected, setSelected] = useState<AccessLogEntry | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);

  const ring = tail.data?.ring;
  const total = ring?.total ?? 0;
  const held = paused || scrolled;
  // Hold the view where it is; the ring keeps filling underneath.
  useEffect(() => {
    if (held && frozenAt === null) setFrozenAt(total);
    if (!held && frozenAt !== null) setFrozenAt(null);
  }, [held, frozenAt, total]);
  const upTo = frozenAt ?? total;
  const count = ring ? ring.count(upTo) : 0;
  const waiting = frozenAt !== null ? total - frozenAt : 0;

  const virt = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW,
    overscan: 12,
  });

  const onScroll = useCallback(() => {
    const top = scrollRef.current?.scrollTop ?? 0;
    setScrolled(top > ROW);
  }, []);

  const resume = () => {
    setPaused(false);
    setScrolled(false);
    scrollRef.current?.scrollTo({ top: 0 });
  };

  return (
    <div className="log-screen" data-testid="access-log">
      <div className="screen-head">
        <div>
          <h1>Access log</h1>
          <p className="muted">
            One line per request the proxy handled, newest first. Filters run in the engine. Click a line for every field and a curl command
            to replay it.
          </p>
        </div>
        <div className="log-controls">
          <span className="muted small" data-testid="log-count" data-count={count} data-total={total}>
            {count.toLocaleString()} shown{total >= LOG_CAPACITY ? ` (the newest ${LOG_CAPACITY.toLocaleString()})` : ''}
          </span>
          {held ? (
            <button type="button" className="primary" onClick={resume} data-testid="resume">
              ▶ Resume{waiting > 0 ? ` (${waiting.toLocaleString()} new)` : ''}
            </button>
          ) : (
            <button type="button" onClick={() => setPaused(true)} data-testid="pause">
              ❚❚ Pause
            </button>
          )}
        </div>
      </div>
      <Filters filter={filter} onChange={setLogFilter} />
      {tail.data && tail.data.dropped > 0 ? (
        <div className="notice notice-warn" role="status" data-testid="dropped">
          The console fell behind the engine: <strong>{tail.data.dropped.toLocaleString()}</strong> log entries were not delivered to this view. Narrow
          the filters to see every matching request.
        </div>
      ) : null}
      {tail.data && tail.data.gaps > 0 ? (
        <div className="notice" role="status">
          The connection to the engine was lost and came back: requests made in between are missing from this view.
        </div>
      ) : null}
      {scrolled && !paused ? <div className="hold-hint">Live tail held while you scroll — back to the top (or Resume) to follow it again.</div> : null}
      <div className="log-body">
        <div className="log-table" role="table" aria-label="Access log entries" aria-rowcount={count}>
          <div className="log-row log-head" role="row">
            <span role="columnheader">Time</span>
            <span role="columnheader">Status</span>
            <span role="columnheader">Method</span>
            <span role="columnheader">Path</span>
            <span role="columnheader">Cluster</span>
            <span role="columnheader">Upstream host</span>
            <span role="columnheader" className="num">
              Duration
            </span>
            <span role="columnheader">Flags</span>
          </div>
          <div className="log-scroll" ref={scrollRef} onScroll={onScroll} data-testid="log-scroll">
            {tail.isError ? (
              <ErrorState error={tail.error} what="the access log" onRetry={() => void tail.refetch()} />
            ) : !tail.data ? (
              <Loading what="the access log" />
            ) : count === 0 ? (
              <div className="empty">
                <h3>No requests {Object.keys(filter).length ? 'match these filters' : 'yet'}</h3>
                <p>
                  {Object.keys(filter).length
                    ? 'Loosen or clear the filters. New matching requests appear here as they happen.'
                    : 'Send a request to one of the listeners (for the demo: curl http://127.0.0.1:10000/v1/payments) and it shows up here.'}
                </p>
              </div>
            ) : (
              <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
                {virt.getVirtualItems().map((v) => {
                  const e = ring!.at(v.index, upTo);
                  if (!e) return null;
                  return (
                    <div
                      key={`${e.id}:${e.startTime}`}
                      role="row"
                      className={`log-row ${statusClass(e.status)} ${selected?.id === e.id ? 'selected' : ''}`}
                      style={{ transform: `translateY(${v.start}px)` }}
                      onClick={() => setSelected(e)}
                      data-testid="log-row"
                      data-status={e.status}
                      data-path={e.path}
                      data-refused-by={e.refusedBy}
                    >
                      <span className="mono">{clock(e.startTime)}</span>
                      <span>
                        <span className={`status ${statusClass(e.status)}`}>{e.status || '—'}</span>
                      </span>
                      <span className="mono">{e.method}</span>
                      <span className="mono ellipsis" title={e.path}>
                        {e.path}
                      </span>
                      <span className="ellipsis">{e.cluster || '–'}</span>
                      <span className="mono ellipsis">{e.upstreamHost || '–'}</span>
                      <span className="num mono">{ms(e.durationMs)}</span>
                      <span className="mono" title={e.refusedBy ? `refused by ${e.refusedBy}: ${e.responseCodeDetails}` : undefined}>
                        {e.flags === '-' ? '' : e.flags}
                        {e.refusedBy ? ` ${e.refusedBy.slice(e.refusedBy.lastIndexOf('.') + 1)}` : ''}
                      </span>
                    </div>
                  );
                })}
              </div>
            )}
          </div>
        </div>
        {selected ? <Details e={selected} onClose={() => setSelected(null)} /> : null}
      </div>
    </div>
  );
}
