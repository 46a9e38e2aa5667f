// The Config screen. Monaco (and monaco-yaml) are most of the console's bytes, so the editor is a
// separate chunk loaded when this screen first opens; the Envoy schema is fetched alongside it.
// The other screens never load either.

import { useQuery } from '@tanstack/react-query';
import { Component, lazy, Suspense, useState, type ReactNode } from 'react';
import type { ConfigSchemaResponse } from '../../../../engine/admin/contract';
import { api } from '../../api/client';
import { configQuery } from '../../api/queries';
import { ErrorState, Loading } from '../../components/states';
import './editor.css';

const loadEditor = () => import('./ConfigEditor');
// Opened straight on this screen (a reload, a bookmark): fetch the editor while the app starts.
if (typeof window !== 'undefined' && /^#\/?config\b/.test(window.location.hash)) void loadEditor().catch(() => {});
const ConfigEditor = lazy(loadEditor);

const SCHEMA_PATH = '/config/schema';
/**
 * The schema's identity for monaco-yaml (it is passed inline, never fetched by that name). Hovers
 * end with "Source: bootstrap.proto" linking here: Envoy's reference for the same protos.
 */
const SCHEMA_ID = 'https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/bootstrap/v3/bootstrap.proto';

/** The editor's JSON Schema: it only changes when the engine is upgraded, so it is fetched once. */
const schemaQuery = () => ({
  // Not under configKeys: config events invalidate those, and this does not change with the config.
  queryKey: ['editor-schema'] as const,
  queryFn: ({ signal }: { signal: AbortSignal }) => api.get<ConfigSchemaResponse>(SCHEMA_PATH, undefined, signal),
  staleTime: Infinity,
  gcTime: Infinity,
});

/** A failed chunk load (the engine went away mid-load) must not take the whole console down. */
class EditorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return <ErrorState error={this.state.error} what="the editor" onRetry={() => window.location.reload()} />;
    }
    return this.props.children;
  }
}

export function ConfigScreen() {
  // Start loading the editor's chunk now, alongside the schema and the config.
  useState(() => {
    performance.mark('meshdeck:config-screen');
    void loadEditor().catch(() => {});
  });
  const config = useQuery(configQuery());
  const schema = useQuery(schemaQuery());

  if (config.isError && !config.data) return <ErrorState error={config.error} what="the running config" onRetry={() => void config.refetch()} />;
  if (schema.isError && !schema.data) return <ErrorState error={schema.error} what="the editor’s Envoy schema" onRetry={() => void schema.refetch()} />;
  if (!config.data || !schema.data) return <Loading what="the running config" />;
  return (
    <EditorBoundary>
      <Suspense fallback={<Loading what="the editor" />}>
        <ConfigEditor schema={schema.data} schemaUrl={SCHEMA_ID} />
      </Suspense>
    </EditorBoundary>
  );
}
