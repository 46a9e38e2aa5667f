// A small schema builder: one definition yields both the JSON Schema (draft 2020-12, what the
// validator and the console's editor read) and the TypeScript type of a valid document
// (`Static<typeof X>`), so the two cannot drift. Only what the scenario format needs.

export type JsonSchema = { [k: string]: unknown };

/** A schema node that stands for values of type V. */
export interface Node<V> {
  readonly schema: JsonSchema;
  /** Phantom: never set, carries V for type inference. */
  readonly __value?: V;
}

/** A property that may be left out of its object. */
export interface OptionalNode<V> extends Node<V> {
  readonly optional: true;
}

export type Static<N> = N extends Node<infer V> ? V : never;

type Props = Record<string, Node<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<P extends Props> = { [K in keyof P]: P[K] extends OptionalNode<unknown> ? never : K }[keyof P];
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K] extends OptionalNode<unknown> ? K : never }[keyof P];
export type ObjectValue<P extends Props> = Simplify<{ [K in RequiredKeys<P>]: Static<P[K]> } & { [K in OptionalKeys<P>]?: Static<P[K]> }>;

interface Doc {
  description?: string;
  /** Shown by the editor (VS Code / Monaco) and by the validator when a pattern does not match. */
  patternErrorMessage?: string;
  default?: unknown;
  examples?: unknown[];
}

function node<V>(schema: JsonSchema): Node<V> {
  return { schema: dropUndefined(schema) };
}

function dropUndefined(o: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

export function optional<V>(n: Node<V>): OptionalNode<V> {
  return { schema: n.schema, optional: true };
}

export function number(o: Doc & { minimum?: number; maximum?: number; exclusiveMinimum?: number } = {}): Node<number> {
  return node({ type: 'number', ...o });
}

export function integer(o: Doc & { minimum?: number; maximum?: number } = {}): Node<number> {
  return node({ type: 'integer', ...o });
}

export function string(o: Doc & { pattern?: string; minLength?: number; maxLength?: number } = {}): Node<string> {
  return node({ type: 'string', ...o });
}

export function boolean(o: Doc = {}): Node<boolean> {
  return node({ type: 'boolean', ...o });
}

export function literal<L extends string>(value: L, o: Doc = {}): Node<L> {
  return node({ const: value, ...o });
}

export function oneOfValues<const L extends string>(values: readonly L[], o: Doc = {}): Node<L> {
  return node({ enum: [...values], ...o });
}

/** Any JSON value (response and request body templates). */
export function anyValue(o: Doc = {}): Node<unknown> {
  return node({ ...o });
}

export function array<V>(item: Node<V>, o: Doc & { minItems?: number; maxItems?: number } = {}): Node<V[]> {
  return node({ type: 'array', items: item.schema, ...o });
}

export function object<P extends Props>(props: P, o: Doc = {}): Node<ObjectValue<P>> {
  const properties: JsonSchema = {};
  const required: string[] = [];
  for (const [k, n] of Object.entries(props)) {
    properties[k] = n.schema;
    if (!(n as Partial<OptionalNode<unknown>>).optional) required.push(k);
  }
  return node({ type: 'object', properties, required: required.length ? required : undefined, additionalProperties: false, ...o });
}

/** A map with free keys (matching `keyPattern`) and values of one schema. */
export function record<V>(value: Node<V>, o: Doc & { keyPattern?: string; keyErrorMessage?: string; minProperties?: number } = {}): Node<Record<string, V>> {
  const { keyPattern, keyErrorMessage, ...doc } = o;
  return node({
    type: 'object',
    additionalProperties: value.schema,
    propertyNames: keyPattern ? dropUndefined({ pattern: keyPattern, patternErrorMessage: keyErrorMessage }) : undefined,
    ...doc,
  });
}

/**
 * A tagged union: every variant is an object whose `tag` property is a literal. The validator
 * picks the variant by the tag (JSON Schema's `discriminator`), so errors are about that variant only.
 */
export function tagged<K extends string, V extends Array<Node<Record<K, string>>>>(tag: K, variants: V, o: Doc = {}): Node<Static<V[number]>> {
  return node({ type: 'object', discriminator: { propertyName: tag }, oneOf: variants.map((v) => v.schema), ...o });
}

/** A count or a list of items (`instances: 3` or `instances: [{…}, {…}]`). */
export function countOrList<V>(item: Node<V>, o: Doc & { minimum?: number } = {}): Node<number | V[]> {
  const { minimum, ...doc } = o;
  return node({ type: ['integer', 'array'], minimum, minItems: minimum, items: item.schema, ...doc });
}

/** Object properties shared by several variants (spread into each `object({...})`). */
export function props<P extends Props>(p: P): P {
  return p;
}
