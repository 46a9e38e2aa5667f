// Scenario files: YAML (or JSON) → located parse (config/source.ts, the same as Envoy configs)
// → the scenario's JSON Schema (ajv) → rules a schema cannot say (p99 above p50, known services
// and instances, placeholders, regexes) → a resolved, plain-data Scenario (durations in ms,
// defaults applied, one entry per instance) that can be sent to a child process as is.
// Every problem is a Diagnostic with the field path, line and column, as for Envoy configs.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { parseSource, type Seg, type SourceMap } from '../config/source';
import type { Diagnostic } from '../config/model';
import { nearest } from '../config/suggest';
import { compileLatency, latencyProblems } from './latency';
import type { IncidentDoc, InstanceDoc, LatencyDoc, LoadDoc, ResponseDoc, ScenarioDoc, ServiceDoc } from './scenario-schema';
import { scenarioJsonSchema } from './scenario-schema';
import { compileTemplate, type TemplateError } from './template';

export interface ResponseSpec {
  method?: string;
  prefix?: string;
  regex?: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface InstanceSpec {
  latency: LatencyDoc;
  errors: { rate: number; status: number };
  hangs: { rate: number; maxMs: number };
  resets: { rate: number };
  responses: ResponseSpec[];
}

export interface ServiceSpec {
  name: string;
  instances: InstanceSpec[];
  /** PEM certificate and key: the instances serve HTTPS. */
  tls?: { cert: string; key: string };
}

export type IncidentEffect =
  | { type: 'slowdown'; factor: number }
  | { type: 'errors'; rate: number; status: number }
  | { type: 'down' }
  | { type: 'hangs'; rate: number }
  | { type: 'resets'; rate: number };

export interface IncidentSpec {
  name: string;
  atMs: number;
  durationMs: number;
  everyMs?: number;
  service: string;
  /** Every instance when undefined. */
  instance?: number;
  effect: IncidentEffect;
}

export interface MixSpec {
  name: string;
  weight: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface LoadSpec {
  target: { listener?: string; url?: string };
  arrivals: 'poisson' | 'constant';
  rate: number;
  ramp: Array<{ atMs: number; rate: number }>;
  maxInFlight: number;
  connections: number;
  timeoutMs: number;
  /** Scenario time before which requests are not counted. */
  warmupMs: number;
  mix: MixSpec[];
}

export interface Scenario {
  name: string;
  description?: string;
  seed: number;
  sourceName: string;
  /** Absolute path of the Envoy config, when the scenario names one. */
  envoyConfigPath?: string;
  durationMs?: number;
  /** Envoy cluster → service. */
  clusters: Record<string, string>;
  services: ServiceSpec[];
  incidents: IncidentSpec[];
  load?: LoadSpec;
  quiet: boolean;
}

export interface LoadedScenario {
  ok: boolean;
  scenario?: Scenario;
  diagnostics: Diagnostic[];
  /** Where a field of the scenario file is, for problems found later (e.g. against the Envoy config). */
  locate(path: Seg[], at?: 'key' | 'value'): { line: number; column: number };
}

export const DEFAULT_LATENCY: LatencyDoc = { model: 'lognormal', p50_ms: 10, p99_ms: 50 };
const DEFAULT_RESPONSE: ResponseSpec = { status: 200, headers: {}, body: { ok: true, id: '{{id req_ 20}}', service: '{{service}}', instance: '{{instance}}' } };

let validator: ValidateFunction | undefined;
function validateFn(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, discriminator: true, verbose: true });
    ajv.addVocabulary(['patternErrorMessage']);
    validator = ajv.compile(scenarioJsonSchema());
  }
  return validator;
}

export function parseDurationMs(text: string): number {
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(text)) throw new Error(`not a duration: ${text}`);
  let ms = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    const n = Number(m[1]);
    ms += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
  }
  return ms;
}

/** "a.b[0].c" — the Envoy config's own path style. */
export function formatPath(segs: readonly Seg[]): string {
  let out = '';
  for (const s of segs) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

export function loadScenarioFile(path: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const d: Diagnostic = { severity: 'error', code: 'unreadable', path: '', line: 0, column: 0, message: code === 'ENOENT' ? `cannot read scenario '${path}': no such file` : `cannot read scenario '${path}': ${(e as Error).message}` };
    return { ok: false, diagnostics: [d], locate: () => ({ line: 0, column: 0 }) };
  }
  return loadScenario(text, { sourceName: path, baseDir: dirname(resolve(path)) });
}

export function loadScenario(text: string, opts: { sourceName?: string; baseDir?: string } = {}): LoadedScenario {
  const sourceName = opts.sourceName ?? 'scenario.yaml';
  const parsed = parseSource(text, { sourceName });
  const map = parsed.map;
  const locate = (path: Seg[], at: 'key' | 'value' = 'value') => {
    const exact = map.get(path);
    const loc = exact ?? map.nearest(path);
    if (!loc) return { line: 0, column: 0 };
    return (at === 'key' || !exact ? loc.key : undefined) ?? loc.value;
  };
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  const fail = (): LoadedScenario => ({ ok: false, diagnostics, locate });
  if (diagnostics.some((d) => d.severity === 'error')) return fail();
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    diagnostics.push({ severity: 'error', code: 'invalid_type', path: '', line: 1, column: 1, message: 'a scenario is a map (services:, clusters:, load: …)' });
    return fail();
  }

  const validate = validateFn();
  if (!validate(value)) {
    diagnostics.push(...schemaDiagnostics(validate.errors ?? [], value, map, locate));
    return fail();
  }
  const doc = value as ScenarioDoc;
  const err = (path: Seg[], code: string, message: string, suggestion?: string, at: 'key' | 'value' = 'value') => {
    const p = locate(path, at);
    const d: Diagnostic = { severity: 'error', code, path: formatPath(path), line: p.line, column: p.column, message };
    if (suggestion) d.suggestion = suggestion;
    diagnostics.push(d);
  };

  // Services and their instances.
  const services: ServiceSpec[] = [];
  for (const [name, svc] of Object.entries(doc.services)) {
    const spec: ServiceSpec = { name, instances: resolveInstances(name, svc, err) };
    if (svc.tls) {
      const read = (file: string, field: string) => {
        try {
          return readFileSync(resolve(opts.baseDir ?? process.cwd(), file), 'utf8');
        } catch (e) {
          err(['services', name, 'tls', field], 'file_not_found', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          return '';
        }
      };
      spec.tls = { cert: read(svc.tls.certificate_chain, 'certificate_chain'), key: read(svc.tls.private_key, 'private_key') };
    }
    services.push(spec);
  }
  const serviceNames = services.map((s) => s.name);
  const byName = new Map(services.map((s) => [s.name, s]));
  const unknownService = (path: Seg[], name: string) => {
    const near = nearest(name, serviceNames);
    err(path, 'unknown_service', `no service "${name}" in services`, near ? `did you mean "${near}"?` : `define it under services: (known: ${serviceNames.join(', ')})`);
  };

  for (const [cluster, service] of Object.entries(doc.clusters)) {
    if (!byName.has(service)) unknownService(['clusters', cluster], service);
  }

  const incidents: IncidentSpec[] = [];
  (doc.incidents ?? []).forEach((inc, i) => {
    const spec = resolveIncident(inc);
    const svc = byName.get(inc.service);
    if (!svc) unknownService(['incidents', i, 'service'], inc.service);
    else if (inc.instance !== undefined && inc.instance >= svc.instances.length) {
      err(['incidents', i, 'instance'], 'unknown_instance', `${inc.service} has ${svc.instances.length} instance(s), numbered from 0: there is no instance ${inc.instance}`);
    }
    if (spec.everyMs !== undefined && spec.everyMs <= spec.durationMs) {
      err(['incidents', i, 'every'], 'invalid_value', `every (${inc.every}) must be longer than duration (${inc.duration}), or one occurrence would still run when the next starts`);
    }
    incidents.push(spec);
  });

  let load: LoadSpec | undefined;
  if (doc.load) load = resolveLoad(doc.load, err);

  if (diagnostics.some((d) => d.severity === 'error')) return fail();
  const scenario: Scenario = {
    name: doc.name ?? sourceName.replace(/^.*[\\/]/, '').replace(/\.(ya?ml|json)$/, ''),
    description: doc.description,
    seed: doc.seed ?? 1,
    sourceName,
    envoyConfigPath: doc.envoy_config !== undefined ? resolve(opts.baseDir ?? process.cwd(), doc.envoy_config) : undefined,
    durationMs: doc.duration !== undefined ? parseDurationMs(doc.duration) : undefined,
    clusters: { ...doc.clusters },
    services,
    incidents,
    load,
    quiet: doc.quiet ?? false,
  };
  return { ok: true, scenario, diagnostics, locate };
}

type Report = (path: Seg[], code: string, message: string, suggestion?: string) => void;

function resolveInstances(name: string, svc: ServiceDoc, err: Report): InstanceSpec[] {
  const base: InstanceDoc = { latency: svc.latency, errors: svc.errors, hangs: svc.hangs, resets: svc.resets, responses: svc.responses };
  const list: Array<[InstanceDoc, Seg[]]> = [];
  const count = svc.instances ?? 1;
  if (typeof count === 'number') for (let i = 0; i < count; i++) list.push([{}, ['services', name]]);
  else count.forEach((inst, i) => list.push([inst, ['services', name, 'instances', i]]));
  checkBehaviour(base, ['services', name], err);
  return list.map(([over, path]) => {
    if (path.length > 2) checkBehaviour(over, path, err);
    const latency = over.latency ?? base.latency ?? DEFAULT_LATENCY;
    const errors = over.errors ?? base.errors;
    const hangs = over.hangs ?? base.hangs;
    const responses = over.responses ?? base.responses;
    return {
      latency,
      errors: { rate: errors?.rate ?? 0, status: errors?.status ?? 503 },
      hangs: { rate: hangs?.rate ?? 0, maxMs: hangs?.max_ms ?? 60_000 },
      resets: { rate: (over.resets ?? base.resets)?.rate ?? 0 },
      responses: responses?.length ? responses.map(resolveResponse) : [DEFAULT_RESPONSE],
    };
  });
}

function checkBehaviour(b: InstanceDoc, path: Seg[], err: Report): void {
  if (b.latency) {
    for (const [field, message] of latencyProblems(b.latency)) err([...path, 'latency', ...splitField(field)], 'invalid_value', message);
    compileLatency(b.latency);
  }
  (b.responses ?? []).forEach((r, i) => {
    const at: Seg[] = [...path, 'responses', i];
    if (r.match?.regex !== undefined) {
      try {
        new RegExp(r.match.regex);
      } catch (e) {
        err([...at, 'match', 'regex'], 'invalid_regex', `invalid regular expression: ${(e as Error).message}`);
      }
    }
    templateErrors(r.body, 'response', [...at, 'body'], err);
    for (const [h, v] of Object.entries(r.headers ?? {})) templateErrors(v, 'response', [...at, 'headers', h], err);
  });
}

function splitField(field: string): Seg[] {
  return field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function templateErrors(value: unknown, side: 'request' | 'response', path: Seg[], err: Report): void {
  if (value === undefined) return;
  const errors: TemplateError[] = [];
  compileTemplate(value, side, errors);
  for (const e of errors) err([...path, ...e.path], 'invalid_template', e.message);
}

function resolveResponse(r: ResponseDoc): ResponseSpec {
  return {
    method: r.match?.method?.toUpperCase(),
    prefix: r.match?.prefix,
    regex: r.match?.regex,
    status: r.status ?? 200,
    headers: r.headers ?? {},
    body: r.body === undefined ? DEFAULT_RESPONSE.body : r.body,
  };
}

function resolveIncident(inc: IncidentDoc): IncidentSpec {
  const common = {
    name: inc.name ?? `${inc.service}${inc.instance !== undefined ? `#${inc.instance}` : ''} ${inc.type}`,
    atMs: parseDurationMs(inc.at),
    durationMs: parseDurationMs(inc.duration),
    everyMs: inc.every !== undefined ? parseDurationMs(inc.every) : undefined,
    service: inc.service,
    instance: inc.instance,
  };
  switch (inc.type) {
    case 'slowdown':
      return { ...common, effect: { type: 'slowdown', factor: inc.factor } };
    case 'errors':
      return { ...common, effect: { type: 'errors', rate: inc.rate, status: inc.status ?? 503 } };
    case 'down':
      return { ...common, effect: { type: 'down' } };
    case 'hangs':
      return { ...common, effect: { type: 'hangs', rate: inc.rate } };
    case 'resets':
      return { ...common, effect: { type: 'resets', rate: inc.rate } };
  }
}

function resolveLoad(l: LoadDoc, err: Report): LoadSpec {
  const { listener, url } = l.target;
  if ((listener === undefined) === (url === undefined)) err(['load', 'target'], 'invalid_value', 'give exactly one of listener (a listener of the Envoy config) or url');
  const ramp = (l.ramp ?? []).map((p) => ({ atMs: parseDurationMs(p.at), rate: p.rate }));
  ramp.forEach((p, i) => {
    if (i > 0 && p.atMs <= ramp[i - 1].atMs) err(['load', 'ramp', i, 'at'], 'invalid_value', `ramp points must be in increasing time: ${l.ramp![i].at} after ${l.ramp![i - 1].at}`);
  });
  const mix: MixSpec[] = l.mix.map((m, i) => {
    templateErrors(m.path, 'request', ['load', 'mix', i, 'path'], err);
    templateErrors(m.body, 'request', ['load', 'mix', i, 'body'], err);
    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(m.headers ?? {})) {
      templateErrors(v, 'request', ['load', 'mix', i, 'headers', h], err);
      headers[h.toLowerCase()] = v;
    }
    if (m.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    if (headers['user-agent'] === undefined) headers['user-agent'] = 'meshdeck-sim';
    return { name: m.name, weight: m.weight, method: m.method ?? (m.body !== undefined ? 'POST' : 'GET'), path: m.path, headers, body: m.body };
  });
  return {
    target: { listener, url },
    arrivals: l.arrivals ?? 'poisson',
    rate: l.rate,
    ramp,
    maxInFlight: l.max_in_flight ?? 2000,
    connections: l.connections ?? 128,
    timeoutMs: l.timeout !== undefined ? parseDurationMs(l.timeout) : 10_000,
    warmupMs: l.warmup !== undefined ? parseDurationMs(l.warmup) : 0,
    mix,
  };
}

// ---- schema errors → located diagnostics ----

function pointerToSegs(pointer: string, root: unknown): Seg[] {
  if (!pointer) return [];
  const segs: Seg[] = [];
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = Number(key);
      segs.push(i);
      cur = cur[i];
    } else {
      segs.push(key);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return segs;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = { number: 'a number', integer: 'an integer', string: 'a string', boolean: 'true or false', object: 'a map', array: 'a list' };

function schemaDiagnostics(errors: ErrorObject[], root: unknown, _map: SourceMap, locate: LoadedScenario['locate']): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const push = (segs: Seg[], at: 'key' | 'value', code: string, message: string, suggestion?: string) => {
    const path = formatPath(segs);
    const k = `${path}\u0000${code}\u0000${message}`;
    if (seen.has(k)) return;
    seen.add(k);
    const p = locate(segs, at);
    const d: Diagnostic = { severity: 'error', code, path, line: p.line, column: p.column, message };
    if (suggestion) d.suggestion = suggestion;
    out.push(d);
  };
  // A property-name failure is reported twice by ajv (the pattern, then propertyNames): keep the first.
  for (const e of errors) {
    const segs = pointerToSegs(e.instancePath, root);
    const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
    const params = e.params as Record<string, unknown>;
    const propertyName = (e as { propertyName?: string }).propertyName;
    if (e.keyword === 'propertyNames') continue; // the failing name's own error says it better
    if (propertyName !== undefined) {
      push([...segs, propertyName], 'key', 'invalid_name', `invalid name "${propertyName}": ${(parent.patternErrorMessage as string) ?? e.message}`);
      continue;
    }
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = String(params.additionalProperty);
        const known = Object.keys((parent.properties as object) ?? {});
        const near = nearest(extra, known);
        push([...segs, extra], 'key', 'unknown_field', `unknown field "${extra}"`, near ? `did you mean "${near}"?` : known.length ? `known fields here: ${known.join(', ')}` : undefined);
        break;
      }
      case 'required':
        push(segs, 'key', 'missing_field', `missing required field "${String(params.missingProperty)}"`);
        break;
      case 'type': {
        const types = ([] as string[]).concat(parent.type as string | string[]);
        const want = types.length === 2 && types.includes('integer') && types.includes('array') ? 'a count or a list' : types.map((t) => TYPE_NAMES[t] ?? t).join(' or ');
        push(segs, 'value', 'invalid_type', `must be ${want}, not ${describeType(e.data)}`);
        break;
      }
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]).map(String);
        const near = nearest(String(e.data), allowed, { ignoreCase: true });
        push(segs, 'value', 'invalid_enum', `invalid value ${JSON.stringify(e.data)}: use one of ${allowed.join(', ')}`, near ? `did you mean "${near}"?` : undefined);
        break;
      }
      case 'discriminator': {
        const tag = String(params.tag);
        const allowed = ((parent.oneOf as Array<{ properties: Record<string, { const: string }> }>) ?? []).map((v) => v.properties[tag].const);
        if (params.error === 'mapping') {
          const v = String(params.tagValue);
          const near = nearest(v, allowed, { ignoreCase: true });
          push([...segs, tag], 'value', 'invalid_enum', `unknown ${tag} "${v}": use one of ${allowed.join(', ')}`, near ? `did you mean "${near}"?` : undefined);
        } else {
          push(segs, 'key', 'missing_field', `missing required field "${tag}" (one of ${allowed.join(', ')})`);
        }
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const op = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
        push(segs, 'value', 'out_of_range', `must be ${op} ${String(params.limit)}, not ${String(e.data)}`);
        break;
      }
      case 'minItems':
        push(segs, 'value', 'invalid_value', `needs at least ${String(params.limit)} item(s)`);
        break;
      case 'minProperties':
        push(segs, 'value', 'invalid_value', `needs at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`);
        break;
      case 'pattern':
        push(segs, 'value', 'invalid_value', `${describeType(e.data)} ${(parent.patternErrorMessage as string) ?? `must match ${String(params.pattern)}`}`);
        break;
      case 'const':
        push(segs, 'value', 'invalid_value', `must be ${JSON.stringify(params.allowedValue)}`);
        break;
      default:
        push(segs, 'value', 'invalid_value', e.message ?? e.keyword);
    }
  }
  return out;
}
