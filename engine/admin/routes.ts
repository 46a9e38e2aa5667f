// Admin endpoints by path: Envoy's own (engine/admin/envoy/, in Envoy's formats) and whatever
// other tables are merged in (the console's /api/v1). Each route says its method; the server
// refuses others (a GET to a POST-only mutation is a 400, as in Envoy).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../server';
import { envoyAdminRoutes } from './envoy/index';

export interface AdminRequest {
  engine: Engine;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export interface AdminRoute {
  method: 'GET' | 'POST';
  handle(r: AdminRequest): void | Promise<void>;
  /** One line for GET /help (Envoy's admin help text). */
  help?: string;
}

export type AdminRouteTable = Map<string, AdminRoute>;

/** Merges route tables into a new one; a path defined twice is a programming error and throws. */
export function mergeAdminRoutes(...tables: Iterable<[string, AdminRoute]>[]): AdminRouteTable {
  const out: AdminRouteTable = new Map();
  for (const t of tables) {
    for (const [path, route] of t) {
      if (out.has(path)) throw new Error(`admin route ${path} is defined twice`);
      out.set(path, route);
    }
  }
  return out;
}

/** The admin route table: Envoy's endpoints, plus any further tables given (e.g. the console API's). */
export function adminRoutes(...more: Iterable<[string, AdminRoute]>[]): AdminRouteTable {
  return mergeAdminRoutes(envoyAdminRoutes(), ...more);
}
