// Edits of the config text that keep everything else as the user wrote it: comments, layout,
// flow or block style. A weight changed from the console is one of these edits, then the same
// validate-and-apply path as any other config change: the text stays the source of truth.

import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { WeightEdit } from '../admin/contract';

export class EditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditError';
  }
}

/** Envoy accepts snake_case and protobuf-JSON camelCase names; an edit must find either. */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function get(map: unknown, field: string): unknown {
  if (!isMap(map)) return undefined;
  return map.get(field, true) ?? map.get(camel(field), true);
}

function keyOf(map: YAMLMap, field: string): string {
  return map.has(field) || !map.has(camel(field)) ? field : camel(field);
}

function scalar(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}

function items(node: unknown): unknown[] {
  return isSeq(node) ? (node as YAMLSeq).items : [];
}

interface TextEdit {
  at: number;
  remove: number;
  insert: string;
}

/**
 * Records the change of `field` on a map as a text edit: the existing value's characters are
 * replaced, or a new `field: value` is inserted in the map's own style (flow or block, with the
 * indentation of its first key). Nothing else in the text moves.
 */
function setField(edits: TextEdit[], text: string, map: YAMLMap, field: string, value: number, json: boolean): void {
  const existing = map.get(keyOf(map, field), true);
  if (isScalar(existing) && existing.range) {
    edits.push({ at: existing.range[0], remove: existing.range[1] - existing.range[0], insert: String(value) });
    return;
  }
  const key = json ? `"${field}"` : field;
  if (!map.range) throw new EditError(`cannot place ${field}: the map has no position in the text`);
  type Ranged = { range?: [number, number, number] | null } | null | undefined;
  const lastValue = map.items[map.items.length - 1]?.value as Ranged;
  if (map.flow) {
    if (!lastValue?.range) {
      const open = text.indexOf('{', map.range[0]);
      edits.push({ at: open + 1, remove: 0, insert: ` ${key}: ${value} ` });
      return;
    }
    let end = lastValue.range[1];
    while (end > 0 && /\s/.test(text[end - 1])) end--;
    edits.push({ at: end, remove: 0, insert: `, ${key}: ${value}` });
    return;
  }
  const first = map.items[0]?.key as Ranged;
  const firstAt = first?.range?.[0] ?? map.range[0];
  const column = firstAt - (text.lastIndexOf('\n', firstAt - 1) + 1);
  // After the line the map's last value ends on, so a trailing comment stays where it was.
  const last = map.items[map.items.length - 1]?.value as Ranged;
  // A block value's range can run into the following line: step back over trailing whitespace.
  let lastEnd = last?.range?.[1] ?? map.range[1];
  while (lastEnd > 0 && /\s/.test(text[lastEnd - 1])) lastEnd--;
  const eol = text.indexOf('\n', lastEnd);
  edits.push({ at: eol < 0 ? text.length : eol, remove: 0, insert: `\n${' '.repeat(column)}${key}: ${value}` });
}

function clusterNode(doc: Document, name: string): YAMLMap {
  const clusters = get(get(doc.contents, 'static_resources'), 'clusters');
  for (const c of items(clusters)) if (scalar(get(c, 'name')) === name) return c as YAMLMap;
  throw new EditError(`no cluster named '${name}' in static_resources.clusters`);
}

function setEndpointWeight(edits: TextEdit[], text: string, json: boolean, doc: Document, cluster: string, endpoint: string, weight: number): void {
  const c = clusterNode(doc, cluster);
  const groups = items(get(get(c, 'load_assignment'), 'endpoints'));
  for (const g of groups) {
    for (const lb of items(get(g, 'lb_endpoints'))) {
      const sa = get(get(get(lb, 'endpoint'), 'address'), 'socket_address');
      const addr = `${String(scalar(get(sa, 'address')))}:${String(scalar(get(sa, 'port_value')))}`;
      if (addr === endpoint) {
        setField(edits, text, lb as YAMLMap, 'load_balancing_weight', weight, json);
        return;
      }
    }
  }
  throw new EditError(`cluster '${cluster}' has no endpoint ${endpoint}`);
}

function* routeConfigs(doc: Document, listener: string | undefined): Generator<unknown> {
  for (const l of items(get(get(doc.contents, 'static_resources'), 'listeners'))) {
    if (listener !== undefined && scalar(get(l, 'name')) !== listener) continue;
    for (const chain of items(get(l, 'filter_chains'))) {
      for (const f of items(get(chain, 'filters'))) {
        const rc = get(get(f, 'typed_config'), 'route_config');
        if (rc) yield rc;
      }
    }
  }
}

function setSplitWeight(edits: TextEdit[], text: string, json: boolean, doc: Document, route: string, listener: string | undefined, cluster: string, weight: number): void {
  const slash = route.lastIndexOf('/');
  const byIndex = slash > 0 && /^\d+$/.test(route.slice(slash + 1)) ? { vhost: route.slice(0, slash), index: Number(route.slice(slash + 1)) } : undefined;
  for (const rc of routeConfigs(doc, listener)) {
    for (const vh of items(get(rc, 'virtual_hosts'))) {
      const routes = items(get(vh, 'routes'));
      routes.forEach((r, i) => {
        const named = scalar(get(r, 'name')) === route;
        const indexed = byIndex && scalar(get(vh, 'name')) === byIndex.vhost && byIndex.index === i;
        if (!named && !indexed) return;
        const wc = get(get(r, 'route'), 'weighted_clusters');
        if (!wc) throw new EditError(`route '${route}' has no weighted_clusters`);
        for (const c of items(get(wc, 'clusters'))) {
          if (scalar(get(c, 'name')) === cluster) {
            setField(edits, text, c as YAMLMap, 'weight', weight, json);
            throw new Done();
          }
        }
        throw new EditError(`route '${route}' does not split to cluster '${cluster}'`);
      });
    }
  }
  throw new EditError(`no route '${route}'${listener ? ` on listener '${listener}'` : ''}`);
}

class Done extends Error {}

/**
 * Applies weight edits to the config text and returns the new text: only the weights' characters
 * change (or a weight line is added in the map's own style). Throws EditError when an edit names
 * nothing in the config.
 */
export function editWeights(text: string, edits: WeightEdit[]): string {
  for (const e of edits) {
    if (!Number.isInteger(e.weight) || e.weight < 0) throw new EditError(`weight must be a non-negative integer, not ${e.weight}`);
    if (e.kind === 'endpoint' && e.weight < 1) throw new EditError('an endpoint weight must be at least 1 (Envoy: load_balancing_weight >= 1)');
  }
  const json = /^\s*[{[]/.test(text) && isJsonText(text);
  const doc = parseDocument(text);
  if (doc.errors.length) throw new EditError(`the running config no longer parses: ${doc.errors[0].message}`);
  const textEdits: TextEdit[] = [];
  for (const e of edits) {
    if (e.kind === 'endpoint') setEndpointWeight(textEdits, text, json, doc, e.cluster, e.endpoint, e.weight);
    else {
      try {
        setSplitWeight(textEdits, text, json, doc, e.route, e.listener, e.cluster, e.weight);
      } catch (err) {
        if (!(err instanceof Done)) throw err;
      }
    }
  }
  // Apply from the end so earlier offsets stay valid.
  textEdits.sort((a, b) => b.at - a.at);
  let out = text;
  for (const t of textEdits) out = out.slice(0, t.at) + t.insert + out.slice(t.at + t.remove);
  return out;
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
