// Scenario runs against a real engine in the test process (mocks and load in-process or in the
// simulator's child process), from scenario and Envoy YAML text.

import { Engine } from '../../../engine/server';
import { createLogger } from '../../../engine/log';
import { formatDiagnostic } from '../../../engine/config/load';
import { loadScenario } from '../../../engine/sim/scenario';
import { simManagerFor, type RunOptions, type SimManager, type SimRun } from '../../../engine/sim/manager';
import { stringify } from 'yaml';

export interface RunningSim {
  engine: Engine;
  manager: SimManager;
  run: SimRun;
  /** Resolves once scenario time reaches `seconds`. */
  at(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSim(scenarioYaml: string, envoyYaml: string, opts: RunOptions = {}): Promise<RunningSim> {
  const engine = new Engine({ log: createLogger(process.env.MESHDECK_TEST_LOG === '1' ? 'debug' : 'off'), admin: { token: 'test-token' } });
  const manager = simManagerFor(engine);
  const loaded = loadScenario(scenarioYaml, { sourceName: 'scenario.yaml' });
  const r = await manager.start(loaded, { ephemeralPorts: true, ...opts, envoy: { text: envoyYaml, name: 'envoy.yaml' } });
  if (!r.ok || !r.run) {
    await engine.stop(0).catch(() => {});
    throw new Error(`the scenario did not start:\n${r.problems.map((p) => formatDiagnostic(p.diagnostic, p.source)).join('\n')}`);
  }
  const run = r.run;
  return {
    engine,
    manager,
    run,
    async at(seconds: number) {
      for (;;) {
        const s = await run.backend.snapshot();
        const left = seconds - s.scenarioTimeS;
        if (left <= 0) return;
        await new Promise((res) => setTimeout(res, Math.min(200, Math.max(5, left * 1000 - 5))));
      }
    },
    async stop() {
      await manager.stopAll();
      await engine.stop(100);
    },
  };
}

export interface ClusterDef {
  name: string;
  endpoints: number;
  /** Extra cluster fields (lb_policy, load_balancing_policy, …). */
  extra?: Record<string, unknown>;
}

/** One listener ("ingress") routing /<cluster> prefixes to each cluster; endpoints are placeholders the simulator rewrites. */
export function envoyConfig(clusters: ClusterDef[], routeExtra: Record<string, unknown> = {}): string {
  const routes = clusters.map((c) => ({ match: { prefix: `/${c.name}` }, route: { cluster: c.name, timeout: '10s', ...routeExtra } }));
  const doc = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: { name: 'local', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] },
                    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: clusters.map((c) => ({
        name: c.name,
        type: 'STATIC',
        connect_timeout: '1s',
        ...c.extra,
        load_assignment: {
          cluster_name: c.name,
          endpoints: [{ lb_endpoints: Array.from({ length: c.endpoints }, (_, i) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 + i } } } })) }],
        },
      })),
    },
  };
  return stringify(doc);
}

/** Requests each host of `cluster` has been sent, from the engine's per-host stats (Envoy's rq_total). */
export function hostCounts(engine: Engine, cluster: string): Map<string, number> {
  const c = engine.snapshot!.clusters.get(cluster);
  if (!c) throw new Error(`no cluster ${cluster}`);
  return new Map(c.hosts.map((h) => [h.key, engine.stats.hostStats(cluster, h.key).rq_total.value]));
}
