// Envoy's own .proto files are the schema of record (docs/ENGINE-CONFIG.md). This module loads
// them once into a protobufjs Root (the v3 API under envoy/config and envoy/extensions, as shipped
// in @grpc/grpc-js-xds, plus Meshdeck's own extension protos under ./proto) and answers "which
// message does this type URL name?", including the older names Envoy configs still carry.

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { Namespace, ReflectionObject, Root, Type } from 'protobufjs';

const require = createRequire(import.meta.url);

/** Where the protos come from; exported for the extension-name index and for diagnostics. */
export interface ProtoDirs {
  /** Root of Envoy's API protos (contains envoy/config, envoy/extensions). */
  envoyApi: string;
  /** Include roots searched in order for imports. */
  includes: string[];
  /** Meshdeck's own protos (contains meshdeck/...). */
  meshdeck: string;
  /** The .proto files loaded into the root, relative to their include root. */
  files: { root: string; file: string }[];
}

let dirsCache: ProtoDirs | undefined;

export function protoDirs(): ProtoDirs {
  if (dirsCache) return dirsCache;
  const xds = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const pbjs = dirname(require.resolve('protobufjs/package.json'));
  const deps = join(xds, 'deps');
  const envoyApi = join(deps, 'envoy-api');
  const meshdeck = fileURLToPath(new URL('./proto/', import.meta.url));
  const includes = [meshdeck, pbjs, envoyApi, join(deps, 'xds'), join(deps, 'googleapis'), join(deps, 'protoc-gen-validate')];
  const files: { root: string; file: string }[] = [];
  for (const sub of ['envoy/config', 'envoy/extensions']) {
    for (const f of listProtos(join(envoyApi, sub))) {
      const rel = relative(envoyApi, f);
      if (rel.split(/[\\/]/).some((seg) => seg === 'v3')) files.push({ root: envoyApi, file: rel });
    }
  }
  for (const f of listProtos(join(meshdeck, 'meshdeck'))) files.push({ root: meshdeck, file: relative(meshdeck, f) });
  // TypedStruct, which Envoy accepts in place of a packed Any.
  for (const file of ['udpa/type/v1/typed_struct.proto', 'xds/type/v3/typed_struct.proto']) {
    if (existsSync(join(deps, 'xds', file))) files.push({ root: join(deps, 'xds'), file });
  }
  dirsCache = { envoyApi, includes, meshdeck, files };
  return dirsCache;
}

function listProtos(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.proto')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

let rootCache: Root | undefined;

/** The protobufjs Root holding Envoy's v3 API and Meshdeck's extensions. Loaded lazily, once (~0.5 s). */
export function getEnvoyRoot(): Root {
  if (rootCache) return rootCache;
  const dirs = protoDirs();
  if (!existsSync(join(dirs.envoyApi, 'envoy', 'config', 'bootstrap', 'v3', 'bootstrap.proto'))) {
    throw new Error(`Envoy API protos not found under ${dirs.envoyApi} (is @grpc/grpc-js-xds installed?)`);
  }
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string | null => {
    for (const inc of dirs.includes) {
      const p = join(inc, target);
      if (existsSync(p)) return p;
    }
    return null; // a file not shipped (opencensus, opentelemetry): its types become opaque below
  };
  try {
    root.loadSync(dirs.files.map((f) => f.file), { keepCase: true, alternateCommentMode: true });
  } catch {
    // loadSync throws at its very end when some referenced types are missing; everything else is loaded.
  }
  repairUnresolved(root);
  root.resolveAll();
  rootCache = root;
  return root;
}

/** Fields whose type cannot be resolved: retry with protobuf's scoping rules, else make them opaque JSON. */
function repairUnresolved(root: Root): void {
  for (const type of allTypes(root)) {
    for (const field of type.fieldsArray) {
      try {
        field.resolve();
      } catch {
        const found = resolveLikeProtoc(type, field.type);
        field.type = found ?? 'google.protobuf.Value';
        field.resolvedType = null;
        field.resolved = false;
        try {
          field.resolve();
        } catch {
          field.type = 'google.protobuf.Value';
          field.resolve();
        }
      }
    }
  }
}

/** protoc resolves a relative name from the innermost scope outwards. */
function resolveLikeProtoc(scope: Type, name: string): string | undefined {
  const rootOf = scope.root;
  let ns: Namespace | null = scope.parent;
  while (ns) {
    const prefix = ns.fullName; // '' or '.a.b'
    const candidate = `${prefix}.${name}`;
    const hit = rootOf.lookup(candidate);
    if (hit && (hit instanceof protobuf.Type || hit instanceof protobuf.Enum)) return hit.fullName;
    ns = ns.parent;
  }
  return undefined;
}

/** Every message type under a namespace, depth first. */
export function* allTypes(ns: Namespace): Generator<Type> {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type) yield obj;
    if (obj instanceof protobuf.Namespace) yield* allTypes(obj);
  }
}

/** Full name without the leading dot, e.g. `envoy.config.cluster.v3.Cluster`. */
export function typeName(t: ReflectionObject): string {
  return t.fullName.replace(/^\./, '');
}

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** The message name a type URL points at: everything after the last '/', as Envoy reads it. */
export function typeNameFromUrl(url: string): string {
  const i = url.lastIndexOf('/');
  return (i >= 0 ? url.slice(i + 1) : url).trim();
}

export function typeUrlOf(t: Type | string): string {
  return TYPE_URL_PREFIX + (typeof t === 'string' ? t : typeName(t));
}

export function findType(name: string): Type | undefined {
  const root = getEnvoyRoot();
  try {
    const hit = root.lookup(name.startsWith('.') ? name : `.${name}`);
    return hit instanceof protobuf.Type ? hit : undefined;
  } catch {
    return undefined;
  }
}

let previousNames: Map<string, string> | undefined;

/** v2 / v2alpha / v3alpha message names → their v3 successor, from the protos' versioning annotations. */
function previousNameIndex(): Map<string, string> {
  if (previousNames) return previousNames;
  const m = new Map<string, string>();
  for (const t of allTypes(getEnvoyRoot())) {
    const prev = t.options?.['(udpa.annotations.versioning).previous_message_type'];
    if (typeof prev === 'string' && !m.has(prev)) m.set(prev, typeName(t));
  }
  previousNames = m;
  return m;
}

export interface TypeUrlLookup {
  type: Type;
  /** The v3 name, e.g. `envoy.extensions.filters.http.router.v3.Router`. */
  name: string;
  /** `type.googleapis.com/<name>` */
  canonicalUrl: string;
  /** Set when the URL used an older API version that Envoy maps to `name`. */
  legacyName?: string;
}

/**
 * The message a type URL names. Accepts any `host/` prefix (Envoy only reads the part after the
 * last '/'), and older API versions: v2 and v2alpha names recorded in the v3 protos'
 * `previous_message_type` annotations, and `v3alpha` package names.
 * TypedStruct wrappers (`udpa.type.v1.TypedStruct`, `xds.type.v3.TypedStruct`) are found like any
 * other type; unwrapping their `type_url` + `value` is the validator's job.
 */
export function lookupTypeUrl(url: string): TypeUrlLookup | undefined {
  const name = typeNameFromUrl(url);
  if (!name) return undefined;
  const direct = findType(name);
  if (direct) return { type: direct, name: typeName(direct), canonicalUrl: typeUrlOf(direct) };
  const candidates: string[] = [];
  const prev = previousNameIndex().get(name);
  if (prev) candidates.push(prev);
  if (name.includes('.v3alpha.')) candidates.push(name.replace('.v3alpha.', '.v3.'));
  for (const c of candidates) {
    const t = findType(c);
    if (t) return { type: t, name: typeName(t), canonicalUrl: typeUrlOf(t), legacyName: name };
  }
  return undefined;
}

/** TypedStruct message names Envoy accepts in place of a packed Any. */
export const TYPED_STRUCT_NAMES: ReadonlySet<string> = new Set(['udpa.type.v1.TypedStruct', 'xds.type.v3.TypedStruct']);

/** Is `name` in a package that exists in the shipped protos (e.g. a newer message of a known package)? */
export function isKnownPackage(name: string): boolean {
  const pkg = name.slice(0, Math.max(0, name.lastIndexOf('.')));
  if (!pkg) return false;
  try {
    const ns = getEnvoyRoot().lookup(`.${pkg}`);
    return ns instanceof protobuf.Namespace && !(ns instanceof protobuf.Type);
  } catch {
    return false;
  }
}

/** google.protobuf wrapper messages → the scalar they carry (JSON writes the bare value). */
const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

/** The scalar a wrapper type holds (`google.protobuf.UInt32Value` → `uint32`), with or without a leading dot. */
export function wrappedScalar(typeName: string): string | undefined {
  return WRAPPERS[typeName.charCodeAt(0) === 46 ? typeName.slice(1) : typeName];
}
