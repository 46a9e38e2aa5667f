// GET /api/v1/health: each cluster's hosts, their health now (Envoy's health flags) and their
// recent health events (health-check transitions, ejections) for the dashboard's timeline.

import type { HostHealthResponse } from '../contract';
import type { Engine } from '../../server';

export function hostHealth(engine: Engine): HostHealthResponse {
  const snap = engine.snapshot;
  if (!snap) return { clusters: [] };
  const h = engine.healthHistory;
  return {
    clusters: [...snap.clusters.values()].map((c) => ({
      name: c.name,
      activeHealthCheck: c.healthChecker !== undefined,
      outlierDetection: c.outlier !== undefined,
      hosts: c.hosts.map((x) => ({ address: x.key, healthy: x.healthy, flags: x.healthFlags, ejections: h.ejectionCount(c.name, x.key), events: h.of(c.name, x.key) })),
    })),
  };
}
