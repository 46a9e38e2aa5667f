// Routes that split traffic over clusters (`weighted_clusters`), read from the running YAML in the
// browser: the same names the engine's weight edit expects (the route's `name`, else
// "virtualHostName/index"), snake_case or camelCase keys alike.

import { parse } from 'yaml';

export interface Split {
  /** The route id for WeightEdit.route. */
  route: string;
  listener: string;
  virtualHost: string;
  /** A short description of what the route matches, e.g. "prefix /v1/payments". */
  match: string;
  clusters: Array<{ name: string; weight: number }>;
}

type Obj = Record<string, unknown>;
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function get(o: unknown, field: string): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const m = o as Obj;
  return m[field] ?? m[camel(field)];
}
function list(o: unknown): unknown[] {
  return Array.isArray(o) ? o : [];
}
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  const inner = get(v, 'value');
  return inner !== undefined ? num(inner) : 0;
}

function describeMatch(m: unknown): string {
  for (const k of ['prefix', 'path', 'safe_regex', 'path_separated_prefix']) {
    const v = get(m, k);
    if (v !== undefined) return `${k.replace(/_/g, ' ')} ${typeof v === 'string' ? v : String(get(v, 'regex') ?? '')}`;
  }
  return 'any path';
}

export function findSplits(yamlText: string): Split[] {
  let doc: unknown;
  try {
    doc = parse(yamlText);
  } catch {
    return [];
  }
  const out: Split[] = [];
  for (const l of list(get(get(doc, 'static_resources'), 'listeners'))) {
    const listener = String(get(l, 'name') ?? '');
    for (const chain of list(get(l, 'filter_chains'))) {
      for (const f of list(get(chain, 'filters'))) {
        const rc = get(get(f, 'typed_config'), 'route_config');
        for (const vh of list(get(rc, 'virtual_hosts'))) {
          const vhName = String(get(vh, 'name') ?? '');
          list(get(vh, 'routes')).forEach((r, i) => {
            const wc = get(get(r, 'route'), 'weighted_clusters');
            if (!wc) return;
            const name = get(r, 'name');
            out.push({
              route: typeof name === 'string' && name ? name : `${vhName}/${i}`,
              listener,
              virtualHost: vhName,
              match: describeMatch(get(r, 'match')),
              clusters: list(get(wc, 'clusters')).map((c) => ({ name: String(get(c, 'name') ?? ''), weight: num(get(c, 'weight')) })),
            });
          });
        }
      }
    }
  }
  return out;
}
