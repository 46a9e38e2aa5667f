// The scenario format: its one definition. The JSON Schema (scenario.schema.json, what the
// validator and the editor read) and the TypeScript types below both come from it.
// Regenerate the JSON file after a change: `node --import tsx engine/sim/write-schema.ts`
// (a test fails while it is stale).

import { anyValue, array, boolean, countOrList, integer, literal, number, object, oneOfValues, optional, props, record, string, tagged, type JsonSchema, type Static } from './schema-kit';

const DURATION = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
const duration = (description: string) => string({ pattern: DURATION, patternErrorMessage: 'must be a duration like 500ms, 30s, 2m, 4m30s or 1h', description });
const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
const probability = (description: string) => number({ minimum: 0, maximum: 1, description });
const httpStatus = (description: string) => integer({ minimum: 100, maximum: 599, description });
const ms = (description: string) => number({ minimum: 0, description });

export const LatencyDef = tagged(
  'model',
  [
    object(
      { model: literal('lognormal'), p50_ms: number({ exclusiveMinimum: 0, description: 'median, ms' }), p99_ms: number({ exclusiveMinimum: 0, description: '99th percentile, ms (greater than p50_ms)' }) },
      { description: 'Log-normal with the given median and 99th percentile: the usual shape of a service\'s latency.' },
    ),
    object({ model: literal('fixed'), ms: ms('every answer takes this long') }, { description: 'Always the same latency.' }),
    object({ model: literal('uniform'), min_ms: ms('lowest'), max_ms: ms('highest') }, { description: 'Uniform between min_ms and max_ms.' }),
    object(
      {
        model: literal('empirical'),
        min_ms: optional(ms('lower bound of the first bucket (default 0)')),
        buckets: array(object({ le_ms: ms('upper bound of the bucket, ms'), weight: number({ minimum: 0, description: 'relative share of answers in this bucket' }) }), {
          minItems: 1,
          description: 'A histogram: buckets in increasing le_ms; a latency is drawn uniformly within a bucket picked by weight.',
        }),
      },
      { description: 'An empirical histogram (e.g. measured in production).' },
    ),
  ],
  { description: 'How long an instance takes to answer.' },
);

const ErrorsDef = object(
  { rate: probability('share of requests answered with `status`'), status: optional(httpStatus('the error status (default 503)')) },
  { description: 'Errors answered by the instance.' },
);

const HangsDef = object(
  { rate: probability('share of requests never answered'), max_ms: optional(ms('after this long the connection is reset (default 60000)')) },
  { description: 'Requests the instance accepts and never answers (the proxy\'s timeout decides what the client sees).' },
);

const ResetsDef = object({ rate: probability('share of requests whose connection is reset without an answer') }, { description: 'Connection resets.' });

const ResponseDef = object(
  {
    match: optional(
      object(
        {
          method: optional(string({ description: 'HTTP method, e.g. POST' })),
          prefix: optional(string({ description: 'path prefix' })),
          regex: optional(string({ description: 'JavaScript regular expression over the path' })),
        },
        { description: 'Which requests this response answers (all when absent).' },
      ),
    ),
    status: optional(httpStatus('status of a successful answer (default 200)')),
    headers: optional(record(string(), { description: 'extra response headers (values may hold {{…}} placeholders)' })),
    body: optional(
      anyValue({
        description:
          'A JSON template. Strings may hold placeholders: {{id pay_}}, {{uuid}}, {{int 1 9}}, {{pick a b}}, {{now}}, {{request.amount}} (a field of the JSON request body), {{header idempotency-key}}, {{path 3}} (a path segment), {{service}}, {{instance}}. A string that is one placeholder keeps the value\'s type.',
      }),
    ),
  },
  { description: 'One kind of answer; the first whose match fits the request is used (a request none fits is answered 404).' },
);

const behaviour = props({
  latency: optional(LatencyDef),
  errors: optional(ErrorsDef),
  hangs: optional(HangsDef),
  resets: optional(ResetsDef),
  responses: optional(array(ResponseDef)),
});

export const InstanceDef = object(behaviour, { description: 'One instance: anything set here overrides the service\'s own setting.' });

export const ServiceDef = object(
  {
    ...behaviour,
    instances: optional(
      countOrList(InstanceDef, {
        minimum: 1,
        description: 'How many instances (default 1), or one entry per instance with its own settings.',
      }),
    ),
    tls: optional(
      object(
        {
          certificate_chain: string({ minLength: 1, description: 'PEM certificate chain file (relative to the scenario)' }),
          private_key: string({ minLength: 1, description: 'PEM private key file (relative to the scenario)' }),
        },
        { description: "Serve HTTPS with this certificate: the Envoy cluster for this service then needs an UpstreamTlsContext (envoy.transport_sockets.tls)." },
      ),
    ),
  },
  { description: 'A mock service: each instance is a real HTTP server on 127.0.0.1 with a port picked at start.' },
);

const incidentCommon = props({
  name: optional(string({ description: 'shown in the timeline' })),
  at: duration('when it starts, from the start of the scenario'),
  duration: duration('how long it lasts'),
  every: optional(duration('repeat with this period (measured from one start to the next)')),
  service: string({ pattern: NAME, description: 'the service it hits' }),
  instance: optional(integer({ minimum: 0, description: 'index of the instance in the service (from 0); every instance when absent' })),
});

export const IncidentDef = tagged(
  'type',
  [
    object({ ...incidentCommon, type: literal('slowdown'), factor: number({ exclusiveMinimum: 0, description: 'latency is multiplied by this' }) }, { description: 'The instance gets slower.' }),
    object({ ...incidentCommon, type: literal('errors'), rate: probability('share of requests failing'), status: optional(httpStatus('default 503')) }, { description: 'An error burst.' }),
    object({ ...incidentCommon, type: literal('down') }, { description: 'The instance stops listening (connections refused) and comes back after `duration`.' }),
    object({ ...incidentCommon, type: literal('hangs'), rate: probability('share of requests never answered') }, { description: 'The instance stops answering some requests.' }),
    object({ ...incidentCommon, type: literal('resets'), rate: probability('share of connections reset') }, { description: 'The instance resets connections.' }),
  ],
  { description: 'Something that goes wrong on the timeline.' },
);

export const MixEntryDef = object(
  {
    name: string({ description: 'e.g. authorize, capture, refund, status' }),
    weight: number({ exclusiveMinimum: 0, description: 'relative share of the traffic' }),
    method: optional(oneOfValues(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], { description: 'default GET, or POST when there is a body' })),
    path: string({ pattern: '^/', description: 'the request path; may hold {{…}} placeholders, e.g. /v1/payments/{{payment_id}}/capture' }),
    headers: optional(record(string(), { description: 'request headers; values may hold placeholders, e.g. idempotency-key: "{{uuid}}"' })),
    body: optional(
      anyValue({
        description:
          'A JSON body template. Placeholders: {{amount MIN MAX}} (minor units), {{currency}}, {{card_bin}}, {{last4}}, {{uuid}}, {{id PREFIX}}, {{new_payment_id}} (remembered), {{payment_id}} (one remembered earlier), {{int MIN MAX}}, {{pick A B …}}, {{seq}}.',
      }),
    ),
  },
  { description: 'One kind of request in the mix.' },
);

export const LoadDef = object(
  {
    target: object(
      {
        listener: optional(string({ description: 'name of a listener of the Envoy config (its bound address is used)' })),
        url: optional(string({ pattern: '^https?://', description: 'or an explicit base URL' })),
      },
      { description: 'Where the traffic goes: a Meshdeck listener.' },
    ),
    arrivals: optional(oneOfValues(['poisson', 'constant'], { description: 'poisson (default): random gaps like real users; constant: evenly spaced' })),
    rate: number({ minimum: 0, description: 'requests per second (open loop: a slow upstream never slows this down)' }),
    ramp: optional(
      array(object({ at: duration('scenario time'), rate: number({ minimum: 0, description: 'requests per second at that time' }) }), {
        minItems: 1,
        description: 'Rate over time, linear between points (before the first point: `rate`; after the last: its rate).',
      }),
    ),
    max_in_flight: optional(integer({ minimum: 1, description: 'requests outstanding at most; past it, new arrivals are dropped and counted (default 2000)' })),
    connections: optional(integer({ minimum: 1, description: 'client connections to the target (default 128)' })),
    timeout: optional(duration('the client gives up after this long (default 10s)')),
    warmup: optional(duration('requests due in this first part of the run are sent but left out of the figures (JIT, connection set-up)')),
    mix: array(MixEntryDef, { minItems: 1, description: 'The request mix.' }),
  },
  { description: 'Open-loop load.' },
);

export const ScenarioDef = object(
  {
    $schema: optional(string()),
    name: optional(string({ description: 'shown in lists' })),
    description: optional(string()),
    seed: optional(integer({ description: 'the same seed gives the same latencies, errors and requests (default 1)' })),
    envoy_config: optional(string({ description: 'the Envoy config to run, relative to this file; without it, the running config' })),
    duration: optional(duration('stop after this long (default: run until stopped)')),
    clusters: record(string({ pattern: NAME, description: 'a service of this scenario' }), {
      description: 'Envoy cluster → the service answering for it. The cluster\'s endpoints, in order, become the service\'s instances (the counts must match); their addresses are rewritten to the mocks\' ports.',
    }),
    services: record(ServiceDef, { keyPattern: NAME, keyErrorMessage: 'a service name is letters, digits, _ . -', minProperties: 1, description: 'The mock services.' }),
    incidents: optional(array(IncidentDef, { description: 'The timeline.' })),
    load: optional(LoadDef),
    quiet: optional(boolean({ description: 'no live summary on stderr' })),
  },
  { description: 'A Meshdeck simulation scenario: mock payment services behind an Envoy config, incidents on a timeline, and open-loop load.' },
);

export type ScenarioDoc = Static<typeof ScenarioDef>;
export type ServiceDoc = Static<typeof ServiceDef>;
export type InstanceDoc = Static<typeof InstanceDef>;
export type LatencyDoc = Static<typeof LatencyDef>;
export type IncidentDoc = Static<typeof IncidentDef>;
export type LoadDoc = Static<typeof LoadDef>;
export type MixEntryDoc = Static<typeof MixEntryDef>;
export type ResponseDoc = NonNullable<InstanceDoc['responses']>[number];

export const SCENARIO_SCHEMA_ID = 'urn:meshdeck:scenario:v1';

/** The JSON Schema of a scenario file. */
export function scenarioJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCENARIO_SCHEMA_ID,
    title: 'Meshdeck scenario',
    ...ScenarioDef.schema,
  };
}
