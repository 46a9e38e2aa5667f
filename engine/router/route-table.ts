// A RouteConfiguration compiled for the request path: virtual hosts found by Envoy's domain
// order (exact, longest `*.suffix`, longest `prefix.*`, then `*`), routes tried in order, first
// match wins.

import type { Route, RouteConfiguration, VirtualHost, WeightedCluster } from '../config/model';
import { compileRouteMatch, type MatchInput } from './matchers';
import { compileMutations, type HeaderMutator } from './headers';
import { checkRe2 } from '../config/regex';

export interface CompiledRoute {
  readonly route: Route;
  readonly matches: (input: MatchInput) => boolean;
  /** For weighted_clusters: cumulative weights for one random draw. */
  readonly weighted?: { clusters: WeightedCluster[]; cumulative: number[]; total: number };
  readonly requestMutations: HeaderMutator;
  readonly responseMutations: HeaderMutator;
  /** regex_rewrite compiled once: every match of the pattern in the path is replaced. */
  readonly regexRewrite?: { re: RegExp; replacement: string };
}

export interface CompiledVirtualHost {
  readonly vhost: VirtualHost;
  readonly routes: CompiledRoute[];
}

export class RouteTable {
  private readonly exact = new Map<string, CompiledVirtualHost>();
  private readonly suffixes: Array<[string, CompiledVirtualHost]> = [];
  private readonly prefixes: Array<[string, CompiledVirtualHost]> = [];
  private defaultHost: CompiledVirtualHost | undefined;

  constructor(readonly config: RouteConfiguration) {
    for (const vh of config.virtualHosts) {
      const compiled: CompiledVirtualHost = { vhost: vh, routes: vh.routes.map((r) => compileRoute(r, vh, config)) };
      for (const raw of vh.domains) {
        const d = raw.toLowerCase();
        if (d === '*') this.defaultHost = compiled;
        else if (d.startsWith('*')) this.suffixes.push([d.slice(1), compiled]);
        else if (d.endsWith('*')) this.prefixes.push([d.slice(0, -1), compiled]);
        else this.exact.set(d, compiled);
      }
    }
    // Longest wildcard wins (Envoy keeps these maps ordered by length, descending).
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  findVirtualHost(authority: string): CompiledVirtualHost | undefined {
    if (this.exact.size === 0 && this.suffixes.length === 0 && this.prefixes.length === 0) return this.defaultHost;
    const host = authority.toLowerCase();
    const hit = this.exact.get(host);
    if (hit) return hit;
    for (const [suffix, vh] of this.suffixes) {
      // `*.foo.com` needs at least one character before the suffix.
      if (host.length > suffix.length && host.endsWith(suffix)) return vh;
    }
    for (const [prefix, vh] of this.prefixes) {
      if (host.length > prefix.length && host.startsWith(prefix)) return vh;
    }
    return this.defaultHost;
  }

  /** The first route of the matching virtual host whose match holds; undefined = no route (NR). */
  route(authority: string, input: MatchInput): { vhost: CompiledVirtualHost; route: CompiledRoute } | undefined {
    const vhost = this.findVirtualHost(authority);
    if (!vhost) return undefined;
    for (const r of vhost.routes) if (r.matches(input)) return { vhost, route: r };
    return undefined;
  }
}

function compileRoute(route: Route, vh: VirtualHost, config: RouteConfiguration): CompiledRoute {
  const matches = compileRouteMatch(route.match);
  const levels = [route, vh, config];
  const requestMutations = compileMutations(levels, 'request');
  const responseMutations = compileMutations(levels, 'response');
  const a = route.action;
  const base = { route, matches, requestMutations, responseMutations, regexRewrite: compileRewrite(route) };
  if (a.kind === 'route' && a.weightedClusters) {
    const clusters = a.weightedClusters.clusters;
    const cumulative: number[] = [];
    let total = 0;
    for (const c of clusters) {
      total += c.weight;
      cumulative.push(total);
    }
    return { ...base, weighted: { clusters, cumulative, total } };
  }
  return base;
}

function compileRewrite(route: Route): CompiledRoute['regexRewrite'] {
  const a = route.action;
  if (a.kind !== 'route' || !a.regexRewrite) return undefined;
  const re2 = checkRe2(a.regexRewrite.pattern);
  if (!re2.ok) throw new Error(`invalid RE2 regex '${a.regexRewrite.pattern}': ${re2.message}`);
  // RE2 substitutions use \1; JavaScript's replace uses $1 (and a literal $ must be $$).
  const replacement = a.regexRewrite.substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return { re: new RegExp(re2.source, `${re2.flags}g`), replacement };
}

/** One draw over weighted_clusters, as Envoy does: random % total, walk the cumulative weights. */
export function pickWeightedCluster(w: NonNullable<CompiledRoute['weighted']>, random: number): string {
  const point = Math.floor(random * w.total);
  const cum = w.cumulative;
  for (let i = 0; i < cum.length; i++) if (point < cum[i]) return w.clusters[i].name;
  return w.clusters[w.clusters.length - 1].name;
}
