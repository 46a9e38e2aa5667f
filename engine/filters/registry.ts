// HTTP filters by Envoy name. The router (envoy.filters.http.router) is the terminal filter and
// is run by the connection manager itself; every other filter is looked up here. Adding a filter
// is one file in engine/filters/ and one line below.

import type { HttpFilterFactory } from './types';
import { fault } from './fault';
import { localRateLimit } from './local-ratelimit';
import { jwtAuthn } from './jwt-authn/filter';
import { rbac } from './rbac/filter';

const factories = new Map<string, HttpFilterFactory>();

export function registerHttpFilter(f: HttpFilterFactory): void {
  factories.set(f.name, f);
}

export function getHttpFilter(name: string): HttpFilterFactory | undefined {
  return factories.get(name);
}

export const ROUTER_FILTER = 'envoy.filters.http.router';

/** The Envoy name of the HTTP filter whose local reply these RESPONSE_CODE_DETAILS are, if any. */
export function refusingFilter(details: string): string | undefined {
  if (!details) return undefined;
  for (const f of factories.values()) {
    if (f.refusalDetails?.some((p) => details.startsWith(p))) return f.name;
  }
  return undefined;
}

// Registered filters.
registerHttpFilter(localRateLimit);
registerHttpFilter(jwtAuthn);
registerHttpFilter(fault);
registerHttpFilter(rbac);
