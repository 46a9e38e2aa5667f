// HTTP filters by Envoy name. The router (envoy.filters.http.router) is the terminal filter and
// is run by the connection manager itself; every other filter is looked up here. Adding a filter
// is one file in engine/filters/ and one line below.

import type { HttpFilterFactory } from './types';

const factories = new Map<string, HttpFilterFactory>();

export function registerHttpFilter(f: HttpFilterFactory): void {
  factories.set(f.name, f);
}

export function getHttpFilter(name: string): HttpFilterFactory | undefined {
  return factories.get(name);
}

export const ROUTER_FILTER = 'envoy.filters.http.router';

// Registered filters (none besides the router yet: jwt_authn, rbac, local_ratelimit and fault
// come with their issues).
