// GET /clusters and /clusters?format=json in Envoy's formats, with live per-host stats.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { indent } from '../../helpers/engine';
import { admin, closedPort, mixedEngine, mixedTraffic, type MixedSetup } from './helpers';

let m: MixedSetup;
let geoPort: number;
let downPort: number;

before(async () => {
  geoPort = await closedPort();
  downPort = await closedPort();
  const geo = `
- name: geo
  type: STATIC
  connect_timeout: 1s
  circuit_breakers: { thresholds: [{ max_connections: 7, max_pending_requests: 8, max_requests: 9, max_retries: 2 }] }
  load_assignment:
    cluster_name: geo
    endpoints:
    - locality: { region: eu-west-1, zone: eu-west-1a, sub_zone: rack7 }
      lb_endpoints:
      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${geoPort} } }, hostname: pay-1.internal }
        load_balancing_weight: 5
    - priority: 1
      lb_endpoints:
      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${downPort} } } }
        health_status: UNHEALTHY
`;
  m = await mixedEngine(`${indent(geo, 0)}\n`);
  await mixedTraffic(m.e, 200);
});
after(() => m.stop());

test('text: Envoy\'s cluster-wide lines, then per host "cluster::host:port::stat::value" with the stats sorted', async () => {
  // Envoy's format (admin.rst, clusters_handler.cc), e.g.
  //   payments::default_priority::max_connections::1024
  //   payments::added_via_api::false
  //   payments::127.0.0.1:8080::cx_active::0   … ::rq_total::N
  //   payments::127.0.0.1:8080::hostname::
  //   payments::127.0.0.1:8080::health_flags::healthy
  //   payments::127.0.0.1:8080::weight::1
  const r = await admin(m.e, '/clusters');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  const lines = r.body.trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^[\w.-]+::[^:]+(::[^:]+)?(:\d+)?::[\w.]+(::.*)?$/, l);
  const pay = lines.filter((l) => l.startsWith('payments::'));
  const okAddr = `127.0.0.1:${m.ok.port}`;
  assert.deepEqual(pay.slice(0, 10), [
    'payments::observability_name::payments',
    'payments::default_priority::max_connections::1024',
    'payments::default_priority::max_pending_requests::1024',
    'payments::default_priority::max_requests::1024',
    'payments::default_priority::max_retries::3',
    'payments::high_priority::max_connections::1024',
    'payments::high_priority::max_pending_requests::1024',
    'payments::high_priority::max_requests::1024',
    'payments::high_priority::max_retries::3',
    'payments::added_via_api::false',
  ]);
  const host = pay.filter((l) => l.startsWith(`payments::${okAddr}::`)).map((l) => l.slice(`payments::${okAddr}::`.length));
  const okStats = m.e.engine.snapshot!.clusters.get('payments')!.hosts[0].stats;
  assert.deepEqual(host, [
    `cx_active::${host[0].split('::')[1]}`,
    'cx_connect_fail::0',
    `cx_total::${okStats.cx_total.value}`,
    'rq_active::0',
    'rq_error::0',
    `rq_success::${m.ok.hits}`,
    'rq_timeout::0',
    `rq_total::${m.ok.hits}`,
    'hostname::',
    'health_flags::healthy',
    'weight::1',
    'region::',
    'zone::',
    'sub_zone::',
    'canary::false',
    'priority::0',
    'success_rate::-1',
    'local_origin_success_rate::-1',
  ]);
  assert.ok(Number(host[0].split('::')[1]) >= 1, 'the ok host has a connection open');
  assert.ok(m.ok.hits > 0);
  const bad = `payments::127.0.0.1:${m.bad.port}::`;
  assert.ok(lines.includes(`${bad}rq_error::${m.bad.hits}`));
  const dead = lines.find((l) => l.startsWith('dead::') && l.includes('::cx_connect_fail::'))!;
  assert.ok(Number(dead.split('::').at(-1)) > 0, dead);
  const slow = lines.find((l) => l.startsWith('slow::') && l.includes('::rq_timeout::'))!;
  assert.ok(Number(slow.split('::').at(-1)) > 0, slow);
});

test('text: thresholds, hostname, weight, locality, priority and EDS health come from the config', async () => {
  const lines = (await admin(m.e, '/clusters')).body.split('\n');
  const g = `geo::127.0.0.1:${geoPort}::`;
  const d = `geo::127.0.0.1:${downPort}::`;
  for (const want of [
    'geo::default_priority::max_connections::7',
    'geo::default_priority::max_pending_requests::8',
    'geo::default_priority::max_requests::9',
    'geo::default_priority::max_retries::2',
    `${g}hostname::pay-1.internal`,
    `${g}health_flags::healthy`,
    `${g}weight::5`,
    `${g}region::eu-west-1`,
    `${g}zone::eu-west-1a`,
    `${g}sub_zone::rack7`,
    `${g}priority::0`,
    `${d}health_flags::/failed_eds_health`,
    `${d}priority::1`,
  ]) {
    assert.ok(lines.includes(want), `missing line ${want}`);
  }
});

test('?format=json: envoy.admin.v3.Clusters in proto3 JSON (defaults left out, 64-bit values as strings)', async () => {
  // Envoy's shape: {cluster_statuses:[{name, host_statuses:[{address:{socket_address:{address,port_value}},
  //   stats:[{name:"cx_connect_fail"}, {value:"2", name:"cx_total"}, …, {type:"GAUGE", name:"cx_active"}, …],
  //   health_status:{eds_health_status:"HEALTHY"}, weight, locality:{…}}], circuit_breakers:{thresholds:[…]}}]}
  const r = await admin(m.e, '/clusters?format=json');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  const j = JSON.parse(r.body);
  assert.deepEqual(
    j.cluster_statuses.map((c: { name: string }) => c.name),
    ['payments', 'slow', 'dead', 'geo'],
  );
  const pay = j.cluster_statuses[0];
  assert.deepEqual(pay.circuit_breakers, {
    thresholds: [
      { max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
      { priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
    ],
  });
  assert.equal(pay.added_via_api, undefined, 'false is the default: left out');
  const ok = pay.host_statuses[0];
  assert.deepEqual(ok.address, { socket_address: { address: '127.0.0.1', port_value: m.ok.port } });
  assert.deepEqual(ok.health_status, { eds_health_status: 'HEALTHY' });
  assert.equal(ok.weight, 1);
  assert.deepEqual(ok.locality, {});
  assert.equal(ok.priority, undefined);
  assert.equal(ok.hostname, undefined);
  const names = ok.stats.map((s: { name: string }) => s.name);
  assert.deepEqual(names, ['cx_connect_fail', 'cx_total', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total', 'cx_active', 'rq_active']);
  const stat = (n: string) => ok.stats.find((s: { name: string }) => s.name === n);
  assert.deepEqual(stat('rq_success'), { value: String(m.ok.hits), name: 'rq_success' });
  assert.deepEqual(stat('rq_error'), { name: 'rq_error' }, 'a zero value is left out');
  assert.equal(stat('cx_active').type, 'GAUGE');
  assert.equal(stat('rq_total').type, undefined, 'COUNTER is the default type: left out');
  const geo = j.cluster_statuses[3];
  const [g, d] = geo.host_statuses;
  assert.deepEqual(g.locality, { region: 'eu-west-1', zone: 'eu-west-1a', sub_zone: 'rack7' });
  assert.equal(g.weight, 5);
  assert.equal(g.hostname, 'pay-1.internal');
  assert.deepEqual(d.health_status, { eds_health_status: 'UNHEALTHY' });
  assert.equal(d.priority, 1);
  assert.equal(geo.circuit_breakers.thresholds[0].max_connections, 7);
});
