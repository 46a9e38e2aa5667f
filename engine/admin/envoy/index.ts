// Envoy's admin endpoints (docs/root/operations/admin.rst), one module per endpoint group.
// Mutations are POST only; the admin server answers a GET to them with 400, as Envoy does.

import type { AdminRoute } from '../routes';
import { clustersRoutes } from './clusters';
import { configDumpRoutes } from './config-dump';
import { text } from './reply';
import { serverRoutes } from './server-info';
import { statsRoutes } from './stats';

export function envoyAdminRoutes(): Map<string, AdminRoute> {
  // One admin server per engine builds its table once, when the engine starts: uptime counts from here.
  const startedMs = Date.now();
  const table = new Map<string, AdminRoute>([...statsRoutes(startedMs), ...clustersRoutes(), ...configDumpRoutes(), ...serverRoutes(startedMs)]);
  table.set('/help', {
    method: 'GET',
    help: 'print out list of admin commands',
    handle: ({ res }) => {
      const rows = [...table.entries()].filter(([, r]) => r.help).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      text(res, `admin commands are:\n${rows.map(([p, r]) => `  ${r.method === 'POST' ? `${p} (POST)` : p}: ${r.help}\n`).join('')}`);
    },
  });
  return table;
}
