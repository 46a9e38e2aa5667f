// envoy.filters.http.rbac: `rules` (ALLOW / DENY / LOG) enforced, `shadow_rules` evaluated and
// counted only; a route's RBACPerRoute replaces both (or, without `rbac`, disables the filter).
// Policies are tried in name order (Envoy keeps them in a sorted map); a policy matches when
// any permission and any principal match. Denial: 403 `RBAC: access denied`, details
// rbac_access_denied_matched_policy[<name>|none]. Stats: http.<stat_prefix>.rbac.<rules_stat_prefix>{allowed,denied},
// http.<stat_prefix>.rbac.<shadow_rules_stat_prefix>{shadow_allowed,shadow_denied}, logged / not_logged.

import type { TypedExtension } from '../../config/model';
import type { HttpStream } from '../../listener/stream';
import type { Counter, StatsStore } from '../../observe/stats';
import type { HttpFilter, HttpFilterFactory } from '../types';
import { compilePermission, compilePrincipal, type Match, RbacRequest } from './matchers';

export const RBAC = 'envoy.filters.http.rbac';
const METADATA = 'envoy.filters.http.rbac';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** One config.rbac.v3.RBAC: the action and its policies, compiled. */
export class RbacEngine {
  readonly action: 'ALLOW' | 'DENY' | 'LOG';
  private readonly policies: Array<{ name: string; permissions: Match[]; principals: Match[] }>;

  constructor(rbac: Obj) {
    const a = rbac.action;
    this.action = a === 'DENY' || a === 1 ? 'DENY' : a === 'LOG' || a === 2 ? 'LOG' : 'ALLOW';
    this.policies = Object.entries(obj(rbac.policies))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, p]) => ({ name, permissions: list(obj(p).permissions).map(compilePermission), principals: list(obj(p).principals).map(compilePrincipal) }));
  }

  /** The first matching policy's name, or '' when none matches. */
  matchedPolicy(r: RbacRequest): string {
    for (const p of this.policies) {
      if (p.permissions.some((m) => m(r)) && p.principals.some((m) => m(r))) return p.name;
    }
    return '';
  }

  /** Envoy's handleAction: whether the request may pass, and the policy that decided. */
  decide(r: RbacRequest): { allowed: boolean; policy: string } {
    const policy = this.matchedPolicy(r);
    if (this.action === 'ALLOW') return { allowed: policy !== '', policy };
    if (this.action === 'DENY') return { allowed: policy === '', policy };
    return { allowed: true, policy };
  }
}

export function rbacStats(store: StatsStore, statPrefix: string, rulesPrefix: string, shadowPrefix: string) {
  const p = `http.${statPrefix}.rbac.`;
  return {
    allowed: store.counter(`${p}${rulesPrefix}allowed`),
    denied: store.counter(`${p}${rulesPrefix}denied`),
    logged: store.counter(`${p}${rulesPrefix}logged`),
    not_logged: store.counter(`${p}${rulesPrefix}not_logged`),
    shadow_allowed: store.counter(`${p}${shadowPrefix}shadow_allowed`),
    shadow_denied: store.counter(`${p}${shadowPrefix}shadow_denied`),
  };
}

/** Rules and shadow rules of one RBAC message (the filter's or a route's). */
interface Engines {
  rules: RbacEngine | undefined;
  shadow: RbacEngine | undefined;
}

function engines(c: Obj): Engines {
  return {
    rules: c.rules !== undefined ? new RbacEngine(obj(c.rules)) : undefined,
    shadow: c.shadow_rules !== undefined ? new RbacEngine(obj(c.shadow_rules)) : undefined,
  };
}

class RbacFilter implements HttpFilter {
  private readonly base: Engines;
  private readonly perRoute = new WeakMap<TypedExtension, Engines>();
  private readonly stats: ReturnType<typeof rbacStats>;
  private readonly shadowPrefix: string;
  readonly counters: Counter[];

  constructor(config: TypedExtension, store: StatsStore, statPrefix: string) {
    const c = config.config;
    this.base = engines(c);
    this.shadowPrefix = typeof c.shadow_rules_stat_prefix === 'string' ? c.shadow_rules_stat_prefix : '';
    this.stats = rbacStats(store, statPrefix, typeof c.rules_stat_prefix === 'string' ? c.rules_stat_prefix : '', this.shadowPrefix);
    const s = this.stats;
    this.counters = [s.allowed, s.denied, s.shadow_allowed, s.shadow_denied];
  }

  private enginesFor(stream: HttpStream): Engines {
    const r = stream.perFilterConfig(RBAC);
    if (!r) return this.base;
    let e = this.perRoute.get(r);
    // RBACPerRoute without `rbac` disables the filter on this route.
    if (!e) this.perRoute.set(r, (e = engines(obj(r.config.rbac))));
    return e;
  }

  decodeHeaders(stream: HttpStream): boolean {
    const { rules, shadow } = this.enginesFor(stream);
    if (!rules && !shadow) return true;
    const req = new RbacRequest(stream);
    if (shadow) {
      const d = shadow.decide(req);
      (d.allowed ? this.stats.shadow_allowed : this.stats.shadow_denied).inc();
      const fields: Record<string, unknown> = { [`${this.shadowPrefix}shadow_engine_result`]: d.allowed ? 'allowed' : 'denied' };
      if (d.policy) fields[`${this.shadowPrefix}shadow_effective_policy_id`] = d.policy;
      const md = (stream.info.dynamicMetadata ??= {});
      md[METADATA] = { ...md[METADATA], ...fields };
    }
    if (!rules) return true;
    const d = rules.decide(req);
    if (rules.action === 'LOG') {
      (d.policy ? this.stats.logged : this.stats.not_logged).inc();
      const md = (stream.info.dynamicMetadata ??= {});
      md['envoy.common'] = { ...md['envoy.common'], access_log_hint: d.policy !== '' };
    }
    if (d.allowed) {
      this.stats.allowed.inc();
      return true;
    }
    this.stats.denied.inc();
    stream.sendLocalReply(403, 'RBAC: access denied', 0, `rbac_access_denied_matched_policy[${d.policy || 'none'}]`);
    return false;
  }
}

export const rbac: HttpFilterFactory = {
  name: RBAC,
  refusalDetails: ['rbac_access_denied'],
  create: (config, ctx) => new RbacFilter(config, ctx.store, ctx.statPrefix),
};
