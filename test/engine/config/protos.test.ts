// Envoy's protos as the schema: the root, type URLs (old API versions included), extension names.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extensionNames, scanFile } from '../../../engine/config/extension-names';
import { findType, getEnvoyRoot, lookupTypeUrl } from '../../../engine/config/protos';
import { fieldRules } from '../../../engine/config/rules';
import { fieldFor } from '../../../engine/config/validate';

describe('getEnvoyRoot', () => {
  it('holds Envoy’s v3 API with reserved names, deprecations, PGV rules and comments, loaded once', () => {
    const root = getEnvoyRoot();
    assert.equal(getEnvoyRoot(), root);
    const cluster = root.lookupType('envoy.config.cluster.v3.Cluster');
    assert.ok(cluster.reserved.includes('hosts'));
    assert.ok(cluster.reserved.includes('tls_context'));
    assert.equal(cluster.fields.http2_protocol_options.options?.deprecated, true);
    assert.match(cluster.fields.lb_policy.comment ?? '', /load balancer type/);
    const port = root.lookupType('envoy.config.core.v3.SocketAddress').fields.port_value;
    assert.deepEqual(fieldRules(port), { uint32: { lte: 65535 } });
  });

  it('makes types from protos that are not shipped opaque instead of failing', () => {
    const t = findType('envoy.config.trace.v3.OpenCensusConfig');
    assert.ok(t);
    assert.equal(t.fields.trace_config.type, 'google.protobuf.Value');
  });

  it('resolves relative type names the way protoc does', () => {
    const t = findType('envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig');
    assert.equal(t?.fields.common_config.resolvedType?.fullName, '.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig');
  });

  it('loads Meshdeck’s own peak EWMA policy into the same root', () => {
    const t = findType('meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma');
    assert.deepEqual(Object.keys(t?.fields ?? {}), ['decay_time', 'default_rtt']);
  });

  it('finds fields by proto name and by protobuf JSON name', () => {
    const cluster = getEnvoyRoot().lookupType('envoy.config.cluster.v3.Cluster');
    assert.equal(fieldFor(cluster, 'load_assignment')?.name, 'load_assignment');
    assert.equal(fieldFor(cluster, 'loadAssignment')?.name, 'load_assignment');
    assert.equal(fieldFor(cluster, 'http2ProtocolOptions')?.name, 'http2_protocol_options');
    assert.equal(fieldFor(cluster, 'LoadAssignment'), undefined);
  });
});

describe('lookupTypeUrl', () => {
  it('reads the name after the last slash', () => {
    const r = lookupTypeUrl('type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
    assert.equal(r?.name, 'envoy.extensions.filters.http.router.v3.Router');
    assert.equal(r?.legacyName, undefined);
    assert.equal(lookupTypeUrl('example.com/x/envoy.extensions.filters.http.router.v3.Router')?.name, 'envoy.extensions.filters.http.router.v3.Router');
  });

  it('maps v2, v2alpha and v3alpha names to their v3 successors', () => {
    assert.deepEqual(
      [
        'type.googleapis.com/envoy.config.filter.http.router.v2.Router',
        'type.googleapis.com/envoy.config.filter.http.jwt_authn.v2alpha.JwtAuthentication',
        'type.googleapis.com/envoy.extensions.filters.http.router.v3alpha.Router',
      ].map((u) => [lookupTypeUrl(u)?.name, lookupTypeUrl(u)?.legacyName]),
      [
        ['envoy.extensions.filters.http.router.v3.Router', 'envoy.config.filter.http.router.v2.Router'],
        ['envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', 'envoy.config.filter.http.jwt_authn.v2alpha.JwtAuthentication'],
        ['envoy.extensions.filters.http.router.v3.Router', 'envoy.extensions.filters.http.router.v3alpha.Router'],
      ],
    );
  });

  it('knows both TypedStruct wrappers and nothing that does not exist', () => {
    assert.equal(lookupTypeUrl('type.googleapis.com/udpa.type.v1.TypedStruct')?.name, 'udpa.type.v1.TypedStruct');
    assert.equal(lookupTypeUrl('type.googleapis.com/xds.type.v3.TypedStruct')?.name, 'xds.type.v3.TypedStruct');
    assert.equal(lookupTypeUrl('type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr'), undefined);
    assert.equal(lookupTypeUrl(''), undefined);
  });
});

describe('extension names', () => {
  it('maps [#extension: …] names to their config messages', () => {
    const { byName, byType } = extensionNames();
    assert.equal(byName.get('envoy.filters.http.router'), 'envoy.extensions.filters.http.router.v3.Router');
    assert.equal(byName.get('envoy.filters.network.http_connection_manager'), 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
    assert.equal(byName.get('envoy.filters.http.rbac'), 'envoy.extensions.filters.http.rbac.v3.RBAC');
    assert.equal(byName.get('envoy.filters.http.fault'), 'envoy.extensions.filters.http.fault.v3.HTTPFault');
    assert.equal(byName.get('envoy.filters.http.jwt_authn'), 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication');
    assert.equal(byName.get('envoy.access_loggers.stderr'), 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog');
    assert.equal(byName.get('meshdeck.load_balancing_policies.peak_ewma'), 'meshdeck.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma');
    assert.deepEqual(byType.get('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog'), ['envoy.access_loggers.stdout']);
  });

  it('skips component messages and per-route wrappers', () => {
    const text = [
      'package p.v3;',
      '// [#extension: p.filter]',
      'message Part {',
      '  string x = 1;',
      '}',
      'message FilterPerRoute {',
      '  Filter filter = 1;',
      '}',
      'message Filter {',
      '  Part part = 1;',
      '  repeated q.v3.Filter other = 2;',
      '}',
      '',
    ].join('\n');
    assert.deepEqual(scanFile(text), [['p.filter', 'p.v3.Filter']]);
  });
});
