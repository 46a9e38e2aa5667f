// GET /config_dump: the running config as Envoy's envoy.admin.v3.ConfigDump, in proto3 JSON
// (durations as "1.500s", 64-bit integers as strings): the bootstrap, the static clusters, the
// static listeners, the route configurations inlined in connection managers, the static secrets.
// Like Envoy (MessageUtil::redact) every field marked `(udpa.annotations.sensitive)` in Envoy's
// protos — TLS private keys, passwords, PKCS#12, session ticket keys, generic secrets — and
// everything inside it is redacted: text and bytes become "[redacted]" (bytes as its base64),
// other values are dropped. Redaction follows the protos through typed_config (Any), so it holds
// wherever a sensitive message is nested. Untyped subtrees (Struct, or a type newer than the
// shipped protos) are redacted by key name as well, which Envoy cannot do.

import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { checkRe2 } from '../../config/regex';
import { findType, lookupTypeUrl, TYPED_STRUCT_NAMES, typeName, wrappedScalar } from '../../config/protos';
import { fieldFor } from '../../config/validate';
import type { Engine } from '../../server';
import type { AdminRoute } from '../routes';
import { json, text } from './reply';

export const REDACTED = '[redacted]';
const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');
const SENSITIVE_OPTION = '(udpa.annotations.sensitive)';
/**
 * Fields Envoy does not mark sensitive that can hold secrets: an inline local_jwks may carry HS256
 * keys (kty "oct"), so the whole key set is redacted (public keys with it).
 */
const ALSO_SENSITIVE = new Set(['envoy.extensions.filters.http.jwt_authn.v3.JwtProvider.local_jwks']);
/** Keys redacted wherever the protos cannot say (untyped subtrees). */
const SENSITIVE_KEYS = new Set(['private_key', 'password', 'pkcs12', 'secret', 'keys', 'client_secret', 'token', 'hmac_secret', 'api_key']);

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const DROP = Symbol('drop');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Milliseconds → proto3 JSON Duration ("5s", "0.250s", "1.000500s"). */
export function durationJson(ms: number): string {
  const ns = Math.round(ms * 1e6);
  const sign = ns < 0 ? '-' : '';
  const abs = Math.abs(ns);
  const secs = Math.floor(abs / 1e9);
  const frac = abs % 1e9;
  if (frac === 0) return `${sign}${secs}s`;
  const digits = frac % 1e6 === 0 ? 3 : frac % 1e3 === 0 ? 6 : 9;
  return `${sign}${secs}.${String(frac).padStart(9, '0').slice(0, digits)}s`;
}

/** Everything under a sensitive field: strings redacted, other leaves dropped (MessageUtil::redactAll). */
function redactAll(v: unknown): unknown {
  if (typeof v === 'string') return REDACTED;
  if (Array.isArray(v)) return v.map(redactAll).filter((x) => x !== DROP);
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '@type') out[k] = x;
      else {
        const r = redactAll(x);
        if (r !== DROP) out[k] = r;
      }
    }
    return out;
  }
  return DROP;
}

/** A subtree the protos do not describe: copied, with sensitive-looking keys redacted. */
function untyped(v: unknown, sensitive: boolean): unknown {
  if (sensitive) return redactAll(v);
  if (Array.isArray(v)) return v.map((x) => untyped(x, false));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = SENSITIVE_KEYS.has(k) ? redactAll(x) : untyped(x, false);
      if (r !== DROP) out[k] = r;
    }
    return out;
  }
  return v;
}

function scalar(kind: string, v: unknown, sensitive: boolean): unknown {
  if (sensitive) {
    if (kind === 'string') return REDACTED;
    if (kind === 'bytes') return REDACTED_BYTES;
    return DROP;
  }
  if (INT64.has(kind) && typeof v === 'number') return String(v);
  return v;
}

function message(type: Type, v: unknown, sensitive: boolean): unknown {
  if (!isObject(v)) return untyped(v, sensitive);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '@type') {
      out[k] = x;
      continue;
    }
    const field = fieldFor(type, k);
    if (field && isProto3Default(field, x)) continue;
    const r = field
      ? fieldValue(field, x, sensitive || field.options?.[SENSITIVE_OPTION] === true || ALSO_SENSITIVE.has(`${typeName(type)}.${field.name}`))
      : untyped(SENSITIVE_KEYS.has(k) ? redactAll(x) : x, sensitive);
    if (r !== DROP) out[k] = r;
  }
  return out;
}

/**
 * proto3 JSON leaves out a scalar or enum field holding its default (0, false, "", the enum's
 * zero value) unless it has presence (a oneof member, or `optional`).
 */
function isProto3Default(field: Field, v: unknown): boolean {
  if (field.repeated || field.map || field.partOf) return false;
  field.resolve();
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return false;
  if (rt instanceof protobuf.Enum) return v === 0 || (typeof v === 'string' && rt.values[v] === 0);
  return v === 0 || v === false || v === '' || v === '0';
}

function fieldValue(field: Field, v: unknown, sensitive: boolean): unknown {
  field.resolve();
  const one = (x: unknown) => single(field, x, sensitive);
  if (field.map) {
    if (!isObject(v)) return untyped(v, sensitive);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = one(x);
      if (r !== DROP) out[k] = r;
    }
    return out;
  }
  if (field.repeated && Array.isArray(v)) return v.map(one).filter((x) => x !== DROP);
  return one(v);
}

function single(field: Field, v: unknown, sensitive: boolean): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) return sensitive ? DROP : v;
  if (!(rt instanceof protobuf.Type)) return scalar(field.type, v, sensitive);
  return typedValue(rt, v, sensitive);
}

function typedValue(rt: Type, v: unknown, sensitive: boolean): unknown {
  const name = typeName(rt);
  const wrapped = wrappedScalar(name);
  if (wrapped) return scalar(wrapped, isObject(v) && 'value' in v ? v.value : v, sensitive);
  switch (name) {
    case 'google.protobuf.Duration':
      if (sensitive) return DROP;
      return typeof v === 'number' ? durationJson(v) : v;
    case 'google.protobuf.Timestamp':
      return sensitive ? DROP : v;
    case 'google.protobuf.Struct':
    case 'google.protobuf.Value':
    case 'google.protobuf.ListValue':
      return untyped(v, sensitive);
    case 'google.protobuf.Any':
      return anyValue(v, sensitive);
    default:
      return message(rt, v, sensitive);
  }
}

/** An Any is reified by its "@type" (the normalized config has already unwrapped TypedStructs). */
function anyValue(v: unknown, sensitive: boolean): unknown {
  if (!isObject(v) || typeof v['@type'] !== 'string') return untyped(v, sensitive);
  const found = lookupTypeUrl(v['@type']);
  if (!found || TYPED_STRUCT_NAMES.has(found.name) || found.name.startsWith('google.protobuf.')) return untyped(v, sensitive);
  return message(found.type, v, sensitive);
}

/** `value` (normalized Envoy config of message `typeFullName`) as proto3 JSON, redacted as Envoy does. */
export function redactMessage(typeFullName: string, value: unknown): unknown {
  const t = findType(typeFullName);
  const r = t ? message(t, value, false) : untyped(value, false);
  return r === DROP ? {} : r;
}

const TYPE = 'type.googleapis.com/';

interface Resource {
  /** ConfigDump field, e.g. static_clusters. */
  field: string;
  /** The resource's name (for ?name_regex). */
  name: string;
  /** One element of that repeated field. */
  entry: Record<string, unknown>;
  /** The @type of that element, for ?resource= (e.g. envoy.admin.v3.ClustersConfigDump.StaticCluster). */
  entryType: string;
}

interface Section {
  type: string;
  resources: Resource[];
  extra?: Record<string, unknown>;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The ConfigDump sections, in Envoy's order, from the normalized bootstrap. */
function sections(normalized: unknown, lastUpdated: string, includeEds: boolean): Section[] {
  const boot = isObject(normalized) ? normalized : {};
  const sr = isObject(boot.static_resources) ? boot.static_resources : {};
  const clusters = arr(sr.clusters);
  const listeners = arr(sr.listeners);
  const routeConfigs: unknown[] = [];
  for (const l of listeners) {
    if (!isObject(l)) continue;
    for (const chain of arr(l.filter_chains)) {
      if (!isObject(chain)) continue;
      for (const f of arr(chain.filters)) {
        const tc = isObject(f) ? f.typed_config : undefined;
        if (isObject(tc) && isObject(tc.route_config)) routeConfigs.push(tc.route_config);
      }
    }
  }
  const out: Section[] = [
    {
      type: 'envoy.admin.v3.BootstrapConfigDump',
      resources: [],
      extra: { bootstrap: redactMessage('envoy.config.bootstrap.v3.Bootstrap', boot), last_updated: lastUpdated },
    },
    {
      type: 'envoy.admin.v3.ClustersConfigDump',
      resources: clusters.map((c) => ({
        field: 'static_clusters',
        name: str(isObject(c) ? c.name : ''),
        entryType: 'envoy.admin.v3.ClustersConfigDump.StaticCluster',
        entry: { cluster: { '@type': `${TYPE}envoy.config.cluster.v3.Cluster`, ...(redactMessage('envoy.config.cluster.v3.Cluster', c) as object) }, last_updated: lastUpdated },
      })),
    },
  ];
  if (includeEds) {
    out.push({
      type: 'envoy.admin.v3.EndpointsConfigDump',
      resources: clusters
        .filter((c) => isObject(c) && isObject(c.load_assignment))
        .map((c) => {
          const la = (c as Record<string, unknown>).load_assignment;
          return {
            field: 'static_endpoint_configs',
            name: str(isObject(la) ? la.cluster_name : ''),
            entryType: 'envoy.admin.v3.EndpointsConfigDump.StaticEndpointConfig',
            entry: { endpoint_config: { '@type': `${TYPE}envoy.config.endpoint.v3.ClusterLoadAssignment`, ...(redactMessage('envoy.config.endpoint.v3.ClusterLoadAssignment', la) as object) }, last_updated: lastUpdated },
          };
        }),
    });
  }
  out.push(
    {
      type: 'envoy.admin.v3.ListenersConfigDump',
      resources: listeners.map((l) => ({
        field: 'static_listeners',
        name: str(isObject(l) ? l.name : ''),
        entryType: 'envoy.admin.v3.ListenersConfigDump.StaticListener',
        entry: { listener: { '@type': `${TYPE}envoy.config.listener.v3.Listener`, ...(redactMessage('envoy.config.listener.v3.Listener', l) as object) }, last_updated: lastUpdated },
      })),
    },
    { type: 'envoy.admin.v3.ScopedRoutesConfigDump', resources: [] },
    {
      type: 'envoy.admin.v3.RoutesConfigDump',
      resources: routeConfigs.map((r) => ({
        field: 'static_route_configs',
        name: str(isObject(r) ? r.name : ''),
        entryType: 'envoy.admin.v3.RoutesConfigDump.StaticRouteConfig',
        entry: { route_config: { '@type': `${TYPE}envoy.config.route.v3.RouteConfiguration`, ...(redactMessage('envoy.config.route.v3.RouteConfiguration', r) as object) }, last_updated: lastUpdated },
      })),
    },
    {
      type: 'envoy.admin.v3.SecretsConfigDump',
      resources: arr(sr.secrets).map((s) => ({
        field: 'static_secrets',
        name: str(isObject(s) ? s.name : ''),
        entryType: 'envoy.admin.v3.SecretsConfigDump.StaticSecret',
        entry: {
          name: str(isObject(s) ? s.name : ''),
          last_updated: lastUpdated,
          secret: { '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.Secret`, ...(redactMessage('envoy.extensions.transport_sockets.tls.v3.Secret', s) as object) },
        },
      })),
    },
  );
  return out;
}

export interface ConfigDumpQuery {
  resource?: string;
  nameRegex?: RegExp;
  includeEds?: boolean;
}

/** envoy.admin.v3.ConfigDump of `normalized`, redacted. */
export function configDump(normalized: unknown, lastUpdated: string, q: ConfigDumpQuery = {}): { configs: unknown[] } {
  const all = sections(normalized, lastUpdated, q.includeEds ?? false);
  const named = (r: Resource) => !q.nameRegex || q.nameRegex.test(r.name);
  if (q.resource) {
    const configs: unknown[] = [];
    for (const s of all) for (const r of s.resources) if (r.field === q.resource && named(r)) configs.push({ '@type': TYPE + r.entryType, ...r.entry });
    return { configs };
  }
  return {
    configs: all.map((s) => {
      const o: Record<string, unknown> = { '@type': TYPE + s.type, ...(s.extra ?? {}) };
      for (const r of s.resources) {
        if (!named(r)) continue;
        ((o[r.field] ??= []) as unknown[]).push(r.entry);
      }
      return o;
    }),
  };
}

const RESOURCES = new Set(['static_clusters', 'static_listeners', 'static_route_configs', 'static_secrets', 'static_endpoint_configs']);

export function configDumpRoutes(): Array<[string, AdminRoute]> {
  return [
    [
      '/config_dump',
      {
        method: 'GET',
        help: 'dump current Envoy configs (experimental)',
        handle: ({ engine, res, url }) => {
          const q = url.searchParams;
          if (q.has('mask')) return text(res, 'config_dump: ?mask= is not supported by Meshdeck\n', 400);
          const resource = q.get('resource') ?? undefined;
          if (resource && !RESOURCES.has(resource)) return text(res, `${resource} is not a repeated field in any of the config dumps Meshdeck serves\n`, 400);
          let nameRegex: RegExp | undefined;
          const nr = q.get('name_regex');
          if (nr) {
            const c = checkRe2(nr);
            if (!c.ok) return text(res, `Error while parsing name_regex: ${c.message}\n`, 400);
            nameRegex = new RegExp(c.source, c.flags);
          }
          const snap = engine.snapshot;
          json(res, configDump(snap?.normalized, lastUpdatedOf(engine), { resource, nameRegex, includeEds: q.has('include_eds') }));
        },
      },
    ],
  ];
}

function lastUpdatedOf(engine: Engine): string {
  return new Date(engine.snapshot?.createdAtMs ?? Date.now()).toISOString();
}
