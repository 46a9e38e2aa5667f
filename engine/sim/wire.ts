// Wires a scenario's mocks into its Envoy config: every endpoint of a mapped cluster gets the
// address of the matching instance (127.0.0.1 and the port the OS picked), in order. The text
// is edited in place, character ranges only, so comments and layout stay as written and the
// config the engine runs (and the console shows) is the user's own with other ports.

import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml';
import { LineCounter } from 'yaml';
import type { Diagnostic } from '../config/model';
import { nearest } from '../config/suggest';
import type { LoadedScenario, Scenario } from './scenario';

export interface WireProblem {
  /** Which file the diagnostic points into. */
  in: 'scenario' | 'envoy';
  diagnostic: Diagnostic;
}

export interface WireResult {
  text: string;
  errors: WireProblem[];
  /** Clusters of the config no service answers for (left as written). */
  unmapped: string[];
  /** Envoy cluster → "127.0.0.1:PORT" per instance, in order. */
  endpoints: Record<string, string[]>;
  /** Listener names of the config. */
  listeners: string[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** A map's value by its proto field name, in snake_case or the JSON camelCase spelling. */
function field(map: unknown, name: string): YamlNode | undefined {
  if (!isMap(map)) return undefined;
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const pair of (map as YAMLMap).items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (k === name || k === camel) return (pair.value ?? undefined) as YamlNode | undefined;
  }
  return undefined;
}

function scalarText(n: YamlNode | undefined): string | undefined {
  return isScalar(n) && n.value !== null && n.value !== undefined ? String(n.value) : undefined;
}

export function wireConfig(envoyText: string, scenario: Scenario, located: Pick<LoadedScenario, 'locate'>, ports: Record<string, number[]>, opts: { ephemeralPorts?: boolean } = {}): WireResult {
  const lc = new LineCounter();
  const doc = parseDocument(envoyText, { lineCounter: lc, keepSourceTokens: false });
  const errors: WireProblem[] = [];
  const edits: Edit[] = [];
  const endpoints: Record<string, string[]> = {};
  const posOf = (n: YamlNode | undefined) => {
    const off = n?.range?.[0];
    if (off === undefined) return { line: 0, column: 0 };
    const p = lc.linePos(off);
    return { line: p.line, column: p.col };
  };
  const inScenario = (path: Array<string | number>, code: string, message: string, suggestion?: string, at: 'key' | 'value' = 'key') => {
    const p = located.locate(path, at);
    const d: Diagnostic = { severity: 'error', code, path: path.join('.'), line: p.line, column: p.column, message };
    if (suggestion) d.suggestion = suggestion;
    errors.push({ in: 'scenario', diagnostic: d });
  };
  const inEnvoy = (n: YamlNode | undefined, path: string, code: string, message: string) => {
    const p = posOf(n);
    errors.push({ in: 'envoy', diagnostic: { severity: 'error', code, path, line: p.line, column: p.column, message } });
  };
  const replace = (n: YamlNode, text: string) => {
    const r = n.range!;
    edits.push({ start: r[0], end: r[1], text });
  };

  const root = doc.contents as YamlNode | null;
  const sr = field(root, 'static_resources');
  const clusterSeq = field(sr, 'clusters');
  const listenerSeq = field(sr, 'listeners');
  const clusters = new Map<string, { node: YamlNode; index: number }>();
  if (isSeq(clusterSeq)) {
    clusterSeq.items.forEach((c, i) => {
      const name = scalarText(field(c, 'name'));
      if (name !== undefined) clusters.set(name, { node: c as YamlNode, index: i });
    });
  }
  const listeners: string[] = [];
  if (isSeq(listenerSeq)) {
    for (const l of listenerSeq.items) {
      const name = scalarText(field(l, 'name'));
      if (name !== undefined) listeners.push(name);
      if (opts.ephemeralPorts) {
        const port = field(field(field(l, 'address'), 'socket_address'), 'port_value');
        if (isScalar(port) && port.range) replace(port, '0');
      }
    }
  }
  if (opts.ephemeralPorts) {
    const port = field(field(field(field(root, 'admin'), 'address'), 'socket_address'), 'port_value');
    if (isScalar(port) && port.range) replace(port, '0');
  }

  for (const [clusterName, service] of Object.entries(scenario.clusters)) {
    const c = clusters.get(clusterName);
    if (!c) {
      const near = nearest(clusterName, clusters.keys());
      inScenario(['clusters', clusterName], 'unknown_cluster', `the Envoy config has no cluster "${clusterName}"`, near ? `did you mean "${near}"?` : `its clusters: ${[...clusters.keys()].join(', ') || 'none'}`);
      continue;
    }
    const base = `static_resources.clusters[${c.index}]`;
    const la = field(c.node, 'load_assignment');
    const sockets: Array<{ node: YamlNode; path: string }> = [];
    const eps = field(la, 'endpoints');
    if (isSeq(eps)) {
      eps.items.forEach((loc, i) => {
        const lbs = field(loc, 'lb_endpoints');
        if (!isSeq(lbs)) return;
        lbs.items.forEach((ep, j) => {
          const path = `${base}.load_assignment.endpoints[${i}].lb_endpoints[${j}].endpoint.address.socket_address`;
          const sa = field(field(field(ep, 'endpoint'), 'address'), 'socket_address');
          if (!isMap(sa)) inEnvoy(ep as YamlNode, path, 'unsupported_endpoint', 'the simulator rewrites socket_address endpoints only');
          else sockets.push({ node: sa as YamlNode, path });
        });
      });
    }
    const instances = ports[service] ?? [];
    if (sockets.length !== instances.length) {
      inScenario(
        ['clusters', clusterName],
        'endpoint_count',
        `cluster "${clusterName}" has ${sockets.length} endpoint(s) in the Envoy config (line ${posOf(la ?? c.node).line}) but service "${service}" has ${instances.length} instance(s)`,
        'give the service one instance per endpoint (instances: N), in the same order',
        'value',
      );
      continue;
    }
    endpoints[clusterName] = [];
    sockets.forEach((s, i) => {
      const addr = field(s.node, 'address');
      const port = field(s.node, 'port_value');
      if (!isScalar(addr) || !addr.range || !isScalar(port) || !port.range) {
        inEnvoy(s.node, s.path, 'unsupported_endpoint', 'the simulator needs address and port_value here to rewrite them');
        return;
      }
      if (String(addr.value) !== '127.0.0.1') replace(addr, '127.0.0.1');
      replace(port, String(instances[i]));
      endpoints[clusterName].push(`127.0.0.1:${instances[i]}`);
    });
  }

  const target = scenario.load?.target.listener;
  if (target !== undefined && !listeners.includes(target)) {
    const near = nearest(target, listeners);
    inScenario(['load', 'target', 'listener'], 'unknown_listener', `the Envoy config has no listener "${target}"`, near ? `did you mean "${near}"?` : `its listeners: ${listeners.join(', ') || 'none'}`, 'value');
  }

  let text = envoyText;
  for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  const mapped = new Set(Object.keys(scenario.clusters));
  return { text, errors, unmapped: [...clusters.keys()].filter((c) => !mapped.has(c)), endpoints, listeners };
}
