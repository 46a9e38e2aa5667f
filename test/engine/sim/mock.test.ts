// A mock instance on its own: JSON templates (ids, amounts, the idempotency key echoed), errors,
// resets, hangs, 404 for what no response answers, and an instance going down and coming back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { MockInstance } from '../../../engine/sim/mock';
import { loadScenario, type InstanceSpec } from '../../../engine/sim/scenario';

function spec(yaml: string): InstanceSpec {
  const r = loadScenario(`clusters: {}\nservices:\n  psp:\n${yaml.replace(/^/gm, '    ')}\n`);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.scenario!.services[0].instances[0];
}

async function post(port: number, path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await request(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), headersTimeout: 2000 });
  return { status: r.statusCode, headers: r.headers, body: (await r.body.json()) as Record<string, unknown> };
}

test('responses are rendered from templates: ids, the request amount, the echoed idempotency key; unmatched paths are 404', async () => {
  const m = new MockInstance(
    'psp',
    1,
    spec(`latency: { model: fixed, ms: 1 }
responses:
  - match: { method: POST, prefix: /v1/charges }
    status: 201
    headers: { x-psp-ref: "{{id ref_ 8}}" }
    body:
      id: "{{id ch_ 16}}"
      amount: "{{request.amount}}"
      card: "{{request.card.bin}}/{{request.card.last4}}"
      idempotency_key: "{{header idempotency-key}}"
      served_by: "{{service}}#{{instance}}"
      n: "{{seq}}"
  - match: { method: GET, regex: "^/v1/charges/[^/]+$" }
    body: { id: "{{path 3}}", status: "succeeded" }`),
    9,
  );
  await m.listen();
  try {
    const r = await post(m.port, '/v1/charges', { amount: 4999, card: { bin: '424242', last4: '4242' } }, { 'idempotency-key': 'key-123' });
    assert.equal(r.status, 201);
    assert.match(r.body.id as string, /^ch_[0-9a-z]{16}$/);
    assert.equal(r.body.amount, 4999, 'a whole placeholder keeps the number type');
    assert.equal(r.body.card, '424242/4242');
    assert.equal(r.body.idempotency_key, 'key-123');
    assert.equal(r.body.served_by, 'psp#1');
    assert.equal(r.body.n, 0);
    assert.match(String(r.headers['x-psp-ref']), /^ref_[0-9a-z]{8}$/);
    assert.equal(r.headers['x-sim-instance'], 'psp#1');
    const g = await request(`http://127.0.0.1:${m.port}/v1/charges/ch_abc`);
    assert.deepEqual(await g.body.json(), { id: 'ch_abc', status: 'succeeded' });
    const missing = await post(m.port, '/v1/refunds', {});
    assert.equal(missing.status, 404);
    assert.equal(m.counters.requests, 3);
  } finally {
    await m.close();
  }
});

test('errors, resets and hangs happen at their rates; an instance goes down and comes back on its port', async () => {
  const failing = new MockInstance('psp', 0, spec(`latency: { model: fixed, ms: 0 }\nerrors: { rate: 1, status: 502 }`), 1);
  await failing.listen();
  const r = await post(failing.port, '/x', {});
  assert.equal(r.status, 502);
  assert.equal((r.body.error as { type: string }).type, 'bad_gateway');
  await failing.close();

  const resetting = new MockInstance('psp', 0, spec(`latency: { model: fixed, ms: 0 }\nresets: { rate: 1 }`), 1);
  await resetting.listen();
  await assert.rejects(post(resetting.port, '/x', {}), (e: Error & { code?: string }) => /SOCKET|ECONNRESET|closed/i.test(`${e.code} ${e.message}`));
  assert.equal(resetting.counters.resets, 1);
  await resetting.close();

  const hanging = new MockInstance('psp', 0, spec(`latency: { model: fixed, ms: 0 }\nhangs: { rate: 1 }`), 1);
  await hanging.listen();
  const t0 = Date.now();
  await assert.rejects(request(`http://127.0.0.1:${hanging.port}/x`, { headersTimeout: 300 }), /Headers Timeout/i);
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(hanging.counters.hangs, 1);
  await hanging.close();

  const m = new MockInstance('psp', 0, spec(`latency: { model: fixed, ms: 0 }`), 1);
  await m.listen();
  const port = m.port;
  assert.equal((await post(port, '/x', {})).status, 200);
  await m.setEffect('incident', { type: 'down' });
  assert.equal(m.isUp, false);
  await assert.rejects(post(port, '/x', {}), (e: Error & { code?: string }) => e.code === 'ECONNREFUSED');
  await m.setEffect('incident', undefined);
  assert.equal(m.isUp, true);
  assert.equal(m.port, port, 'back on the same port, so the Envoy config still points at it');
  assert.equal((await post(port, '/x', {})).status, 200);
  await m.close();
});
