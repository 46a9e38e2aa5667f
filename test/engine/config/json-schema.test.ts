// The editor's JSON Schema (engine/config/json-schema.ts), checked the way the editor uses it: real
// configs validated against it with a JSON Schema validator (ajv, draft-07), so "the schema says
// LEAST_CONN is wrong" and "the schema accepts the demo" are facts, not shapes of a JSON object.
// Also the admin API that serves it (ETag, 304, the token).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { request } from 'undici';
import { parse } from 'yaml';
import { cleanComment, envoyJsonSchema, envoyJsonSchemaText, knownAnyTypes, type JsonSchema } from '../../../engine/config/json-schema';
import { bootstrap, startEngine, staticCluster, type RunningEngine } from '../../helpers/engine';

const DEMO = readFileSync(fileURLToPath(new URL('../../../examples/payment-gateway.yaml', import.meta.url)), 'utf8');

let validate: ValidateFunction;
const defs = () => envoyJsonSchema().definitions as Record<string, JsonSchema>;
const prop = (type: string, field: string) => (defs()[type]!.properties as Record<string, JsonSchema>)[field]!;

function errorsFor(yaml: string): ErrorObject[] {
  validate(parse(yaml));
  return validate.errors ?? [];
}

/** The demo with one textual change (the editor's situation: a user typed something). */
function demoWith(from: string | RegExp, to: string): string {
  const out = DEMO.replace(from, to);
  assert.notEqual(out, DEMO, `the demo has no ${String(from)}`);
  return out;
}

before(() => {
  // The editor's keywords (enumDescriptions, patternErrorMessage, doNotSuggest, ...) are not draft-07's.
  const ajv = new Ajv({ allErrors: true, strict: false });
  validate = ajv.compile(envoyJsonSchema());
});

describe('the editor JSON Schema', () => {
  it('accepts the demo config and Envoy-style variants of it', () => {
    assert.deepEqual(errorsFor(DEMO), []);
    // camelCase keys, numbers as strings for 64-bit ints, {seconds, nanos} durations: all valid Envoy.
    assert.deepEqual(errorsFor(demoWith('connect_timeout: 0.25s', 'connect_timeout: { seconds: 1, nanos: 500000000 }')), []);
    assert.deepEqual(errorsFor(demoWith('max_requests: 200', 'max_requests: "200"')), []);
  });

  it('clusters[].lb_policy is an enum of Envoy names; LEAST_CONN is marked where it is', () => {
    const policy = prop('envoy.config.cluster.v3.Cluster', 'lb_policy');
    const e = defs()[String(policy.$ref).replace('#/definitions/', '')]!;
    assert.ok((e.enum as string[]).includes('LEAST_REQUEST'));
    assert.ok((e.enum as string[]).includes('ROUND_ROBIN'));
    assert.equal((e.enumDescriptions as string[]).length, (e.enum as string[]).length);
    const errs = errorsFor(demoWith('lb_policy: LEAST_REQUEST', 'lb_policy: LEAST_CONN'));
    assert.deepEqual(
      errs.map((x) => [x.instancePath, x.keyword]),
      [['/static_resources/clusters/2/lb_policy', 'enum']],
    );
  });

  it('durations: "1.5s" and "0.25s" are accepted, "250ms" and a bare number are not', () => {
    const ct = prop('envoy.config.cluster.v3.Cluster', 'connect_timeout');
    assert.match(String(ct.description), /timeout for new network connections/);
    assert.deepEqual(errorsFor(demoWith(/connect_timeout: 0\.25s/g, 'connect_timeout: 1.5s')), []);
    const bad = errorsFor(demoWith('connect_timeout: 0.25s', 'connect_timeout: 250ms'));
    assert.deepEqual(
      bad.map((x) => [x.instancePath, x.keyword]),
      [['/static_resources/clusters/0/connect_timeout', 'pattern']],
    );
    assert.ok(errorsFor(demoWith('timeout: 2s', 'timeout: 2')).some((x) => x.instancePath.endsWith('/route/timeout')));
  });

  it('a typed_config resolves by its "@type": the HTTP connection manager and the router get their own fields checked', () => {
    assert.ok(knownAnyTypes().includes('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'));
    const hcm = '/static_resources/listeners/0/filter_chains/0/filters/0/typed_config';
    // codec_type is an enum of the HCM (not of the listener): only its definition knows it.
    const errs = errorsFor(demoWith('stat_prefix: gateway', 'stat_prefix: gateway\n          codec_type: HTTP9'));
    assert.ok(
      errs.some((x) => x.instancePath === `${hcm}/codec_type` && x.keyword === 'enum'),
      JSON.stringify(errs.map((x) => x.instancePath)),
    );
    // Deep inside it: the route table, its weighted clusters.
    const deep = errorsFor(demoWith('- { name: payments_v2, weight: 10 }', '- { name: payments_v2, weight: ten }'));
    assert.ok(deep.some((x) => x.instancePath === `${hcm}/route_config/virtual_hosts/0/routes/1/route/weighted_clusters/clusters/1/weight`));
    // Meshdeck's own balancer is a known type too.
    const pe = errorsFor(demoWith('decay_time: 5s', 'decay_time: soon'));
    assert.ok(pe.some((x) => x.instancePath.endsWith('/typed_extension_config/typed_config/decay_time')), JSON.stringify(pe.map((x) => x.instancePath)));
    // An "@type" the schema does not know is left to the engine, not flagged.
    assert.deepEqual(errorsFor(demoWith('envoy.extensions.filters.http.router.v3.Router', 'envoy.extensions.filters.http.buffer.v3.Buffer\n              max_request_bytes: 1024')), []);
  });

  it('hover text comes from the proto comments, without the doc generator markup', () => {
    const d = String(prop('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', 'stat_prefix').description);
    assert.match(d, /prefix to use when emitting statistics/);
    let withDocs = 0;
    let fields = 0;
    for (const def of Object.values(defs())) {
      for (const p of Object.values((def.properties ?? {}) as Record<string, JsonSchema>)) {
        fields++;
        if (p.description) withDocs++;
        const text = String(p.description ?? '');
        assert.doesNotMatch(text, /:ref:`|\[#|``/, text);
        assert.ok(text.length <= 601, `${text.length} characters of hover text`);
      }
    }
    assert.ok(withDocs / fields > 0.8, `${withDocs} of ${fields} fields documented`);
    assert.equal(cleanComment('See :ref:`the stats <config_http_conn_man_stats>` and ``x-foo``. [#next-free-field: 9]'), 'See the stats and x-foo.');
  });

  it('is bounded: every $ref resolves, recursion goes through definitions, the text stays small', () => {
    const text = envoyJsonSchemaText();
    assert.ok(text.length < 2_000_000, `${text.length} bytes`);
    const names = new Set(Object.keys(defs()));
    assert.ok(names.size > 200 && names.size < 2000, `${names.size} definitions`);
    for (const m of text.matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)) assert.ok(names.has(m[1]!), `dangling $ref ${m[1]}`);
    // A recursive message (a header matcher's or_match holds matchers) refers to itself.
    assert.match(JSON.stringify(defs()['envoy.config.route.v3.RouteAction']), /"\$ref":"#\/definitions\/envoy\.config\.route\.v3\.WeightedCluster"/);
    assert.equal(envoyJsonSchemaText(), text, 'generated once');
  });
});

describe('GET /api/v1/config/schema', () => {
  let running: RunningEngine;
  before(async () => {
    running = await startEngine(bootstrap({ routes: '- match: { prefix: "/" }\n  direct_response: { status: 200 }', clusters: staticCluster('c', [{ port: 1 }]) }));
  });
  after(() => running?.stop());

  it('serves the schema with an ETag and answers 304 to it; the token is required', async () => {
    const url = `${running.engine.adminUrl}/api/v1/config/schema`;
    const auth = { authorization: `Bearer ${running.engine.adminToken}` };
    const r = await request(url, { headers: auth });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^application\/schema\+json/);
    const body = (await r.body.json()) as JsonSchema;
    assert.deepEqual(body, JSON.parse(envoyJsonSchemaText()));
    const etag = String(r.headers.etag);
    const again = await request(url, { headers: { ...auth, 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    await again.body.dump();
    const anon = await request(url);
    assert.equal(anon.statusCode, 401);
    await anon.body.dump();
  });
});
