// The formatter beyond Envoy's corpus vectors: parse errors with operator and offset, START_TIME's
// strftime conversions, JSON typing and omit_empty_values, addresses, flags, the default format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  compileJsonFormat,
  compileTextFormat,
  DEFAULT_FORMAT,
  FormatError,
  formatResponseFlagsLong,
} from '../../../engine/observe/access-log/formatter';
import { compileLoggerFormat, AccessLogConfigError } from '../../../engine/observe/access-log/config';
import { ResponseFlag } from '../../../engine/observe/response-flags';
import { emptyInfo } from './helpers';

const fmt = (format: string, info = emptyInfo(), omit = false) => compileTextFormat(format, { omitEmptyValues: omit, env: {} })(info);

function formatError(format: string): FormatError {
  try {
    compileTextFormat(format, { env: {} });
  } catch (e) {
    assert.ok(e instanceof FormatError, `expected a FormatError for ${JSON.stringify(format)}, got ${String(e)}`);
    return e;
  }
  assert.fail(`format ${JSON.stringify(format)} was accepted`);
}

test('an unknown operator is a FormatError naming the operator and its offset, with Envoy’s message', () => {
  const e = formatError('abc %PROTOCOL% %FOO_BAR(x):3% tail');
  assert.equal(e.message, 'Not supported field in StreamInfo: FOO_BAR');
  assert.equal(e.operator, 'FOO_BAR');
  assert.equal(e.offset, 15);
});

test('malformed operators are rejected as Envoy rejects them', () => {
  const cases: Array<[string, RegExp]> = [
    ['%REQ%', /REQ requires parameters/],
    ['%REQ()%', /REQ requires parameters/],
    ['%PROTOCOL(x)%', /PROTOCOL does not take any parameters or length/],
    ['%PROTOCOL%:3', /^$|.*/], // a ':3' after the closing '%' is plain text: accepted (checked below)
    ['%BYTES_SENT:4%', /BYTES_SENT does not take any parameters or length/],
    ['%START_TIME(%Y):4%', /START_TIME does not allow length to be specified/],
    ['%REQ(a?b?c)%', /More than 1 alternative header specified in token: a\?b\?c/],
    ['%ENVIRONMENT()%', /ENVIRONMENT requires parameters/],
    ['%PATH(A)%', /Invalid PATH option: 'A'/],
    ['%PATH(NQ:B)%', /Invalid PATH option: 'B'/],
    ['%FILTER_STATE(:PLAIN)%', /key cannot be empty/],
    ['%FILTER_STATE(k:FIELD)%', /FIELD should be used with the field name/],
    ['%START_TIME(%Y%n)%', /contains newline/],
    ['%COMMON_DURATION(DS_RX_BEG)%', /Invalid common duration configuration/],
    ['%GRPC_STATUS(FOO)%', /only supports CAMEL_STRING, SNAKE_STRING or NUMBER/],
    ['%COALESCE({})%', /Meshdeck does not support/],
    ['100%', /Couldn't find valid command at position 3/],
    ['%req(x)%', /Couldn't find valid command at position 0/],
  ];
  for (const [format, re] of cases) {
    if (format === '%PROTOCOL%:3') {
      assert.equal(fmt(format, emptyInfo({ protocol: 'HTTP/1.1' })), 'HTTP/1.1:3');
      continue;
    }
    assert.match(formatError(format).message, re, format);
  }
});

test('%% is a literal percent, also next to operators', () => {
  assert.equal(fmt('100%% %RESPONSE_CODE%%%', emptyInfo({ responseCode: 200 })), '100% 200%');
});

test('the default format is Envoy’s, and a logger without a format uses it', () => {
  const corpus = JSON.parse(readFileSync(new URL('../../../../shared/corpus/accesslog/cases.json', import.meta.url), 'utf8')) as {
    cases: Array<{ id: string; format: unknown }>;
  };
  const docs = corpus.cases.find((c) => c.id === 'docs_default_format');
  assert.ok(docs, 'docs_default_format case missing');
  assert.equal(DEFAULT_FORMAT, docs.format);
  const info = emptyInfo({
    startTimeMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    method: 'GET',
    originalPath: '/pay?x=1',
    protocol: 'HTTP/1.1',
    authority: 'shop',
    responseCode: 200,
    bytesReceived: 3,
    bytesSent: 12,
    lastDownstreamTxMono: 1000 + 42.9,
    requestHeaders: { 'user-agent': 'curl/8', 'x-request-id': 'rid' },
    responseHeaderList: ['x-envoy-upstream-service-time', '7'],
    upstreamHost: '10.0.0.1:8080',
  });
  const expected = '[2024-01-02T03:04:05.678Z] "GET /pay?x=1 HTTP/1.1" 200 - 3 12 42 7 "-" "curl/8" "rid" "shop" "10.0.0.1:8080"\n';
  assert.equal(compileLoggerFormat({ path: '/dev/null' })(info), expected);
  assert.equal(compileLoggerFormat({ path: '/dev/null', format: '' })(info), expected, 'an empty legacy format is the default');
  assert.equal(compileLoggerFormat({ log_format: { omit_empty_values: false } })(info), expected, 'a log_format without a format is the default');
});

test('log_format variants: text_format, text_format_source (inline_string, inline_bytes), json_format, legacy format/json_format/typed_json_format', () => {
  const info = emptyInfo({ responseCode: 503, protocol: 'HTTP/1.1' });
  assert.equal(compileLoggerFormat({ log_format: { text_format: '%RESPONSE_CODE%\n' } })(info), '503\n');
  assert.equal(compileLoggerFormat({ log_format: { text_format_source: { inline_string: 'a %RESPONSE_CODE%\n' } } })(info), 'a 503\n');
  assert.equal(compileLoggerFormat({ log_format: { text_format_source: { inline_bytes: Buffer.from('b %PROTOCOL%').toString('base64') } } })(info), 'b HTTP/1.1');
  assert.equal(compileLoggerFormat({ log_format: { json_format: { c: '%RESPONSE_CODE%' } } })(info), '{"c":503}\n');
  assert.equal(compileLoggerFormat({ format: 'legacy %RESPONSE_CODE%' })(info), 'legacy 503');
  assert.equal(compileLoggerFormat({ json_format: { c: '%RESPONSE_CODE%' } })(info), '{"c":503}\n');
  assert.equal(compileLoggerFormat({ typed_json_format: { c: '%RESPONSE_CODE%' } })(info), '{"c":503}\n');
  assert.equal(compileLoggerFormat({ log_format: { text_format: '[%REQ(X)%]', omit_empty_values: true } })(info), '[]');
  assert.equal(
    compileLoggerFormat({ log_format: { text_format_source: { environment_variable: 'FMT' } } }, { env: { FMT: 'env %RESPONSE_CODE%' } })(info),
    'env 503',
  );
});

test('a bad format inside a logger config is located by its field (and JSON key path)', () => {
  const locate = (config: Record<string, unknown>) => {
    try {
      compileLoggerFormat(config);
    } catch (e) {
      assert.ok(e instanceof AccessLogConfigError);
      return e.field;
    }
    assert.fail('accepted');
  };
  assert.equal(locate({ log_format: { text_format_source: { inline_string: '%NOPE%' } } }), 'log_format.text_format_source.inline_string');
  assert.equal(locate({ log_format: { json_format: { a: { b: ['ok', '%NOPE%'] } } } }), 'log_format.json_format["a"]["b"][1]');
  assert.equal(locate({ format: 'x %NOPE%' }), 'format');
  assert.equal(locate({ log_format: { text_format_source: { filename: '/nonexistent/format.txt' } } }), 'log_format.text_format_source.filename');
});

test('START_TIME: strftime conversions, Envoy’s %s and %Nf, absl’s %E#S, in UTC', () => {
  // 2018-03-28T23:35:58.123456Z, a Wednesday, day 87 of the year.
  const us = Date.UTC(2018, 2, 28, 23, 35, 58) * 1000 + 123456;
  const info = emptyInfo({ startTimeUs: us, startTimeMs: Math.floor(us / 1000) });
  assert.equal(fmt('%START_TIME%', info), '2018-03-28T23:35:58.123Z');
  assert.equal(fmt('%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ)%', info), '2018-03-28T23:35:58.123Z');
  assert.equal(fmt('%START_TIME(%a %A %b %B %d %e %j %y %C %p %I %u %w)%', info), 'Wed Wednesday Mar March 28 28 087 18 20 PM 11 3 3');
  assert.equal(fmt('%START_TIME(%F %T|%D|%R|%E3S|%E6S|%E*S|%Ez|%z|%Z|%s|%9f|%1f)%', info), '2018-03-28 23:35:58|03/28/18|23:35|58.123|58.123456|58.123456|+00:00|+0000|UTC|1522280158|123456000|1');
  assert.equal(fmt('%START_TIME(%U %W %V %G)%', info), '12 13 13 2018');
  assert.equal(fmt('%START_TIME(no conversions)%', info), 'no conversions');
  // Without µs, the fraction comes from the millisecond start time.
  assert.equal(fmt('%START_TIME(%s.%6f)%', emptyInfo({ startTimeMs: 1522796769123 })), '1522796769.123000');
});

test('durations are whole milliseconds, unset when the moment was not reached', () => {
  const info = emptyInfo({ startMono: 100, lastDownstreamRxMono: 103.9, firstUpstreamRxMono: 150.2, lastDownstreamTxMono: 170.99 });
  assert.equal(fmt('%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION% %COMMON_DURATION(DS_RX_BEG:US_RX_BEG:us)%', info), '70 3 50 20 50200');
  assert.equal(fmt('%REQUEST_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION% %REQUEST_TX_DURATION%', emptyInfo({ lastDownstreamTxMono: 1005 })), '- - - -');
  assert.equal(compileJsonFormat({ d: '%RESPONSE_DURATION%', t: '%DURATION%' })(emptyInfo({ lastDownstreamTxMono: 1005 })), '{"d":null,"t":5}\n');
});

test('response flags short and long, response code 0 when none, details without spaces', () => {
  const info = emptyInfo({ responseFlags: ResponseFlag.UpstreamConnectionFailure | ResponseFlag.UpstreamRetryLimitExceeded | ResponseFlag.OverloadManager });
  assert.equal(fmt('%RESPONSE_FLAGS%|%RESPONSE_FLAGS_LONG%|%RESPONSE_CODE%', info), 'UF,URX,OM|UpstreamConnectionFailure,UpstreamRetryLimitExceeded,OverloadManagerTerminated|0');
  assert.equal(formatResponseFlagsLong(0), '-');
  assert.equal(fmt('%RESPONSE_FLAGS%', emptyInfo()), '-');
  const d = emptyInfo({ responseCodeDetails: 'upstream reset\tbefore', upstreamTransportFailureReason: 'delayed connect error: 111' });
  assert.equal(fmt('%RESPONSE_CODE_DETAILS%|%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%|%UPSTREAM_TRANSPORT_FAILURE_REASON%', d), 'upstream_reset_before|upstream reset\tbefore|delayed_connect_error:_111');
});

test('addresses: with and without port, just the port, IPv6 in brackets', () => {
  const info = emptyInfo({ downstreamRemoteAddress: '::1:51000', downstreamLocalAddress: '127.0.0.1:10000', upstreamHost: '10.1.2.3:443' });
  assert.equal(fmt('%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_REMOTE_PORT%', info), '[::1]:51000|::1|51000');
  assert.equal(fmt('%DOWNSTREAM_LOCAL_ADDRESS%|%DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_LOCAL_PORT%', info), '127.0.0.1:10000|127.0.0.1|10000');
  assert.equal(fmt('%UPSTREAM_HOST%|%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%UPSTREAM_REMOTE_PORT%|%UPSTREAM_LOCAL_ADDRESS%', info), '10.1.2.3:443|10.1.2.3|443|-');
  assert.equal(compileJsonFormat({ p: '%DOWNSTREAM_REMOTE_PORT%', u: '%UPSTREAM_LOCAL_PORT%' })(info), '{"p":51000,"u":null}\n');
});

test('request facts: pseudo-headers, header fallback and truncation, PATH, QUERY_PARAM, names', () => {
  const info = emptyInfo({
    method: 'POST',
    originalPath: '/v1/charge?amount=10%2E5&x',
    authority: 'api.local',
    requestHeaders: { 'x-forwarded-for': '10.0.0.9', 'set-cookie': ['a=1', 'b=2'] },
    routeName: 'charge',
    clusterName: 'payments',
    requestId: 'r-1',
    attemptCount: 2,
    requestedServerName: 'api.example',
  });
  assert.equal(fmt('%REQ(:METHOD)% %REQ(:PATH):8% %REQ(:AUTHORITY)% %REQ(X-MISSING?X-FORWARDED-FOR)% %REQ(SET-COOKIE)%', info), 'POST /v1/char api.local 10.0.0.9 a=1');
  assert.equal(fmt('%PATH% %PATH(NQ)% %PATH(WQ:PATH):3% %PATH(:ORIG)%', info), '/v1/charge?amount=10%2E5&x /v1/charge /v1 -');
  assert.equal(fmt('%QUERY_PARAM(amount)% %QUERY_PARAM(x)%| %QUERY_PARAM(y)%', info), '10.5 | -');
  assert.equal(fmt('%ROUTE_NAME% %UPSTREAM_CLUSTER% %STREAM_ID% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %REQUESTED_SERVER_NAME%', info), 'charge payments r-1 2 api.example');
  assert.equal(fmt('%HOSTNAME%', info).length > 0, true);
  assert.equal(compileTextFormat('%HOSTNAME%', { hostname: 'box' })(info), 'box');
  assert.equal(fmt('%ACCESS_LOG_TYPE% %DOWNSTREAM_TLS_VERSION% %TRACE_ID%', info), 'DownstreamEnd - -');
});

test('gRPC status from trailers, headers or the HTTP status, only for gRPC requests', () => {
  const grpc = { 'content-type': 'application/grpc' };
  assert.equal(fmt('%GRPC_STATUS%|%GRPC_STATUS(SNAKE_STRING)%|%GRPC_STATUS_NUMBER%', emptyInfo({ requestHeaders: grpc, responseTrailerList: ['grpc-status', '14'] })), 'Unavailable|UNAVAILABLE|14');
  assert.equal(fmt('%GRPC_STATUS%', emptyInfo({ requestHeaders: grpc, responseCode: 404 })), 'Unimplemented');
  assert.equal(fmt('%GRPC_STATUS%', emptyInfo({ responseTrailerList: ['grpc-status', '0'] })), '-');
});

test('JSON: keys sorted, one operator keeps its type, mixed text is a string, unset is null or "-" inside text', () => {
  const info = emptyInfo({ responseCode: 200, bytesSent: 12, protocol: 'HTTP/1.1', requestHeaders: { 'x-a': 'q"uote' } });
  const line = compileJsonFormat({ z: '%RESPONSE_CODE%', a: '%BYTES_SENT%', m: '%RESPONSE_CODE% %REQ(X-NONE)% %REQ(X-A)%', n: '%REQ(X-NONE)%', k: 'plain', l: [1, true, null, '%PROTOCOL%'], e: '%%' })(info);
  assert.equal(line, '{"a":12,"e":"%","k":"plain","l":[1,true,null,"HTTP/1.1"],"m":"200 - q\\"uote","n":null,"z":200}\n');
  assert.deepEqual(JSON.parse(line).m, '200 - q"uote');
});

test('JSON with omit_empty_values leaves out unset keys and prints unset text parts as nothing', () => {
  const info = emptyInfo({ responseCode: 204 });
  const f = compileJsonFormat({ code: '%RESPONSE_CODE%', gone: '%REQ(X-NONE)%', nil: null, text: 'x%REQ(X-NONE)%y', nested: { gone: '%UPSTREAM_HOST%' }, list: ['%UPSTREAM_HOST%'] }, { omitEmptyValues: true });
  assert.equal(f(info), '{"code":204,"list":[null],"nested":{},"text":"xy"}\n');
});

test('DYNAMIC_METADATA and FILTER_STATE in JSON keep their structure', () => {
  const info = emptyInfo({ dynamicMetadata: { 'ns.a': { k: 'v', o: { n: 4.2 } } }, filterState: { fs: { typed: { x: 1 }, plain: 'p', fields: { f: 7 } } } });
  assert.equal(
    compileJsonFormat({ md: '%DYNAMIC_METADATA(ns.a:o)%', s: '%DYNAMIC_METADATA(ns.a:k)%', fs: '%FILTER_STATE(fs)%', fp: '%FILTER_STATE(fs:PLAIN)%', ff: '%FILTER_STATE(fs:FIELD:f)%' })(info),
    '{"ff":"7","fp":"p","fs":{"x":1},"md":{"n":4.2},"s":"v"}\n',
  );
  assert.equal(fmt('%DYNAMIC_METADATA(ns.a:o)%|%FILTER_STATE(fs)%|%FILTER_STATE(fs:PLAIN)%', info), '{"n":4.2}|{"x":1}|p');
});

test('ENVIRONMENT is read once, when the format is compiled', () => {
  const env: Record<string, string | undefined> = { REGION: 'eu-west-1' };
  const f = compileTextFormat('%ENVIRONMENT(REGION)% %ENVIRONMENT(REGION):2% %ENVIRONMENT(NOPE)%', { env });
  env.REGION = 'changed';
  assert.equal(f(emptyInfo()), 'eu-west-1 eu -');
});
