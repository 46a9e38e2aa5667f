// The console editor's JSON Schema (issue 5), generated from the same proto root the validator
// walks (config/protos.ts), so completion, hover docs and the engine's own checks cannot drift.
//
// One definition per message or enum reachable from the Bootstrap, referenced by `$ref`
// (recursive messages such as a route's nested matchers stay finite). A typed_config
// (google.protobuf.Any) offers the "@type" URLs of the extensions Meshdeck knows (registry.ts)
// and, once "@type" names one of them, that message's fields (`if`/`then`); any other "@type" is
// left to the engine's validator, which knows every Envoy message. Field comments become hover
// text, trimmed. The schema is deliberately lenient where the engine is precise: no
// `additionalProperties: false`, no required fields, no oneof rules — the engine reports those
// with Envoy's names and a suggestion, so the editor would only say the same thing worse.

import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import type { Enum, Field, Type } from 'protobufjs';
import { getEnvoyRoot, typeName, typeUrlOf, wrappedScalar } from './protos';
import { ACCESS_LOGGERS, HTTP_FILTERS, LB_POLICIES, NETWORK_FILTERS, PROTOCOL_OPTIONS, TRANSPORT_SOCKETS, type ExtensionRegistry } from './registry';
import { BOOTSTRAP } from './validate';

export type JsonSchema = { [key: string]: unknown };

/** Hover text longer than this is cut (Envoy's longest comments run to pages). */
const MAX_DESCRIPTION = 600;

const REGISTRIES: readonly ExtensionRegistry[] = [HTTP_FILTERS, NETWORK_FILTERS, ACCESS_LOGGERS, TRANSPORT_SOCKETS, LB_POLICIES, PROTOCOL_OPTIONS];

/** The message types a typed_config can name with completion: every extension the registries list, per-route configs included. */
export function knownAnyTypes(): string[] {
  const out = new Set<string>();
  for (const r of REGISTRIES) {
    for (const e of r.entries) {
      for (const t of e.types) out.add(t);
      for (const t of e.perRouteTypes ?? []) out.add(t);
    }
  }
  return [...out].sort();
}

const INT_KINDS = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const UNSIGNED = new Set(['uint32', 'uint64', 'fixed32', 'fixed64']);


/** Scalars as protobuf's JSON mapping (and Envoy's YAML loader) accepts them. */
function scalarSchema(kind: string): JsonSchema {
  if (INT_KINDS.has(kind)) {
    // 64-bit integers are strings in protobuf JSON; Envoy accepts either spelling for all of them.
    const s: JsonSchema = { type: ['integer', 'string'], pattern: UNSIGNED.has(kind) ? '^\\s*\\d+\\s*$' : '^\\s*-?\\d+\\s*$' };
    if (UNSIGNED.has(kind)) s.minimum = 0;
    return s;
  }
  switch (kind) {
    case 'double':
    case 'float':
      return { type: ['number', 'string'], pattern: '^\\s*(-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?|NaN|-?Infinity)\\s*$' };
    case 'bool':
      return { type: 'boolean' };
    case 'string':
    case 'bytes':
      return { type: 'string' };
    default:
      return {};
  }
}

const DURATION: JsonSchema = {
  type: ['string', 'object'],
  pattern: '^\\s*-?\\d+(\\.\\d{1,9})?s\\s*$',
  patternErrorMessage: 'a duration is seconds with an "s", e.g. "5s", "0.25s" or "1.5s"',
  properties: { seconds: scalarSchema('int64'), nanos: scalarSchema('int32') },
  description: 'A duration: seconds with an "s", e.g. "0.25s".',
  examples: ['1s', '0.25s'],
};

const WELL_KNOWN: Record<string, JsonSchema> = {
  'google.protobuf.Duration': DURATION,
  'google.protobuf.Timestamp': { type: 'string', description: 'An RFC 3339 timestamp, e.g. "2024-01-01T00:00:00Z".' },
  'google.protobuf.Struct': { type: 'object' },
  'google.protobuf.Value': {},
  'google.protobuf.ListValue': { type: 'array' },
  'google.protobuf.FieldMask': { type: 'string' },
  'google.protobuf.Empty': { type: 'object' },
};

/**
 * Envoy's proto comments are reStructuredText with doc-generator tags. Hover text wants plain
 * prose: tags dropped, `:ref:` links reduced to their text, literals unquoted, cut to a length.
 */
export function cleanComment(comment: string | null | undefined): string | undefined {
  if (!comment) return undefined;
  let t = comment
    .replace(/\[#[^\]]*\]/g, '')
    .replace(/:ref:`([^`<]*?)\s*<[^>`]*>`/g, '$1')
    .replace(/:ref:`([^`]*)`/g, (_m, target: string) => target.split(/[_.]/).pop() ?? target)
    .replace(/`([^`<]*?)\s*<https?:[^>`]*>`_+/g, '$1')
    .replace(/``([^`]*)``/g, '$1')
    .replace(/``/g, '') // unbalanced literals exist in Envoy's comments
    .replace(/\.\. (note|attention|warning|tip|code-block)::[^\n]*/gi, (_m, k: string) => (k.toLowerCase() === 'code-block' ? '' : `${k[0]!.toUpperCase()}${k.slice(1).toLowerCase()}:`));
  // Paragraphs stay apart; lines inside one are joined.
  t = t
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
  if (!t) return undefined;
  if (t.length > MAX_DESCRIPTION) t = `${t.slice(0, MAX_DESCRIPTION).replace(/\s+\S*$/, '')}…`;
  return t;
}

const defRef = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });

class Generator {
  readonly definitions: Record<string, JsonSchema> = {};
  private readonly queue: Array<Type | Enum> = [];
  private readonly anyTypes: string[];

  constructor() {
    this.anyTypes = knownAnyTypes().filter((n) => this.lookup(n) !== undefined);
  }

  private lookup(name: string): Type | undefined {
    try {
      const t = getEnvoyRoot().lookup(`.${name}`);
      return t instanceof protobuf.Type ? t : undefined;
    } catch {
      return undefined;
    }
  }

  /** Queues a message or enum for a definition and returns the reference to it. */
  private ref(t: Type | Enum): JsonSchema {
    const name = typeName(t);
    if (!(name in this.definitions)) {
      this.definitions[name] = {}; // reserved: a recursive reference finds it
      this.queue.push(t);
    }
    return defRef(name);
  }

  run(): JsonSchema {
    const root = getEnvoyRoot().lookupType(BOOTSTRAP);
    this.ref(root);
    this.definitions['google.protobuf.Any'] = this.anySchema();
    while (this.queue.length) {
      const t = this.queue.shift()!;
      this.definitions[typeName(t)] = t instanceof protobuf.Type ? this.messageSchema(t) : this.enumSchema(t);
    }
    return {
      $schema: 'http://json-schema.org/draft-07/schema#',
      description: 'An Envoy v3 Bootstrap, from the Envoy API protos shipped with Meshdeck. Meshdeck runs part of it; the engine says which parts it does not run.',
      ...defRef(BOOTSTRAP),
      definitions: this.definitions,
    };
  }

  private anySchema(): JsonSchema {
    const urls = this.anyTypes.map((n) => typeUrlOf(n));
    return {
      type: 'object',
      properties: {
        '@type': {
          type: 'string',
          description: 'The config message this typed config holds, as type.googleapis.com/<full message name>.',
          examples: urls,
        },
      },
      allOf: this.anyTypes.map((n) => ({
        if: { properties: { '@type': { const: typeUrlOf(n) } }, required: ['@type'] },
        then: this.ref(this.lookup(n)!),
      })),
    };
  }

  private messageSchema(type: Type): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    for (const field of type.fieldsArray) properties[field.name] = this.fieldSchema(field);
    const s: JsonSchema = { type: 'object', properties };
    const d = cleanComment(type.comment);
    if (d) s.description = d;
    return s;
  }

  private enumSchema(e: Enum): JsonSchema {
    const names = Object.keys(e.values);
    const s: JsonSchema = { enum: names };
    const docs = names.map((n) => {
      const deprecated = e.valuesOptions?.[n]?.deprecated === true;
      const c = cleanComment(e.comments?.[n]) ?? '';
      return deprecated ? `Deprecated. ${c}`.trim() : c;
    });
    if (docs.some(Boolean)) s.enumDescriptions = docs;
    const d = cleanComment(e.comment);
    if (d) s.description = d;
    return s;
  }

  private fieldSchema(field: Field): JsonSchema {
    const value = this.valueSchema(field);
    let s: JsonSchema;
    if (field.map) s = { type: 'object', additionalProperties: value };
    else if (field.repeated) s = { type: 'array', items: value };
    else s = { ...value };
    const d = cleanComment(field.comment);
    if (d) s.description = d;
    if (field.options?.deprecated === true) {
      s.deprecationMessage = `${field.name} is deprecated in Envoy's v3 API`;
      s.doNotSuggest = true;
    }
    return s;
  }

  private valueSchema(field: Field): JsonSchema {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) return this.ref(rt);
    if (rt instanceof protobuf.Type) {
      const name = typeName(rt);
      const wrapped = wrappedScalar(name);
      if (wrapped) return scalarSchema(wrapped);
      if (name === 'google.protobuf.Any') return defRef(name);
      const wk = WELL_KNOWN[name];
      if (wk) return { ...wk };
      return this.ref(rt);
    }
    return scalarSchema(field.type);
  }
}

let cached: { schema: JsonSchema; json: string; etag: string } | undefined;

/** The schema, generated once per process (it only depends on the shipped protos and the registries). */
export function envoyJsonSchema(): JsonSchema {
  cached ??= build();
  return cached.schema;
}

/** The schema serialized once, for the admin API. */
export function envoyJsonSchemaText(): string {
  cached ??= build();
  return cached.json;
}

/** A strong ETag of the serialized schema. */
export function envoyJsonSchemaETag(): string {
  cached ??= build();
  return cached.etag;
}

function build(): { schema: JsonSchema; json: string; etag: string } {
  const schema = new Generator().run();
  const json = JSON.stringify(schema);
  return { schema, json, etag: `"${createHash('sha256').update(json).digest('base64url').slice(0, 22)}"` };
}
