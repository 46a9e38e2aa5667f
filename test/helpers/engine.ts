// Runs the real engine in this process on real sockets, from Envoy YAML text.

import { Engine } from '../../engine/server';
import { createLogger } from '../../engine/log';
import { formatDiagnostic } from '../../engine/config/load';
import { stringify } from 'yaml';
import type { AccessLogSink } from '../../engine/listener/hcm';

export interface RunningEngine {
  engine: Engine;
  /** http://127.0.0.1:PORT of the first (or named) listener. */
  url(listener?: string): string;
  stop(): Promise<void>;
}

export async function startEngine(yaml: string, opts: { random?: () => number; accessLog?: AccessLogSink } = {}): Promise<RunningEngine> {
  const engine = new Engine({
    log: createLogger(process.env.MESHDECK_TEST_LOG === '1' ? 'debug' : 'off'),
    random: opts.random,
    accessLog: opts.accessLog,
    admin: { token: 'test-token' },
  });
  const r = await engine.start(yaml, 'test.yaml');
  if (!r.ok) {
    throw new Error(`engine refused the test config:\n${r.diagnostics.map((d) => formatDiagnostic(d, 'test.yaml')).join('\n')}`);
  }
  return {
    engine,
    url(listener?: string) {
      const all = engine.boundListeners();
      const l = listener ? all.find((x) => x.name === listener) : all[0];
      if (!l) throw new Error(`no listener ${listener ?? ''}`);
      return `http://${l.address}`;
    },
    stop: () => engine.stop(100),
  };
}

/** A minimal bootstrap: one listener on a free port routing / to the given clusters' YAML. */
export function bootstrap(opts: {
  routes: string;
  clusters: string;
  hcmExtra?: string;
  /** HTTP filters before the router (YAML list items). */
  httpFilters?: string;
  /** More of the filter chain (transport_socket, filter_chain_match…), YAML. */
  chainExtra?: string;
}): string {
  return `
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - ${opts.chainExtra ? `${indent(opts.chainExtra, 6).trimStart()}\n      ` : ''}filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
${indent(opts.hcmExtra ?? '', 10)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
${indent(opts.routes, 14)}
          http_filters:${opts.httpFilters ? `\n${indent(opts.httpFilters, 10)}` : ''}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${opts.clusters.trim() ? `\n${indent(opts.clusters, 2)}` : ' []'}
`;
}

export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const min = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => (l.trim() ? pad + l.slice(min) : '')).join('\n');
}

/** Adds `key: value` to the first cluster of a bootstrap() text, at the right indentation. */
export function withClusterField(yaml: string, field: string): string {
  return yaml.replace(/^( *)type: STATIC$/m, `$1type: STATIC\n$1${field}`);
}

/** A STATIC cluster over 127.0.0.1 ports with optional weights and priorities, as YAML. */
export function staticCluster(name: string, hosts: Array<{ port: number; weight?: number; priority?: number }>, extra: Record<string, unknown> = {}): string {
  const byPriority = new Map<number, Array<Record<string, unknown>>>();
  for (const h of hosts) {
    const p = h.priority ?? 0;
    if (!byPriority.has(p)) byPriority.set(p, []);
    const ep: Record<string, unknown> = { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: h.port } } } };
    if (h.weight !== undefined) ep.load_balancing_weight = h.weight;
    byPriority.get(p)!.push(ep);
  }
  const cluster = {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    ...extra,
    load_assignment: {
      cluster_name: name,
      endpoints: [...byPriority.entries()].map(([priority, lb_endpoints]) => ({ priority, lb_endpoints })),
    },
  };
  return stringify([cluster]);
}
