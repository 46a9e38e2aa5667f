// The admin endpoint itself: who may call it, mutations by POST only, and the small endpoints
// (/ready, /server_info, /healthcheck/*, /logging, /listeners, /help) in Envoy's formats.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, startEngine, staticCluster, type RunningEngine } from '../../helpers/engine';
import { startUpstream, type Upstream } from '../../helpers/upstream';
import { adminRoutes, mergeAdminRoutes } from '../../../engine/admin/routes';
import { admin, rawAdmin, TOKEN } from './helpers';

let e: RunningEngine;
let up: Upstream;

before(async () => {
  up = await startUpstream('ok');
  e = await startEngine(bootstrap({ routes: '- match: { prefix: "/" }\n  route: { cluster: pay }', clusters: staticCluster('pay', [{ port: up.port }]) }));
});
after(async () => {
  await e.stop();
  await up.close();
});

function own(): { host: string; origin: string } {
  const u = new URL(e.engine.adminUrl);
  return { host: u.host, origin: u.origin };
}

const CASES: Array<{ method: 'GET' | 'POST'; path: string }> = [
  { method: 'GET', path: '/stats' },
  { method: 'GET', path: '/config_dump' },
  { method: 'POST', path: '/healthcheck/fail' },
  { method: 'POST', path: '/logging?level=trace' },
];

test('refused without the token (401), with a foreign Host or a foreign Origin (403), POSTs included, with no effect', async () => {
  const { host, origin } = own();
  const auth = `Bearer ${TOKEN}`;
  for (const { method, path } of CASES) {
    const tries: Array<[string, Record<string, string>, number]> = [
      ['no token', { host }, 401],
      ['wrong token', { host, authorization: 'Bearer nope' }, 401],
      ['foreign Host', { host: 'evil.example:80', authorization: auth }, 403],
      ['foreign Host with the admin port', { host: `attacker.example:${new URL(e.engine.adminUrl).port}`, authorization: auth }, 403],
      ['foreign Origin', { host, origin: 'http://evil.example', authorization: auth }, 403],
      ['null Origin', { host, origin: 'null', authorization: auth }, 403],
    ];
    for (const [why, headers, status] of tries) {
      const r = await rawAdmin(e, path, { method, headers });
      assert.equal(r.status, status, `${method} ${path} with ${why}: ${r.status} ${r.body}`);
      assert.ok(!r.body.includes('cluster.'), 'nothing of the answer leaks');
    }
  }
  assert.equal(e.engine.healthCheckFailed, false, 'no refused POST took effect');
  assert.notEqual(e.engine.log.level, 'trace');
  // The same requests with the token, the admin's own Host and Origin do go through.
  const r = await rawAdmin(e, '/stats', { headers: { host, origin, authorization: auth } });
  assert.equal(r.status, 200);
  assert.ok(r.body.includes('cluster.pay.'));
});

test('a GET to a mutation is a 400 and changes nothing, as in Envoy', async () => {
  // admin.rst: "All mutations must be sent as HTTP POST operations. When a mutation is requested via GET,
  // the request has no effect, and an HTTP 400 (Invalid Request) response is returned."
  for (const path of ['/healthcheck/fail', '/healthcheck/ok', '/logging?level=trace', '/logging']) {
    const r = await admin(e, path, 'GET');
    assert.equal(r.status, 400, path);
  }
  assert.equal(e.engine.healthCheckFailed, false);
  assert.notEqual(e.engine.log.level, 'trace');
  assert.equal((await admin(e, '/stats', 'POST')).status, 405, 'a read-only endpoint does not take POST');
  assert.equal((await admin(e, '/no_such_endpoint')).status, 404);
});

test('/ready and POST /healthcheck/fail|ok: LIVE 200, DRAINING 503, back to LIVE', async () => {
  // admin.rst: "/ready … 200 is returned for the LIVE state, and 503 otherwise." Example output: LIVE
  let r = await admin(e, '/ready');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'LIVE\n');
  r = await admin(e, '/healthcheck/fail', 'POST');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'OK\n');
  r = await admin(e, '/ready');
  assert.equal(r.status, 503);
  assert.equal(r.body, 'DRAINING\n');
  assert.equal(JSON.parse((await admin(e, '/server_info')).body).state, 'DRAINING');
  assert.match((await admin(e, '/stats?filter=^server\\.live$')).body, /^server\.live: 0\n$/);
  r = await admin(e, '/healthcheck/ok', 'POST');
  assert.equal(r.body, 'OK\n');
  assert.equal((await admin(e, '/ready')).status, 200);
});

test("/server_info: Envoy's ServerInfo fields", async () => {
  // admin.rst sample: {"version": "b050513e840aa939a01f89b07c162f00ab3150eb/1.9.0-dev/Modified/DEBUG", "state": "LIVE",
  //   "command_line_options": {"base_id": "0", "concurrency": 8, "config_path": "config.yaml", …, "log_level": "info",
  //   "mode": "Serve", …, "drain_time": "600s", "parent_shutdown_time": "900s"},
  //   "uptime_current_epoch": "6s", "uptime_all_epochs": "6s", "node": {"id": "node1", …}}
  const r = await admin(e, '/server_info');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  const j = JSON.parse(r.body);
  assert.match(j.version, /^[^/]+\/\d+\.\d+\.\d+\/Clean\/RELEASE\/[^/]+$/, 'revision/version/status/build type/TLS library');
  assert.equal(j.state, 'LIVE');
  assert.match(j.uptime_current_epoch, /^\d+s$/);
  assert.match(j.uptime_all_epochs, /^\d+s$/);
  assert.equal(typeof j.hot_restart_version, 'string');
  const o = j.command_line_options;
  for (const k of ['base_id', 'concurrency', 'config_path', 'config_yaml', 'log_level', 'log_format', 'mode', 'restart_epoch', 'drain_time', 'parent_shutdown_time', 'file_flush_interval']) {
    assert.ok(k in o, `command_line_options.${k}`);
  }
  assert.equal(o.base_id, '0', 'uint64 as a string in proto3 JSON');
  assert.equal(o.log_level, e.engine.log.level);
  assert.equal(o.config_path, 'test.yaml');
  assert.equal(o.mode, 'Serve');
  assert.match(o.drain_time, /^\d+s$/);
  assert.equal(typeof j.node, 'object');
});

test('POST /logging: lists the loggers, ?level= changes the engine log level, a bad level is a 400', async () => {
  // logs_handler.cc: "active loggers:\n  <name>: <level>\n" per logger; errors: "error: unknown logger level".
  const before = e.engine.log.level;
  let r = await admin(e, '/logging', 'POST');
  assert.equal(r.status, 200);
  assert.equal(r.body, `active loggers:\n  main: ${before}\n\n`);
  r = await admin(e, '/logging?level=debug', 'POST');
  assert.equal(r.status, 200);
  assert.equal(e.engine.log.level, 'debug');
  assert.equal(r.body, 'active loggers:\n  main: debug\n\n');
  r = await admin(e, '/logging?main=warning', 'POST');
  assert.equal(e.engine.log.level, 'warning');
  r = await admin(e, '/logging?paths=main:error', 'POST');
  assert.equal(e.engine.log.level, 'error');
  r = await admin(e, '/logging?level=loud', 'POST');
  assert.equal(r.status, 400);
  assert.match(r.body, /^error: unknown logger level\n\nusage: \/logging\?<name>=<level>/);
  assert.match(r.body, /levels: trace debug info warning error critical off \n/);
  assert.equal(e.engine.log.level, 'error', 'unchanged by a refused change');
  r = await admin(e, '/logging?upstream=debug', 'POST');
  assert.equal(r.status, 400);
  assert.match(r.body, /unknown logger name/);
  e.engine.log.level = before;
});

test('/listeners and /help', async () => {
  const l = await admin(e, '/listeners');
  assert.equal(l.body, `ingress::${e.engine.boundListeners()[0].address}\n`);
  const lj = JSON.parse((await admin(e, '/listeners?format=json')).body);
  assert.deepEqual(lj.listener_statuses[0].local_address.socket_address.address, '127.0.0.1');
  assert.equal(lj.listener_statuses[0].local_address.socket_address.port_value, Number(e.engine.boundListeners()[0].address.split(':')[1]));
  const h = await admin(e, '/help');
  assert.match(h.body, /^admin commands are:\n/);
  for (const p of ['/stats', '/stats/prometheus', '/clusters', '/config_dump', '/ready', '/server_info', '/logging', '/healthcheck/fail']) assert.ok(h.body.includes(`  ${p}`), p);
});

test('route tables: adminRoutes() is a Map, more tables merge in, a path defined twice throws', () => {
  const base = adminRoutes();
  assert.ok(base instanceof Map && base.has('/stats') && base.has('/clusters'));
  const extra = new Map([['/api/v1/ping', { method: 'GET' as const, handle: () => {} }]]);
  const merged = adminRoutes(extra);
  assert.ok(merged.has('/api/v1/ping') && merged.has('/stats'));
  assert.throws(() => mergeAdminRoutes(base, new Map([['/stats', { method: 'GET' as const, handle: () => {} }]])), /defined twice/);
});
