// GET /config_dump: Envoy's ConfigDump shape, and secrets never leave the engine.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, startEngine, staticCluster, type RunningEngine } from '../../helpers/engine';
import { admin } from './helpers';
import { configDump, durationJson } from '../../../engine/admin/envoy/config-dump';

// Secrets planted in the config; none may appear in any /config_dump answer.
const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-SECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----';
const PASSWORD = 'hunter2-password';
const SECRET_BYTES = Buffer.from('secret-bytes-of-the-static-secret').toString('base64');
const SECRET_FILE = '/etc/meshdeck/keys/server.key';
const SESSION_KEY = Buffer.from('x'.repeat(80)).toString('base64');
const PLANTED = [PRIVATE_KEY, 'SECRET-KEY-MATERIAL', PASSWORD, SECRET_BYTES, SECRET_FILE, SESSION_KEY];

const TLS_CLUSTER = `
- name: psp
  type: STATIC
  connect_timeout: 0.25s
  load_assignment:
    cluster_name: psp
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9443 } } } }] }]
  transport_socket:
    name: envoy.transport_sockets.tls
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
      sni: psp.example
      common_tls_context:
        tls_certificates:
        - certificate_chain: { inline_string: "PUBLIC CERT" }
          private_key: { inline_string: ${JSON.stringify(PRIVATE_KEY)} }
          password: { inline_string: ${PASSWORD} }
`;

const SECRETS = `
  secrets:
  - name: server_cert
    tls_certificate:
      certificate_chain: { filename: /etc/meshdeck/certs/server.crt }
      private_key: { filename: ${SECRET_FILE} }
  - name: raw
    generic_secret:
      secret: { inline_bytes: ${SECRET_BYTES} }
  - name: tickets
    session_ticket_keys:
      keys: [{ inline_bytes: ${SESSION_KEY} }]
`;

let e: RunningEngine;
let warnings: string[];

before(async () => {
  let yaml = bootstrap({
    routes: '- match: { prefix: "/" }\n  route: { cluster: pay, timeout: 1.5s }',
    clusters: staticCluster('pay', [{ port: 9 }]) + TLS_CLUSTER,
  });
  // static_resources.secrets sits beside clusters.
  yaml = yaml.replace(/\n {2}clusters:\n/, `\n${SECRETS.replace(/^\n/, '')}\n  clusters:\n`);
  e = await startEngine(yaml);
  warnings = e.engine.snapshot!.warnings.map((w) => `${w.path}: ${w.message}`);
});
after(() => e.stop());

test('the TLS config loads (TLS is a warning for now), so the dump has secrets to hide', () => {
  assert.ok(warnings.some((w) => w.includes('transport_socket') && /not run by Meshdeck/.test(w)), warnings.join('\n'));
  assert.ok(e.engine.snapshot!.text.includes('SECRET-KEY-MATERIAL'), 'the running config does hold the key');
});

test('no secret appears anywhere in /config_dump, in any of its forms', async () => {
  for (const q of ['', '?include_eds', '?resource=static_clusters', '?resource=static_secrets', '?resource=static_clusters&name_regex=psp']) {
    const r = await admin(e, `/config_dump${q}`);
    assert.equal(r.status, 200, q);
    for (const s of PLANTED) assert.ok(!r.body.includes(s) && !r.body.includes(JSON.stringify(s).slice(1, -1)), `${q || '(all)'} leaks ${s.slice(0, 24)}…`);
    assert.ok(r.body.includes('[redacted]') || r.body.includes('W3JlZGFjdGVkXQ=='), q);
  }
});

test('sensitive fields are redacted as Envoy does: text "[redacted]", bytes base64("[redacted]")', async () => {
  const j = JSON.parse((await admin(e, '/config_dump')).body);
  const clusters = j.configs.find((c: { '@type': string }) => c['@type'].endsWith('ClustersConfigDump'));
  const psp = clusters.static_clusters.find((c: { cluster: { name: string } }) => c.cluster.name === 'psp').cluster;
  const tls = psp.transport_socket.typed_config;
  assert.equal(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.equal(tls.sni, 'psp.example', 'what is not sensitive stays');
  const cert = tls.common_tls_context.tls_certificates[0];
  assert.deepEqual(cert.certificate_chain, { inline_string: 'PUBLIC CERT' }, 'a certificate chain is public');
  assert.deepEqual(cert.private_key, { inline_string: '[redacted]' });
  assert.deepEqual(cert.password, { inline_string: '[redacted]' });
  const secrets = j.configs.find((c: { '@type': string }) => c['@type'].endsWith('SecretsConfigDump')).static_secrets;
  const byName = Object.fromEntries(secrets.map((s: { name: string; secret: unknown }) => [s.name, s.secret]));
  assert.deepEqual(byName.server_cert.tls_certificate.private_key, { filename: '[redacted]' }, 'everything under a sensitive field, even a file name');
  assert.deepEqual(byName.server_cert.tls_certificate.certificate_chain, { filename: '/etc/meshdeck/certs/server.crt' });
  assert.deepEqual(byName.raw.generic_secret.secret, { inline_bytes: Buffer.from('[redacted]').toString('base64') });
  assert.deepEqual(byName.tickets.session_ticket_keys.keys, [{ inline_bytes: 'W3JlZGFjdGVkXQ==' }]);
  assert.equal(byName.raw['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret');
});

test("shape: envoy.admin.v3.ConfigDump with Envoy's sections in Envoy's order", async () => {
  // Envoy (admin.rst, config_dump.proto): {"configs": [{"@type": "…BootstrapConfigDump", "bootstrap": {…},
  //   "last_updated": "…"}, {"@type": "…ClustersConfigDump", "static_clusters": [{"cluster": {"@type":
  //   "…envoy.config.cluster.v3.Cluster", …}, "last_updated": "…"}]}, {"@type": "…ListenersConfigDump",
  //   "static_listeners": [{"listener": {…}, "last_updated": "…"}]}, …ScopedRoutes…, …Routes…, …Secrets…]}
  const r = await admin(e, '/config_dump');
  assert.equal(r.headers['content-type'], 'application/json');
  const j = JSON.parse(r.body);
  assert.deepEqual(
    j.configs.map((c: { '@type': string }) => c['@type']),
    ['Bootstrap', 'Clusters', 'Listeners', 'ScopedRoutes', 'Routes', 'Secrets'].map((s) => `type.googleapis.com/envoy.admin.v3.${s}ConfigDump`),
  );
  const [boot, clusters, listeners, , routes] = j.configs;
  assert.equal(boot.bootstrap.static_resources.clusters.length, 2);
  assert.match(boot.last_updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(
    clusters.static_clusters.map((c: { cluster: { '@type': string; name: string } }) => [c.cluster['@type'], c.cluster.name]),
    [
      ['type.googleapis.com/envoy.config.cluster.v3.Cluster', 'pay'],
      ['type.googleapis.com/envoy.config.cluster.v3.Cluster', 'psp'],
    ],
  );
  const pay = clusters.static_clusters[0].cluster;
  assert.equal(pay.connect_timeout, '1s', 'durations in proto3 JSON');
  assert.equal(clusters.static_clusters[1].cluster.connect_timeout, '0.250s');
  assert.equal(pay.type, 'STATIC', 'a oneof member is shown even at its default');
  assert.equal(pay.load_assignment.endpoints[0].priority, undefined, 'proto3 JSON leaves out a scalar at its default');
  assert.equal(listeners.static_listeners[0].listener['@type'], 'type.googleapis.com/envoy.config.listener.v3.Listener');
  assert.equal(listeners.static_listeners[0].listener.name, 'ingress');
  const hcm = listeners.static_listeners[0].listener.filter_chains[0].filters[0].typed_config;
  assert.equal(hcm['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(hcm.route_config.virtual_hosts[0].routes[0].route.timeout, '1.500s');
  assert.equal(routes.static_route_configs[0].route_config['@type'], 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration');
  assert.equal(routes.static_route_configs[0].route_config.name, 'local');
});

test('?resource= lists the entries of one repeated field, ?name_regex= filters them by name; ?mask= is refused', async () => {
  const j = JSON.parse((await admin(e, '/config_dump?resource=static_clusters&name_regex=^ps')).body);
  assert.equal(j.configs.length, 1);
  assert.equal(j.configs[0]['@type'], 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster');
  assert.equal(j.configs[0].cluster.name, 'psp');
  assert.equal((await admin(e, '/config_dump?mask=cluster.name')).status, 400);
  assert.equal((await admin(e, '/config_dump?resource=nope')).status, 400);
  const eds = JSON.parse((await admin(e, '/config_dump?include_eds')).body);
  const endpoints = eds.configs.find((c: { '@type': string }) => c['@type'].endsWith('EndpointsConfigDump'));
  assert.equal(endpoints.static_endpoint_configs[0].endpoint_config.cluster_name, 'pay');
});

test('durations as proto3 JSON and redaction through nested typed configs (unit)', () => {
  assert.equal(durationJson(5000), '5s');
  assert.equal(durationJson(250), '0.250s');
  assert.equal(durationJson(1000.5), '1.000500s');
  assert.equal(durationJson(0), '0s');
  const dump = configDump(
    {
      static_resources: {
        listeners: [
          {
            name: 'tls',
            filter_chains: [
              {
                transport_socket: {
                  name: 'envoy.transport_sockets.tls',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
                    common_tls_context: { tls_certificates: [{ private_key: { inline_string: 'K' }, certificate_chain: { inline_string: 'C' } }] },
                  },
                },
              },
            ],
          },
        ],
      },
    },
    '2024-01-01T00:00:00.000Z',
  );
  const text = JSON.stringify(dump);
  assert.ok(text.includes('"private_key":{"inline_string":"[redacted]"}'), text);
  assert.ok(text.includes('"certificate_chain":{"inline_string":"C"}'));
});
