// Access-log formats are checked when the config is loaded: an unknown or malformed operator is
// an error located at the format string (path, line, column) with Envoy's message; valid
// formats load cleanly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../engine/config/load';
import type { Diagnostic } from '../../../engine/config/model';

function config(accessLog: string): string {
  const lines = [
    'static_resources:',
    '  listeners:',
    '  - name: l',
    '    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }',
    '    filter_chains:',
    '    - filters:',
    '      - name: envoy.filters.network.http_connection_manager',
    '        typed_config:',
    '          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    '          stat_prefix: x',
    ...accessLog.split('\n').map((l) => `          ${l}`),
    '          route_config:',
    '            virtual_hosts:',
    '            - name: a',
    '              domains: ["*"]',
    '              routes:',
    '              - match: { prefix: / }',
    '                direct_response: { status: 200 }',
    '          http_filters:',
    '          - name: envoy.filters.http.router',
    '            typed_config:',
    '              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
    '  clusters: []',
  ];
  return lines.join('\n');
}

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';

async function errors(text: string): Promise<Diagnostic[]> {
  const r = await loadConfig(text, { sourceName: 'test.yaml' });
  return r.diagnostics.filter((d) => d.severity === 'error');
}

test('an unknown operator in text_format_source is an error at the format string’s line and column', async () => {
  const text = config(
    [
      'access_log:',
      '- name: envoy.access_loggers.file',
      '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      '    path: /tmp/meshdeck-test.log',
      '    log_format:',
      '      text_format_source:',
      '        inline_string: "[%START_TIME%] %RESPONSE_CODEZ% %BYTES_SENT%\\n"',
    ].join('\n'),
  );
  const errs = await errors(text);
  assert.equal(errs.length, 1, JSON.stringify(errs));
  const d = errs[0];
  assert.equal(d.code, 'invalid_access_log_format');
  assert.equal(d.path, `${HCM}.access_log[0].typed_config.log_format.text_format_source.inline_string`);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes('inline_string:')) + 1;
  assert.equal(d.line, line);
  assert.equal(d.column, lines[line - 1].indexOf('"') + 1, 'points at the string');
  assert.match(d.message, /^Not supported field in StreamInfo: RESPONSE_CODEZ \(at offset 15 of the format, operator %RESPONSE_CODEZ%\)$/);
  assert.equal(d.suggestion, 'did you mean %RESPONSE_CODE%?');
});

test('json_format, the stdout logger and the legacy format field are checked too', async () => {
  const text = config(
    [
      'access_log:',
      '- name: envoy.access_loggers.stdout',
      '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      '    log_format:',
      '      json_format:',
      '        status: "%RESPONSE_CODE%"',
      '        nested:',
      '          bad: "%REQ%"',
      '- name: envoy.access_loggers.file',
      '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      '    path: /tmp/x.log',
      '    format: "%DURATION(5)%\\n"',
    ].join('\n'),
  );
  const errs = await errors(text);
  assert.deepEqual(
    errs.map((d) => [d.path, d.message]),
    [
      [`${HCM}.access_log[0].typed_config.log_format.json_format["nested"]["bad"]`, 'REQ requires parameters (at offset 0 of the format, operator %REQ%)'],
      [`${HCM}.access_log[1].typed_config.format`, 'DURATION does not take any parameters or length (at offset 0 of the format, operator %DURATION%)'],
    ],
  );
  for (const d of errs) assert.ok(d.line > 10, `located: line ${d.line}`);
});

test('valid formats with many operators load without errors', async () => {
  const fmt =
    '[%START_TIME(%Y-%m-%dT%H:%M:%S.%3f%z)%] "%REQ(:METHOD)% %PATH(NQ)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG% ' +
    '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %REQUEST_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION% %UPSTREAM_HOST% ' +
    '%UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %UPSTREAM_TRANSPORT_FAILURE_REASON% %UPSTREAM_REQUEST_ATTEMPT_COUNT% ' +
    '%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_ADDRESS% %REQUESTED_SERVER_NAME% ' +
    '%ROUTE_NAME% %HOSTNAME% %ENVIRONMENT(HOME):10% %TRAILER(grpc-status)% %RESPONSE_CODE_DETAILS% %REQ(X-A?X-B):8% 100%%\n';
  const text = config(
    [
      'access_log:',
      '- name: envoy.access_loggers.stderr',
      '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog',
      '    log_format:',
      `      text_format_source: { inline_string: ${JSON.stringify(fmt)} }`,
      '- name: envoy.access_loggers.file',
      '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      '    path: /dev/stdout',
      '    log_format:',
      '      omit_empty_values: true',
      '      json_format: { code: "%RESPONSE_CODE%", n: 1, b: true, l: ["%PROTOCOL%", 2] }',
    ].join('\n'),
  );
  const r = await loadConfig(text, { sourceName: 'test.yaml' });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(r.ok);
});

test('an access logger Meshdeck does not run is not checked (it was warned about)', async () => {
  const text = config(
    [
      'access_log:',
      '- name: envoy.access_loggers.http_grpc',
      '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig',
      '    common_config: { log_name: x, transport_api_version: V3, grpc_service: { envoy_grpc: { cluster_name: c } } }',
    ].join('\n'),
  );
  const r = await loadConfig(text, { sourceName: 'test.yaml' });
  assert.ok(!r.diagnostics.some((d) => d.code === 'invalid_access_log_format'));
  assert.ok(r.diagnostics.some((d) => d.code === 'unsupported_extension' && d.severity === 'warning'));
});
