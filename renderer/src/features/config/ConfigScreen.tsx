// The running config, read-only: the YAML exactly as applied, its version, and the engine's
// warnings (Envoy features Meshdeck accepts but does not run), each pointing at its line.

import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { configQuery } from '../../api/queries';
import { ErrorState, Loading } from '../../components/states';

export function ConfigScreen() {
  const config = useQuery(configQuery());
  const lines = useMemo(() => config.data?.yaml.split('\n') ?? [], [config.data]);
  const warnLines = useMemo(() => new Set(config.data?.warnings.map((w) => w.line) ?? []), [config.data]);

  if (config.isError && !config.data) return <ErrorState error={config.error} what="the running config" onRetry={() => void config.refetch()} />;
  if (!config.data) return <Loading what="the running config" />;
  const c = config.data;
  const download = () => {
    const url = URL.createObjectURL(new Blob([c.yaml], { type: 'application/yaml' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = c.sourceName.split('/').pop() || 'envoy.yaml';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <div className="config-screen" data-testid="config">
      <div className="screen-head">
        <div>
          <h1>Config</h1>
          <p className="muted">
            The Envoy v3 YAML the engine is running, exactly as written — weight changes from the Weights screen are edits of this text. It runs
            unchanged on Envoy.
          </p>
        </div>
        <div className="config-meta">
          <span className="pill pill-ok" data-testid="config-version">
            version {c.version}
          </span>{' '}
          <span className="mono small">{c.sourceName}</span>{' '}
          <button type="button" onClick={download}>
            Download
          </button>
        </div>
      </div>
      {c.warnings.length ? (
        <section className="notice notice-warn" aria-label="Warnings">
          <strong>
            {c.warnings.length} warning{c.warnings.length > 1 ? 's' : ''}:
          </strong>{' '}
          valid Envoy that Meshdeck accepts but treats differently.
          <ul className="diagnostics">
            {c.warnings.map((w, i) => (
              <li key={i}>
                <a href={`#/config`} onClick={(e) => (e.preventDefault(), document.getElementById(`L${w.line}`)?.scrollIntoView({ block: 'center' }))}>
                  line {w.line}
                </a>{' '}
                <span className="mono">{w.path}</span>: {w.message}
                {w.suggestion ? <span className="muted"> — {w.suggestion}</span> : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <pre className="yaml" data-testid="config-yaml" aria-label="Running configuration">
        {lines.map((l, i) => (
          <div key={i} id={`L${i + 1}`} className={warnLines.has(i + 1) ? 'warn-line' : undefined}>
            <span className="ln">{i + 1}</span>
            {l || ' '}
          </div>
        ))}
      </pre>
    </div>
  );
}
