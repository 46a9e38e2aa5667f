// Walks a parsed config against Envoy's own message definitions (engine/config/protos.ts) and
// produces (1) every problem, located, and (2) the normalized config: snake_case field names,
// enums as their canonical names, durations in milliseconds, wrappers as plain values, typed
// configs validated against their "@type" and kept with it. Nothing stops at the first problem.

import protobuf from 'protobufjs';
import type { Enum, Field, Type } from 'protobufjs';
import { parseDuration } from './durations';
import { extensionNames } from './extension-names';
import { allTypes, getEnvoyRoot, isKnownPackage, lookupTypeUrl, TYPED_STRUCT_NAMES, typeName, typeNameFromUrl, typeUrlOf, wrappedScalar } from './protos';
import { NEWER_FIELDS } from './newer';
import { DEPRECATED_FIELDS, deprecationHintFromComment, lookupReplacement, REMOVED_FIELDS } from './removed';
import { child, entry, index, type Reporter } from './report';
import { checkCount, checkDuration, checkNumber, checkString, fieldRules, oneofRequired, type Rules, type Violation } from './rules';
import type { Seg } from './source';
import { nearest, toSnake } from './suggest';

/** A message found in the config: its type, Envoy-style path and normalized value. */
export interface TypedNode {
  type: string;
  path: string;
  value: Record<string, unknown>;
}

export interface Validated {
  /** The normalized config (undefined when the root is not an object). */
  value: Record<string, unknown> | undefined;
  /** Every message visited, in document order (typed configs included). */
  nodes: TypedNode[];
  /** Normalized message object → its type. */
  typeOf: WeakMap<object, Type>;
  /** Normalized message object → its path. */
  pathOf: WeakMap<object, string>;
}

export interface ValidateOptions {
  /** The text had syntax errors: skip "missing field" checks, which a truncated document would trip everywhere. */
  partial?: boolean;
}

export const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

/** Validate a whole config (an Envoy Bootstrap). */
export function validateBootstrap(raw: unknown, rep: Reporter, opts: ValidateOptions = {}): Validated {
  return validateAs(BOOTSTRAP, raw, rep, opts);
}

/** Validate `raw` as the message `messageName` (full name, no leading dot). */
export function validateAs(messageName: string, raw: unknown, rep: Reporter, opts: ValidateOptions = {}, path = '', segs: Seg[] = []): Validated {
  const type = getEnvoyRoot().lookupType(messageName);
  const w = new Walker(rep, opts);
  rep.bind(path, segs);
  const value = w.message(type, raw, path, segs);
  return { value, nodes: w.nodes, typeOf: w.typeOf, pathOf: w.pathOf };
}


const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** Rule group of PGV that applies to a scalar kind. */
const RULE_KIND: Record<string, string> = {
  double: 'double',
  float: 'float',
  int32: 'int32',
  int64: 'int64',
  uint32: 'uint32',
  uint64: 'uint64',
  sint32: 'sint32',
  sint64: 'sint64',
  fixed32: 'fixed32',
  fixed64: 'fixed64',
  sfixed32: 'sfixed32',
  sfixed64: 'sfixed64',
  string: 'string',
  bytes: 'bytes',
  bool: 'bool',
};

/** Extension names Envoy dropped, still found in old configs. */
const LEGACY_EXTENSION_NAMES: Record<string, string> = {
  'envoy.router': 'envoy.filters.http.router',
  'envoy.http_connection_manager': 'envoy.filters.network.http_connection_manager',
  'envoy.tcp_proxy': 'envoy.filters.network.tcp_proxy',
  'envoy.cors': 'envoy.filters.http.cors',
  'envoy.fault': 'envoy.filters.http.fault',
  'envoy.lua': 'envoy.filters.http.lua',
  'envoy.gzip': 'envoy.filters.http.compressor',
  'envoy.health_check': 'envoy.filters.http.health_check',
  'envoy.ext_authz': 'envoy.filters.http.ext_authz',
  'envoy.rate_limit': 'envoy.filters.http.ratelimit',
  'envoy.buffer': 'envoy.filters.http.buffer',
  'envoy.grpc_web': 'envoy.filters.http.grpc_web',
  'envoy.file_access_log': 'envoy.access_loggers.file',
  'envoy.listener.tls_inspector': 'envoy.filters.listener.tls_inspector',
  'envoy.listener.original_dst': 'envoy.filters.listener.original_dst',
  'envoy.transport_sockets.tls': 'envoy.transport_sockets.tls',
  tls: 'envoy.transport_sockets.tls',
  raw_buffer: 'envoy.transport_sockets.raw_buffer',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v;
}

const jsonNameCache = new WeakMap<Type, Map<string, Field>>();

/** The field a key names: the proto name, or its protobuf JSON (lowerCamelCase) name. */
export function fieldFor(type: Type, key: string): Field | undefined {
  const direct = type.fields[key];
  if (direct) return direct;
  let m = jsonNameCache.get(type);
  if (!m) {
    m = new Map();
    for (const f of type.fieldsArray) {
      const jn = typeof f.options?.json_name === 'string' ? (f.options.json_name as string) : jsonName(f.name);
      m.set(jn, f);
    }
    jsonNameCache.set(type, m);
  }
  return m.get(key);
}

export function jsonName(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

let allTypeNames: string[] | undefined;

class Walker {
  readonly nodes: TypedNode[] = [];
  readonly typeOf = new WeakMap<object, Type>();
  readonly pathOf = new WeakMap<object, string>();

  constructor(
    private readonly rep: Reporter,
    private readonly opts: ValidateOptions,
  ) {}

  // ------------------------------------------------------------------ messages

  message(type: Type, raw: unknown, path: string, segs: Seg[], init?: Record<string, unknown>): Record<string, unknown> | undefined {
    if (!isObject(raw)) {
      const fields = type.fieldsArray.filter((f) => f.options?.deprecated !== true).map((f) => f.name);
      this.rep.error('invalid_type', path, `expected ${typeName(type)} (an object), got ${describe(raw)}`, {
        suggestion: fields.length > 0 && fields.length <= 8 ? `write an object with ${fields.length === 1 ? 'the field' : 'any of the fields'} ${fields.join(', ')}` : undefined,
      });
      return undefined;
    }
    const out: Record<string, unknown> = init ? { ...init } : {};
    const oneofSet = new Map<string, string>();
    const seen = new Map<string, string>();
    let hasNewer = false;
    if (type.options?.deprecated === true && path) {
      this.rep.warn('deprecated_field', path, `${typeName(type)} is deprecated`, { at: 'key' });
    }
    for (const [key, value] of Object.entries(raw)) {
      const field = fieldFor(type, key);
      if (!field) {
        if (this.unknownField(type, key, path, segs)) {
          hasNewer = true;
          if (value !== null && value !== undefined) Object.defineProperty(out, toSnake(key), { value, enumerable: true, writable: true, configurable: true });
        }
        continue;
      }
      const fpath = child(path, field.name);
      const fsegs = [...segs, key];
      this.rep.bind(fpath, fsegs);
      const earlier = seen.get(field.name);
      if (earlier !== undefined) {
        this.rep.error('duplicate_field', fpath, `"${key}" and "${earlier}" both set ${field.name}`, { at: 'key', segs: fsegs, suggestion: 'keep only one of them' });
        continue;
      }
      seen.set(field.name, key);
      if (value === null && field.type !== 'google.protobuf.Value' && !field.repeated) continue; // null means unset, as in protobuf JSON
      const oneof = field.partOf;
      if (oneof && !oneof.name.startsWith('_')) {
        const other = oneofSet.get(oneof.name);
        if (other !== undefined) {
          this.rep.error('oneof_conflict', fpath, `${other} and ${field.name} are both set, but only one of them may be (oneof ${oneof.name})`, {
            at: 'key',
            suggestion: `remove ${field.name} or ${other}`,
          });
          continue;
        }
        oneofSet.set(oneof.name, field.name);
      }
      this.deprecation(type, field, fpath);
      const v = this.fieldValue(field, value, fpath, fsegs);
      if (v !== undefined) out[field.name] = v;
    }
    this.nameOnlyExtension(type, out, path);
    if (!this.opts.partial && !hasNewer) this.presence(type, out, path, oneofSet);
    this.typeOf.set(out, type);
    this.pathOf.set(out, path);
    this.nodes.push({ type: typeName(type), path, value: out });
    return out;
  }

  /** Reports a key that is not a field of `type`; true when it is a known field of a newer Envoy (kept, not checked). */
  private unknownField(type: Type, key: string, path: string, segs: Seg[]): boolean {
    const snake = toSnake(key);
    const tname = typeName(type);
    const fpath = child(path, NEWER_FIELDS.has(`${tname}.${snake}`) ? snake : key);
    this.rep.bind(fpath, [...segs, key]);
    if (NEWER_FIELDS.has(`${tname}.${snake}`)) {
      this.rep.warn('field_not_shipped', fpath, `${snake} is newer than the Envoy API protos shipped with Meshdeck: its value is not checked`, { at: 'key' });
      return true;
    }
    const reserved = (type.reserved ?? []).filter((r): r is string => typeof r === 'string');
    const removed = lookupReplacement(REMOVED_FIELDS, tname, snake);
    if (reserved.includes(key) || reserved.includes(snake) || REMOVED_FIELDS[`${tname}.${snake}`]) {
      this.rep.error('removed_field', fpath, `${key} was removed from ${tname} in Envoy's v3 API`, {
        at: 'key',
        suggestion: removed ?? 'see the field list of this message in the v3 API reference',
      });
      return false;
    }
    const names = type.fieldsArray.map((f) => f.name);
    const guess = nearest(snake, names);
    if (guess) {
      this.rep.error('unknown_field', fpath, `unknown field "${key}" in ${tname}`, { at: 'key', suggestion: `did you mean "${guess}"?` });
      return false;
    }
    const deeper = findDeeper(type, snake);
    this.rep.error('unknown_field', fpath, `unknown field "${key}" in ${tname}`, {
      at: 'key',
      suggestion: deeper ? `${snake} belongs under ${deeper}` : undefined,
    });
    return false;
  }

  private deprecation(type: Type, field: Field, fpath: string): void {
    if (field.options?.deprecated !== true) return;
    const tname = typeName(type);
    const hint = lookupReplacement(DEPRECATED_FIELDS, tname, field.name) ?? deprecationHintFromComment(field.comment);
    const since = field.options['(envoy.annotations.deprecated_at_minor_version)'];
    if (field.options['(envoy.annotations.disallowed_by_default)'] === true) {
      this.rep.error('deprecated_disallowed', fpath, `${field.name} is deprecated and Envoy rejects it by default`, { at: 'key', suggestion: hint });
      return;
    }
    this.rep.warn('deprecated_field', fpath, `${field.name} is deprecated${typeof since === 'string' ? ` (since API v${since})` : ''}`, {
      at: 'key',
      suggestion: hint,
    });
  }

  /** Extensions given by name only (no typed_config): Envoy builds an empty config of that extension's type and validates it. */
  private nameOnlyExtension(type: Type, out: Record<string, unknown>, path: string): void {
    const tc = type.fields.typed_config;
    if (!type.fields.name || !tc || tc.type !== 'google.protobuf.Any') return;
    if (out.config_discovery !== undefined) return;
    const given = out.typed_config;
    if (isObject(given) && given['@type'] !== undefined) return;
    const name = out.name;
    if (typeof name !== 'string' || name === '') return;
    const idx = extensionNames();
    const configType = idx.byName.get(name);
    if (configType) {
      if (!this.opts.partial) {
        const t = getEnvoyRoot().lookupType(configType);
        this.presence(t, {}, child(path, 'typed_config'), new Map());
      }
      return;
    }
    if (out.is_optional === true) return;
    const legacy = LEGACY_EXTENSION_NAMES[name];
    if (legacy && legacy !== name) {
      this.rep.error('unknown_extension', child(path, 'name'), `Envoy has no extension named "${name}" (an old name, removed in Envoy 1.14+)`, {
        suggestion: `use name: ${legacy}, or add a typed_config with "@type"`,
      });
      return;
    }
    const guess = nearest(name, idx.byName.keys());
    if (guess) {
      this.rep.error('unknown_extension', child(path, 'name'), `Envoy has no extension named "${name}"`, { suggestion: `did you mean "${guess}"?` });
      return;
    }
    this.rep.warn('unknown_extension', child(path, 'name'), `"${name}" is not an extension of the Envoy API shipped with Meshdeck, and has no typed_config to say what it is`, {
      suggestion: 'add a typed_config with "@type" naming its config message',
    });
  }

  /** Fields that must be set (PGV required, or a default value that breaks a rule) and required oneofs. */
  private presence(type: Type, out: Record<string, unknown>, path: string, oneofSet: Map<string, string>): void {
    for (const field of type.fieldsArray) {
      if (out[field.name] !== undefined) continue;
      if (field.partOf) continue;
      if (field.options?.deprecated === true) continue;
      const r = fieldRules(field);
      if (!r) continue;
      const fpath = child(path, field.name);
      const missing = (detail?: string) =>
        this.rep.error('missing_field', fpath, `missing required field "${field.name}"${detail ? ` (${detail})` : ''} in ${typeName(type)}`, { at: 'key' });
      if (r.message?.required === true || r.duration?.required === true || r.any?.required === true || r.timestamp?.required === true) {
        missing();
        continue;
      }
      if (field.map) {
        const v = checkCount(r.map, 0, 'entry');
        if (v.length) missing(v[0].message);
        continue;
      }
      if (field.repeated) {
        const v = checkCount(r.repeated, 0, 'item');
        if (v.length) missing(v[0].message);
        continue;
      }
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Type) continue; // absent messages are fine unless required
      let v: Violation[] = [];
      if (rt instanceof protobuf.Enum) v = this.enumRuleViolations(rt, r.enum, 0);
      else if (field.type === 'string') v = checkString(r.string, '');
      else if (field.type === 'bytes') v = checkString(r.bytes, '');
      else if (field.type !== 'bool' && RULE_KIND[field.type]) v = checkNumber(r[RULE_KIND[field.type]], 0);
      if (v.length) missing(v[0].message);
    }
    for (const oneof of type.oneofsArray) {
      if (oneof.name.startsWith('_') || oneofSet.has(oneof.name) || !oneofRequired(oneof)) continue;
      if (oneof.fieldsArray.some((f) => out[f.name] !== undefined)) continue;
      const names = oneof.fieldsArray.filter((f) => f.options?.deprecated !== true).map((f) => f.name);
      this.rep.error('missing_oneof', path, `${typeName(type)} needs one of: ${names.join(', ')}`, { at: 'key' });
    }
  }

  // ------------------------------------------------------------------ fields

  private fieldValue(field: Field, raw: unknown, path: string, segs: Seg[]): unknown {
    const r = fieldRules(field);
    if (field.map) {
      if (!isObject(raw)) {
        this.rep.error('invalid_type', path, `expected a map (an object of key: value) for ${field.name}, got ${describe(raw)}`);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) {
        const epath = entry(path, k);
        const esegs = [...segs, k];
        this.rep.bind(epath, esegs);
        const keyType = (field as unknown as { keyType?: string }).keyType ?? 'string';
        if (keyType !== 'string' && keyType !== 'bool' && !/^-?\d+$/.test(k)) {
          this.rep.error('invalid_type', epath, `map key "${k}" must be an integer (${keyType})`, { at: 'key' });
          continue;
        }
        if (r?.map?.keys) this.violations(checkString((r.map.keys as Rules).string, k), epath, 'key');
        const nv = this.single(field, v, epath, esegs, r?.map?.values as Rules | undefined);
        if (nv !== undefined) Object.defineProperty(out, k, { value: nv, enumerable: true, writable: true, configurable: true });
      }
      this.violations(checkCount(r?.map, Object.keys(out).length, 'entry'), path);
      return out;
    }
    if (field.repeated) {
      let items: unknown[];
      let wrapped = false;
      if (Array.isArray(raw)) items = raw;
      else if (raw === null) items = [];
      else {
        items = [raw];
        wrapped = true;
        this.rep.warn('single_value_for_repeated', path, `${field.name} is a list, but a single value was given`, {
          suggestion: `write it as a list ("- ..." in YAML); Envoy happens to accept a single value`,
        });
      }
      const out: unknown[] = [];
      items.forEach((item, i) => {
        const ipath = index(path, i);
        const isegs = wrapped ? segs : [...segs, i];
        this.rep.bind(ipath, isegs);
        if (item === null) {
          this.rep.error('invalid_type', ipath, `list items of ${field.name} cannot be null`);
          return;
        }
        const v = this.single(field, item, ipath, isegs, r?.repeated?.items as Rules | undefined);
        if (v !== undefined) out.push(v);
      });
      this.violations(checkCount(r?.repeated, out.length, 'item'), path);
      if (r?.repeated?.unique === true) {
        const keys = out.map((v) => JSON.stringify(v));
        if (new Set(keys).size !== keys.length) this.rep.error('duplicate_items', path, `items of ${field.name} must be unique`);
      }
      return out;
    }
    if (Array.isArray(raw)) {
      const what = field.resolvedType ? typeName(field.resolvedType) : field.type;
      this.rep.error('invalid_type', path, `expected a single ${what}, got a list`, {
        suggestion: raw.length === 1 ? 'remove the "- ": this field takes one value, not a list' : undefined,
      });
      return undefined;
    }
    return this.single(field, raw, path, segs, r);
  }

  /** One value of a field (an item of a list, a map value, or the field itself). */
  private single(field: Field, raw: unknown, path: string, segs: Seg[], r: Rules | undefined): unknown {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) return this.enumValue(rt, raw, path, r?.enum);
    if (rt instanceof protobuf.Type) return this.messageValue(rt, raw, path, segs, r);
    return this.scalar(field.type, raw, path, r?.[RULE_KIND[field.type]]);
  }

  private messageValue(type: Type, raw: unknown, path: string, segs: Seg[], r: Rules | undefined): unknown {
    const full = type.fullName;
    const wrapped = wrappedScalar(full);
    if (wrapped) {
      const inner = isObject(raw) && Object.keys(raw).length === 1 && 'value' in raw ? raw.value : raw;
      return this.scalar(wrapped, inner, path, r?.[RULE_KIND[wrapped]]);
    }
    switch (full) {
      case '.google.protobuf.Duration': {
        const d = parseDuration(raw);
        if (!d.ok) {
          this.rep.error('invalid_duration', path, d.message, { suggestion: d.suggestion });
          return undefined;
        }
        this.violations(checkDuration(r?.duration, d.ms), path);
        return d.ms;
      }
      case '.google.protobuf.Timestamp':
        if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) {
          this.rep.error('invalid_type', path, `expected an RFC 3339 timestamp such as "2024-01-01T00:00:00Z", got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case '.google.protobuf.Any':
        return this.anyValue(raw, path, segs, r?.any);
      case '.google.protobuf.Struct':
        if (!isObject(raw)) {
          this.rep.error('invalid_type', path, `expected an object, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case '.google.protobuf.ListValue':
        if (!Array.isArray(raw)) {
          this.rep.error('invalid_type', path, `expected a list, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case '.google.protobuf.Value':
        return raw;
      case '.google.protobuf.FieldMask':
        if (typeof raw !== 'string') {
          this.rep.error('invalid_type', path, `expected a comma-separated field mask string, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case '.google.protobuf.Empty':
        if (!isObject(raw)) {
          this.rep.error('invalid_type', path, `expected {}, got ${describe(raw)}`);
          return undefined;
        }
        for (const k of Object.keys(raw)) this.unknownField(type, k, path, segs);
        return {};
      default:
        return this.message(type, raw, path, segs);
    }
  }

  /** google.protobuf.Any: {"@type": URL, ...fields of that message}, or a TypedStruct {type_url, value}. */
  private anyValue(raw: unknown, path: string, segs: Seg[], r: Record<string, unknown> | undefined): unknown {
    if (!isObject(raw)) {
      this.rep.error('invalid_type', path, `expected a typed config (an object with "@type"), got ${describe(raw)}`);
      return undefined;
    }
    const url = raw['@type'];
    if (url === undefined) {
      if (Object.keys(raw).length === 0) return {}; // an empty Any: the extension is chosen by name
      this.rep.error('missing_type_url', path, 'typed config without "@type": Envoy cannot tell which message it is', {
        at: 'key',
        suggestion: 'add "@type": type.googleapis.com/<full message name>, e.g. type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
      });
      return undefined;
    }
    const tpath = child(path, '@type');
    this.rep.bind(tpath, [...segs, '@type']);
    if (typeof url !== 'string') {
      this.rep.error('invalid_type', tpath, `"@type" must be a string, got ${describe(url)}`);
      return undefined;
    }
    const found = lookupTypeUrl(url);
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) if (k !== '@type') rest[k] = v;
    if (!found) return this.unknownTypeUrl(url, tpath, raw);
    if (found.legacyName) {
      this.rep.warn('legacy_type_url', tpath, `"${url}" is an older API name of ${found.name}`, { suggestion: `use "@type": ${found.canonicalUrl}` });
    }
    const allowed = r?.in;
    if (Array.isArray(allowed) && allowed.length > 0 && !allowed.map((u) => typeNameFromUrl(String(u))).includes(found.name)) {
      this.rep.error('invalid_value', tpath, `"@type" must be one of ${allowed.join(', ')}`);
    }
    if (TYPED_STRUCT_NAMES.has(found.name)) return this.typedStruct(rest, path, segs);
    if (found.type.fullName.startsWith('.google.protobuf.')) return raw; // a well-known type packed in an Any: {"@type", "value"}
    return this.message(found.type, rest, path, segs, { '@type': found.canonicalUrl });
  }

  private unknownTypeUrl(url: string, tpath: string, raw: Record<string, unknown>): unknown {
    const name = typeNameFromUrl(url);
    if (!url.includes('/')) {
      this.rep.error('unknown_type_url', tpath, `"${url}" is not a type URL`, { suggestion: `write "@type": type.googleapis.com/${name}` });
      return { ...raw };
    }
    allTypeNames ??= [...allTypes(getEnvoyRoot())].map(typeName);
    const guess = nearest(name, allTypeNames);
    const pkg = (n: string) => n.slice(0, n.lastIndexOf('.'));
    const knownPackage = isKnownPackage(name);
    // A close name in the same package, or in another one when this package does not exist: a typo.
    // A name in a package that exists, with nothing close: most likely a message newer than the shipped protos.
    if (guess && (pkg(guess) === pkg(name) || !knownPackage)) {
      this.rep.error('unknown_type_url', tpath, `unknown type "${name}"`, { suggestion: `did you mean "${typeUrlOf(guess)}"?` });
    } else if (name.startsWith('envoy.') || knownPackage) {
      this.rep.warn('type_not_shipped', tpath, `${name} is not in the Envoy API protos shipped with Meshdeck (a newer Envoy?): its fields are not checked`);
    } else {
      this.rep.error('unknown_type_url', tpath, `unknown type "${name}": no such message in Envoy's API`);
    }
    return { ...raw };
  }

  private typedStruct(rest: Record<string, unknown>, path: string, segs: Seg[]): unknown {
    const innerUrl = rest.type_url;
    const upath = child(path, 'type_url');
    this.rep.bind(upath, [...segs, 'type_url']);
    if (typeof innerUrl !== 'string' || innerUrl === '') {
      this.rep.error('missing_field', upath, 'a TypedStruct needs type_url (the message its value holds)', { at: 'key' });
      return undefined;
    }
    const vpath = child(path, 'value');
    const vsegs = [...segs, 'value'];
    this.rep.bind(vpath, vsegs);
    const inner = lookupTypeUrl(innerUrl);
    if (!inner) return this.unknownTypeUrl(innerUrl, upath, { '@type': innerUrl, ...(isObject(rest.value) ? rest.value : {}) });
    const value = rest.value ?? {};
    return this.message(inner.type, value, vpath, vsegs, { '@type': inner.canonicalUrl });
  }

  // ------------------------------------------------------------------ enums and scalars

  private enumValue(e: Enum, raw: unknown, path: string, r: Record<string, unknown> | undefined): unknown {
    let name: string | undefined;
    let number: number | undefined;
    if (typeof raw === 'string') {
      const upper = raw.trim().toUpperCase();
      name = Object.keys(e.values).find((k) => k.toUpperCase() === upper);
      if (name === undefined && /^-?\d+$/.test(raw.trim())) number = Number(raw.trim());
      else if (name === undefined) {
        const names = Object.keys(e.values);
        const guess = nearest(raw, names, { ignoreCase: true, byWord: true, aliases: ENUM_ALIASES });
        this.rep.error('invalid_enum', path, `invalid value "${raw}"`, {
          suggestion: guess ? `did you mean "${guess}"?` : `use one of ${names.join(', ')}`,
        });
        return undefined;
      }
    } else if (typeof raw === 'number' && Number.isInteger(raw)) {
      number = raw;
    } else {
      this.rep.error('invalid_type', path, `expected one of ${Object.keys(e.values).join(', ')}, got ${describe(raw)}`);
      return undefined;
    }
    if (name === undefined && number !== undefined) {
      name = e.valuesById[number];
      if (name === undefined) {
        if (r?.defined_only === true) {
          this.rep.error('invalid_enum', path, `invalid value ${number}`, { suggestion: `use one of ${Object.keys(e.values).join(', ')}` });
          return undefined;
        }
        return number; // proto3 enums are open
      }
    }
    const n = e.values[name!];
    this.violations(this.enumRuleViolations(e, r, n), path);
    const vopts = e.valuesOptions?.[name!];
    if (vopts?.deprecated === true) {
      if (vopts['(envoy.annotations.disallowed_by_default_enum)'] === true) {
        this.rep.error('deprecated_disallowed', path, `${name} is deprecated and Envoy rejects it by default`, {
          suggestion: deprecationHintFromComment(e.comments?.[name!]),
        });
      } else {
        this.rep.warn('deprecated_value', path, `${name} is deprecated`, { suggestion: deprecationHintFromComment(e.comments?.[name!]) });
      }
    }
    return name;
  }

  private enumRuleViolations(e: Enum, r: Record<string, unknown> | undefined, n: number): Violation[] {
    if (!r) return [];
    const nameOf = (x: number) => e.valuesById[x] ?? String(x);
    const out = checkNumber({ const: r.const, in: r.in, not_in: r.not_in }, n, nameOf);
    if (r.defined_only === true && e.valuesById[n] === undefined) out.push({ code: 'invalid_enum', message: `${n} is not a defined value` });
    return out;
  }

  private scalar(kind: string, raw: unknown, path: string, r: Record<string, unknown> | undefined): unknown {
    switch (kind) {
      case 'string': {
        if (typeof raw !== 'string') {
          this.rep.error('invalid_type', path, `expected a string, got ${describe(raw)}`, {
            suggestion: typeof raw === 'number' || typeof raw === 'boolean' ? `quote it: "${raw}"` : undefined,
          });
          return undefined;
        }
        this.violations(checkString(r, raw), path);
        return raw;
      }
      case 'bytes': {
        if (typeof raw !== 'string' || !/^[A-Za-z0-9+/_\-\s]*={0,2}\s*$/.test(raw)) {
          this.rep.error('invalid_type', path, `expected base64-encoded bytes, got ${describe(raw)}`);
          return undefined;
        }
        this.violations(checkString(r, Buffer.from(raw, 'base64').toString('latin1')), path);
        return raw;
      }
      case 'bool':
        if (typeof raw !== 'boolean') {
          this.rep.error('invalid_type', path, `expected true or false, got ${describe(raw)}`, {
            suggestion: typeof raw === 'string' && /^(true|false)$/i.test(raw) ? `remove the quotes: ${raw.toLowerCase()}` : undefined,
          });
          return undefined;
        }
        if (r && r.const !== undefined && raw !== r.const) this.rep.error('invalid_value', path, `must be ${String(r.const)}`);
        return raw;
      case 'double':
      case 'float': {
        let v: number | undefined;
        if (typeof raw === 'number') v = raw;
        else if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw))) v = Number(raw);
        else if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') v = Number(raw);
        if (v === undefined) {
          this.rep.error('invalid_type', path, `expected a number, got ${describe(raw)}`);
          return undefined;
        }
        this.violations(checkNumber(r, v), path);
        return v;
      }
      default: {
        const range = INT_RANGES[kind];
        if (!range) return raw;
        let big: bigint | undefined;
        if (typeof raw === 'number' && Number.isInteger(raw)) big = BigInt(raw);
        else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) big = BigInt(raw.trim());
        if (big === undefined) {
          this.rep.error('invalid_type', path, `expected an integer (${kind}), got ${describe(raw)}`, {
            suggestion: typeof raw === 'number' ? `use a whole number, e.g. ${Math.round(raw)}` : undefined,
          });
          return undefined;
        }
        if (big < range[0] || big > range[1]) {
          this.rep.error('out_of_range', path, `${big} does not fit in ${kind} (${range[0]}..${range[1]})`);
          return undefined;
        }
        const v = Number.isSafeInteger(Number(big)) ? Number(big) : big.toString();
        this.violations(checkNumber(r, Number(big)), path);
        return v;
      }
    }
  }

  private violations(vs: Violation[], path: string, at: 'key' | 'value' = 'value'): void {
    for (const v of vs) this.rep.error(v.code, path, `${lastName(path)} ${v.message}`, { at });
  }
}

/** Confusions with other proxies' names, for enum suggestions. */
const ENUM_ALIASES: Record<string, string> = {
  LEAST_CONN: 'LEAST_REQUEST',
  LEAST_CONNECTIONS: 'LEAST_REQUEST',
  LEASTCONN: 'LEAST_REQUEST',
  RR: 'ROUND_ROBIN',
  WEIGHTED_ROUND_ROBIN: 'ROUND_ROBIN',
  CONSISTENT_HASH: 'RING_HASH',
  HASH: 'RING_HASH',
  DNS: 'STRICT_DNS',
  HTTP: 'HTTP1',
  HTTP11: 'HTTP1',
  HTTP_1_1: 'HTTP1',
};

function lastName(path: string): string {
  const m = /([^.[\]]+)(\[[^\]]*\])*$/.exec(path);
  return m ? m[1] : path;
}

/** Where a field name that is unknown here exists a few levels down (e.g. Cluster + lb_endpoints → load_assignment.endpoints[].lb_endpoints). */
function findDeeper(type: Type, name: string): string | undefined {
  const queue: { t: Type; path: string; depth: number }[] = [{ t: type, path: '', depth: 0 }];
  const visited = new Set<Type>([type]);
  while (queue.length) {
    const { t, path, depth } = queue.shift()!;
    for (const f of t.fieldsArray) {
      const rt = f.resolvedType;
      if (!(rt instanceof protobuf.Type) || rt.fullName.startsWith('.google.protobuf.')) continue;
      const p = `${path ? `${path}.` : ''}${f.name}${f.repeated ? '[]' : ''}`;
      if (rt.fields[name]) return `${p}`;
      if (depth < 2 && !visited.has(rt)) {
        visited.add(rt);
        queue.push({ t: rt, path: p, depth: depth + 1 });
      }
    }
  }
  return undefined;
}
