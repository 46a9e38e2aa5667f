// Envoy's rules that span more than one field, checked on the validated config with the same
// messages Envoy uses where it has one, located by path and line: duplicate names, domains and
// addresses; routes to clusters that do not exist; weighted clusters summing to 0; regexes RE2
// rejects; the router not last; LOGICAL_DNS with several endpoints; a STATIC cluster with a
// hostname; maglev table sizes that are not prime; direct_response bodies; and more.

import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { isIP } from 'node:net';
import { checkRe2 } from './regex';
import { HTTP_FILTERS, ROUTER_NAME, ROUTER_TYPE } from './registry';
import { child, index, type Reporter } from './report';
import type { TypedNode, Validated } from './validate';
import { typeNameFromUrl } from './protos';
import { extensionNames } from './extension-names';
import { checkAccessLogs } from '../observe/access-log/check';
import { checkJwtAuthn, checkLocalRateLimit, JWT_AUTHN_TYPE, LOCAL_RATELIMIT_TYPE } from '../filters/check';

export interface SemanticOptions {
  /** Relative file names (direct_response bodies) are read from here, as Envoy reads them from its working directory. */
  baseDir?: string;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const DEFAULT_MAX_DIRECT_RESPONSE_BODY = 4096;

const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

export function checkSemantics(v: Validated, rep: Reporter, opts: SemanticOptions = {}): void {
  const root = v.value;
  if (!root) return;
  const byType = (t: string): TypedNode[] => v.nodes.filter((n) => n.type === t);
  const clusters = byType('envoy.config.cluster.v3.Cluster').filter((n) => /^static_resources\.clusters\[\d+\]$/.test(n.path));
  const listeners = byType('envoy.config.listener.v3.Listener').filter((n) => /^static_resources\.listeners\[\d+\]$/.test(n.path));
  const clusterNames = new Set(clusters.map((c) => str(c.value.name)).filter((n): n is string => !!n));

  duplicates(rep, clusters, 'duplicate_cluster', (n) => `cluster manager: duplicate cluster "${n}"`);
  duplicates(rep, listeners, 'duplicate_listener', (n) => `error adding listener: multiple listeners named "${n}"`);
  addresses(rep, root, listeners);
  for (const l of listeners) listenerChains(rep, l);
  for (const c of clusters) cluster(rep, c);
  for (const n of byType('envoy.config.route.v3.RouteConfiguration')) routeConfig(rep, n, clusterNames, opts);
  for (const n of byType('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager')) httpFilters(rep, n);
  for (const n of byType('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager')) checkAccessLogs(rep, n, { baseDir: opts.baseDir });
  for (const n of byType('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy')) checkAccessLogs(rep, n, { baseDir: opts.baseDir });
  for (const n of byType('envoy.type.matcher.v3.RegexMatcher')) regex(rep, n);
  for (const n of byType(JWT_AUTHN_TYPE)) checkJwtAuthn(rep, n, { baseDir: opts.baseDir });
  for (const n of byType(LOCAL_RATELIMIT_TYPE)) checkLocalRateLimit(rep, n);
  for (const n of byType('envoy.config.route.v3.RetryPolicy')) retryOn(rep, n);
  for (const n of byType('envoy.extensions.load_balancing_policies.maglev.v3.Maglev')) maglevTable(rep, n.value.table_size, child(n.path, 'table_size'));
  for (const n of byType('envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash')) ringSizes(rep, n.value, n.path);
}

function duplicates(rep: Reporter, nodes: TypedNode[], code: string, message: (name: string) => string): void {
  const first = new Map<string, string>();
  for (const n of nodes) {
    const name = str(n.value.name);
    if (!name) continue; // unnamed listeners get a generated name, as in Envoy
    const prev = first.get(name);
    if (prev) rep.error(code, child(n.path, 'name'), message(name), { suggestion: `rename it: ${prev}.name is "${name}" too` });
    else first.set(name, n.path);
  }
}

function socketOf(address: unknown): { host: string; port: number } | undefined {
  const sa = isObject(address) && isObject(address.socket_address) ? address.socket_address : undefined;
  if (!sa) return undefined;
  return { host: str(sa.address) ?? '', port: typeof sa.port_value === 'number' ? sa.port_value : 0 };
}

/** Two listeners (or a listener and the admin) on the same address and port cannot both bind. */
function addresses(rep: Reporter, root: Obj, listeners: TypedNode[]): void {
  const taken = new Map<string, string>();
  const admin = isObject(root.admin) ? socketOf(root.admin.address) : undefined;
  if (admin && admin.port !== 0) taken.set(`${admin.host}:${admin.port}`, 'admin.address');
  for (const l of listeners) {
    const s = socketOf(l.value.address);
    if (!s || s.port === 0) continue;
    const key = `${s.host}:${s.port}`;
    const prev = taken.get(key);
    const apath = child(child(l.path, 'address'), 'socket_address');
    if (prev) {
      rep.error('duplicate_address', child(apath, 'port_value'), `${key} is already used by ${prev}: both cannot listen on it`, {
        suggestion: 'give one of them another port_value',
      });
    } else taken.set(key, l.path);
  }
}

function listenerChains(rep: Reporter, l: TypedNode): void {
  const chains = arr(l.value.filter_chains);
  if (chains.length === 0 && l.value.default_filter_chain === undefined) {
    rep.error('no_filter_chains', l.path, `error adding listener${str(l.value.name) ? ` "${l.value.name}"` : ''}: no filter chains specified`, {
      at: 'key',
      suggestion: 'add filter_chains with an envoy.filters.network.http_connection_manager filter',
    });
  }
  const seen = new Map<string, number>();
  chains.forEach((c, i) => {
    if (!isObject(c)) return;
    const key = canonical(c.filter_chain_match ?? {});
    const prev = seen.get(key);
    if (prev !== undefined) {
      rep.error('duplicate_filter_chain_match', index(child(l.path, 'filter_chains'), i), `filter_chains[${i}] has the same filter_chain_match as filter_chains[${prev}]: Envoy rejects the listener`, {
        suggestion: 'make the filter_chain_match of each filter chain different (server_names, transport_protocol, ...)',
      });
    } else seen.set(key, i);
    const filters = arr(c.filters);
    filters.forEach((f, j) => {
      if (!isObject(f) || j === filters.length - 1) return;
      const t = isObject(f.typed_config) ? str(f.typed_config['@type']) : undefined;
      const name = t ? typeNameFromUrl(t) : str(f.name);
      if (name && TERMINAL_NETWORK_FILTERS.has(name)) {
        rep.error('terminal_filter_not_last', index(child(index(child(l.path, 'filter_chains'), i), 'filters'), j), `Error: terminal filter named ${str(f.name) ?? name} must be the last filter in a network filter chain.`, {
          at: 'key',
        });
      }
    });
  });
}

const TERMINAL_NETWORK_FILTERS = new Set([
  'envoy.filters.network.http_connection_manager',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  'envoy.filters.network.tcp_proxy',
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
]);

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function cluster(rep: Reporter, c: TypedNode): void {
  const type = str(c.value.type) ?? 'STATIC';
  const la = isObject(c.value.load_assignment) ? c.value.load_assignment : undefined;
  const lapath = child(c.path, 'load_assignment');
  const endpoints: { path: string; host: string }[] = [];
  arr(la?.endpoints).forEach((loc, i) => {
    if (!isObject(loc)) return;
    arr(loc.lb_endpoints).forEach((lb, j) => {
      if (!isObject(lb) || !isObject(lb.endpoint)) return;
      const s = socketOf(lb.endpoint.address);
      const p = child(child(child(child(index(child(index(child(lapath, 'endpoints'), i), 'lb_endpoints'), j), 'endpoint'), 'address'), 'socket_address'), 'address');
      if (s) endpoints.push({ path: p, host: s.host });
    });
  });
  if (type === 'LOGICAL_DNS' && endpoints.length > 1) {
    rep.error('logical_dns_endpoints', child(lapath, 'endpoints'), `LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint (this one has ${endpoints.length})`, {
      suggestion: 'use STRICT_DNS for several hosts',
    });
  }
  if (type === 'STATIC') {
    for (const e of endpoints) {
      if (e.host !== '' && isIP(e.host) === 0) {
        rep.error('static_cluster_hostname', e.path, `malformed IP address: ${e.host} (a STATIC cluster takes IP addresses only)`, {
          suggestion: `use type: STRICT_DNS (or LOGICAL_DNS) to resolve "${e.host}"`,
        });
      }
    }
  }
  if (isObject(c.value.maglev_lb_config)) maglevTable(rep, c.value.maglev_lb_config.table_size, child(child(c.path, 'maglev_lb_config'), 'table_size'));
  if (isObject(c.value.ring_hash_lb_config)) ringSizes(rep, c.value.ring_hash_lb_config, child(c.path, 'ring_hash_lb_config'));
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

function maglevTable(rep: Reporter, size: unknown, path: string): void {
  if (typeof size !== 'number') return;
  if (!isPrime(size)) {
    let p = size + 1;
    while (!isPrime(p)) p++;
    rep.error('maglev_table_size', path, `The table size of maglev must be prime number (${size} is not)`, { suggestion: `use ${p}` });
  }
}

function ringSizes(rep: Reporter, cfg: Obj, path: string): void {
  const min = typeof cfg.minimum_ring_size === 'number' ? cfg.minimum_ring_size : 1024;
  const max = typeof cfg.maximum_ring_size === 'number' ? cfg.maximum_ring_size : 8388608;
  if (min > max) rep.error('ring_hash_sizes', child(path, 'minimum_ring_size'), `ring hash: minimum_ring_size (${min}) > maximum_ring_size (${max})`);
}

function routeConfig(rep: Reporter, rc: TypedNode, clusters: ReadonlySet<string>, opts: SemanticOptions): void {
  const validate = rc.value.validate_clusters !== false;
  const rcName = str(rc.value.name) ?? '';
  const maxBody = typeof rc.value.max_direct_response_body_size_bytes === 'number' ? rc.value.max_direct_response_body_size_bytes : DEFAULT_MAX_DIRECT_RESPONSE_BODY;
  const domains = new Map<string, string>();
  let wildcard: string | undefined;
  arr(rc.value.virtual_hosts).forEach((vh, i) => {
    if (!isObject(vh)) return;
    const vpath = index(child(rc.path, 'virtual_hosts'), i);
    arr(vh.domains).forEach((d, j) => {
      if (typeof d !== 'string') return;
      const dpath = index(child(vpath, 'domains'), j);
      const lower = d.toLowerCase();
      if (lower === '*') {
        if (wildcard) rep.error('duplicate_domain', dpath, `Only a single wildcard domain is permitted in route ${rcName}`, { suggestion: `${wildcard} already has "*"` });
        else wildcard = dpath;
        return;
      }
      const prev = domains.get(lower);
      if (prev) {
        rep.error('duplicate_domain', dpath, `Only unique values for domains are permitted. Duplicate entry of domain ${lower} in route ${rcName}`, {
          suggestion: `${prev} already has it`,
        });
      } else domains.set(lower, dpath);
    });
    arr(vh.routes).forEach((r, k) => {
      if (!isObject(r)) return;
      const rpath = index(child(vpath, 'routes'), k);
      if (isObject(r.route)) routeAction(rep, r.route, child(rpath, 'route'), clusters, validate);
      if (isObject(r.direct_response)) directResponse(rep, r.direct_response, child(rpath, 'direct_response'), maxBody, opts);
    });
  });
}

function routeAction(rep: Reporter, ra: Obj, path: string, clusters: ReadonlySet<string>, validate: boolean): void {
  const unknown = (name: string, p: string, weighted: boolean) => {
    const msg = `route: unknown ${weighted ? 'weighted ' : ''}cluster '${name}'`;
    const suggestion = nearestCluster(name, clusters);
    if (validate) rep.error('unknown_cluster', p, msg, { suggestion });
    else rep.warn('unknown_cluster', p, `${msg} (validate_clusters is false: requests to it get 503)`, { suggestion });
  };
  const name = str(ra.cluster);
  if (name !== undefined && !clusters.has(name)) unknown(name, child(path, 'cluster'), false);
  const wc = isObject(ra.weighted_clusters) ? ra.weighted_clusters : undefined;
  if (wc) {
    const wpath = child(path, 'weighted_clusters');
    let sum = 0;
    arr(wc.clusters).forEach((c, i) => {
      if (!isObject(c)) return;
      const cpath = index(child(wpath, 'clusters'), i);
      const n = str(c.name);
      if (n !== undefined && n !== '' && !clusters.has(n)) unknown(n, child(cpath, 'name'), true);
      if (n === undefined && c.cluster_header === undefined) rep.error('missing_field', cpath, 'At least one of name or cluster_header need to be specified', { at: 'key' });
      sum += typeof c.weight === 'number' ? c.weight : 0;
    });
    if (sum === 0 && arr(wc.clusters).length > 0) {
      rep.error('zero_weight_sum', child(wpath, 'clusters'), 'Sum of weights in the weighted_cluster must be greater than 0.', {
        at: 'key',
        suggestion: 'give at least one cluster a weight above 0',
      });
    }
    if (typeof wc.total_weight === 'number' && wc.total_weight > 0 && wc.total_weight !== sum) {
      rep.warn('total_weight_mismatch', child(wpath, 'total_weight'), `total_weight is ${wc.total_weight} but the weights sum to ${sum}: Envoy uses the sum`);
    }
  }
}

function nearestCluster(name: string, clusters: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of clusters) {
    const d = levenshtein(name.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  if (best === undefined) return 'no cluster is defined in static_resources.clusters';
  return bestScore <= Math.max(2, Math.floor(name.length / 3)) ? `did you mean "${best}"?` : `defined clusters: ${[...clusters].slice(0, 8).join(', ')}`;
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

function directResponse(rep: Reporter, dr: Obj, path: string, maxBody: number, opts: SemanticOptions): void {
  const body = isObject(dr.body) ? dr.body : undefined;
  if (!body) return;
  const bpath = child(path, 'body');
  let size: number | undefined;
  if (typeof body.inline_string === 'string') size = Buffer.byteLength(body.inline_string);
  else if (typeof body.inline_bytes === 'string') size = Buffer.from(body.inline_bytes, 'base64').length;
  else if (typeof body.filename === 'string') {
    const file = isAbsolute(body.filename) ? body.filename : resolvePath(opts.baseDir ?? process.cwd(), body.filename);
    const fpath = child(bpath, 'filename');
    if (!existsSync(file)) {
      rep.error('file_not_found', fpath, `direct_response body file ${body.filename} does not exist${isAbsolute(body.filename) ? '' : ` (looked in ${opts.baseDir ?? process.cwd()})`}`);
      return;
    }
    try {
      const st = statSync(file);
      if (!st.isFile()) {
        rep.error('file_not_found', fpath, `direct_response body ${body.filename} is not a file`);
        return;
      }
      size = st.size;
    } catch (e) {
      rep.error('file_not_found', fpath, `cannot read ${body.filename}: ${(e as Error).message}`);
      return;
    }
  } else if (typeof body.environment_variable === 'string') {
    const val = process.env[body.environment_variable];
    if (val === undefined) rep.warn('env_not_set', child(bpath, 'environment_variable'), `environment variable ${body.environment_variable} is not set: Envoy would reject this config`);
    else size = Buffer.byteLength(val);
  }
  if (size !== undefined && size > maxBody) {
    rep.error('body_too_large', bpath, `response body size is ${size} bytes; maximum is ${maxBody}`, {
      suggestion: 'raise max_direct_response_body_size_bytes on the route configuration, or shorten the body',
    });
  }
}

/** Router last, no non-terminal filter last; a chain with no filters at all serves nothing. */
function httpFilters(rep: Reporter, hcm: TypedNode): void {
  const filters = arr(hcm.value.http_filters);
  const fpath = child(hcm.path, 'http_filters');
  if (hcm.value.http_filters === undefined || filters.length === 0) {
    rep.warn('no_router_filter', hcm.path, 'http_filters is empty: Envoy accepts this, but no request can be routed without envoy.filters.http.router', {
      at: 'key',
      suggestion: 'add http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]',
    });
    return;
  }
  const idx = extensionNames();
  filters.forEach((f, i) => {
    if (!isObject(f)) return;
    const url = isObject(f.typed_config) ? str(f.typed_config['@type']) : undefined;
    const type = url ? typeNameFromUrl(url) : idx.byName.get(str(f.name) ?? '');
    const name = str(f.name) ?? '';
    const terminal = type === ROUTER_TYPE || (!url && name === ROUTER_NAME) || TERMINAL_HTTP_FILTERS.has(type ?? '');
    const last = i === filters.length - 1;
    const label = `${name} of type ${type ?? name}`;
    if (terminal && !last) {
      rep.error('router_not_last', index(fpath, i), `Error: terminal filter named ${label} must be the last filter in a http filter chain.`, {
        at: 'key',
        suggestion: 'move it to the end of http_filters',
      });
    } else if (!terminal && last) {
      const known = type !== undefined || HTTP_FILTERS.byName(name) !== undefined;
      if (known) {
        rep.error('router_not_last', index(fpath, i), `Error: non-terminal filter named ${label} is the last filter in a http filter chain.`, {
          at: 'key',
          suggestion: `add ${ROUTER_NAME} after it`,
        });
      }
    }
  });
}

const TERMINAL_HTTP_FILTERS = new Set([ROUTER_TYPE, 'envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec']);

function regex(rep: Reporter, n: TypedNode): void {
  const pattern = n.value.regex;
  if (typeof pattern !== 'string' || pattern === '') return;
  const r = checkRe2(pattern);
  if (!r.ok) rep.error('invalid_regex', child(n.path, 'regex'), `${r.message}: ${JSON.stringify(pattern)}`, { suggestion: r.suggestion });
}

function retryOn(rep: Reporter, n: TypedNode): void {
  const v = n.value.retry_on;
  if (typeof v !== 'string') return;
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!RETRY_ON.has(part)) {
      let best: string | undefined;
      let bestD = Infinity;
      for (const c of RETRY_ON) {
        const d = levenshtein(part, c);
        if (d < bestD) {
          best = c;
          bestD = d;
        }
      }
      rep.warn('unknown_retry_on', child(n.path, 'retry_on'), `"${part}" is not a retry_on condition Envoy knows: it never triggers a retry`, {
        suggestion: best && bestD <= 3 ? `did you mean "${best}"?` : `known conditions: ${[...RETRY_ON].join(', ')}`,
      });
    }
  }
}
