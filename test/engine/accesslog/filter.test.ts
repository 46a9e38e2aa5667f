// Access-log filters compiled from Envoy's AccessLogFilter, and the loggers of a connection
// manager built from the model (formatter + filter + sink).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAccessLogFilter } from '../../../engine/observe/access-log/filter';
import { AccessLogConfigError } from '../../../engine/observe/access-log/config';
import { buildAccessLogs } from '../../../engine/observe/access-log/logger';
import { AccessLogWriters } from '../../../engine/observe/access-log/sinks';
import type { WriteTarget } from '../../../engine/observe/access-log/writer';
import { StatsStore } from '../../../engine/observe/stats';
import { ResponseFlag } from '../../../engine/observe/response-flags';
import { emptyInfo } from './helpers';

const cmp = (op: string, v: number) => ({ comparison: { op, value: { default_value: v, runtime_key: 'k' } } });

test('status_code, duration, response_flag and header filters', () => {
  const ge500 = compileAccessLogFilter({ status_code_filter: cmp('GE', 500) });
  assert.equal(ge500(emptyInfo({ responseCode: 503 })), true);
  assert.equal(ge500(emptyInfo({ responseCode: 200 })), false);
  assert.equal(compileAccessLogFilter({ status_code_filter: cmp('EQ', 0) })(emptyInfo()), true, 'no response is code 0');
  const slow = compileAccessLogFilter({ duration_filter: cmp('GE', 100) });
  assert.equal(slow(emptyInfo({ startMono: 10, lastDownstreamTxMono: 110 })), true);
  assert.equal(slow(emptyInfo({ startMono: 10, lastDownstreamTxMono: 109.9 })), false);
  const anyFlag = compileAccessLogFilter({ response_flag_filter: {} });
  assert.equal(anyFlag(emptyInfo()), false);
  assert.equal(anyFlag(emptyInfo({ responseFlags: ResponseFlag.NoRouteFound })), true);
  const uf = compileAccessLogFilter({ response_flag_filter: { flags: ['UF', 'UO'] } });
  assert.equal(uf(emptyInfo({ responseFlags: ResponseFlag.NoRouteFound })), false);
  assert.equal(uf(emptyInfo({ responseFlags: ResponseFlag.UpstreamOverflow })), true);
  const hdr = compileAccessLogFilter({ header_filter: { header: { name: 'X-Debug', string_match: { exact: 'on' } } } });
  assert.equal(hdr(emptyInfo({ requestHeaders: { 'x-debug': 'on' } })), true);
  assert.equal(hdr(emptyInfo({ requestHeaders: { 'x-debug': 'off' } })), false);
  const notGet = compileAccessLogFilter({ header_filter: { header: { name: ':method', exact_match: 'GET', invert_match: true } } });
  assert.equal(notGet(emptyInfo({ method: 'POST' })), true);
  assert.equal(notGet(emptyInfo({ method: 'GET' })), false);
  const present = compileAccessLogFilter({ header_filter: { header: { name: 'x-a', present_match: true } } });
  assert.equal(present(emptyInfo()), false);
  assert.equal(present(emptyInfo({ requestHeaders: { 'x-a': '' } })), true);
});

test('and/or, not_health_check, traceable, runtime, grpc_status and log_type filters', () => {
  const errorsOrSlow = compileAccessLogFilter({ or_filter: { filters: [{ status_code_filter: cmp('GE', 500) }, { duration_filter: cmp('GE', 1000) }] } });
  assert.equal(errorsOrSlow(emptyInfo({ responseCode: 200, lastDownstreamTxMono: 1000 + 2000 })), true);
  assert.equal(errorsOrSlow(emptyInfo({ responseCode: 200, lastDownstreamTxMono: 1000 + 20 })), false);
  const both = compileAccessLogFilter({ and_filter: { filters: [{ not_health_check_filter: {} }, { status_code_filter: cmp('LE', 299) }] } });
  assert.equal(both(emptyInfo({ responseCode: 204 })), true);
  assert.equal(both(emptyInfo({ responseCode: 404 })), false);
  assert.equal(compileAccessLogFilter({ traceable_filter: {} })(emptyInfo()), false);
  let r = 0.3;
  const half = compileAccessLogFilter({ runtime_filter: { runtime_key: 'k', percent_sampled: { numerator: 50, denominator: 'HUNDRED' } } }, 'filter', () => r);
  assert.equal(half(emptyInfo()), true);
  r = 0.7;
  assert.equal(half(emptyInfo()), false);
  const grpc = { 'content-type': 'application/grpc' };
  const notOk = compileAccessLogFilter({ grpc_status_filter: { statuses: ['OK'], exclude: true } });
  assert.equal(notOk(emptyInfo({ requestHeaders: grpc, responseTrailerList: ['grpc-status', '0'] })), false);
  assert.equal(notOk(emptyInfo({ requestHeaders: grpc, responseTrailerList: ['grpc-status', '14'] })), true);
  assert.equal(compileAccessLogFilter({ log_type_filter: { types: ['DownstreamEnd'] } })(emptyInfo()), true);
  assert.equal(compileAccessLogFilter({ log_type_filter: { types: ['DownstreamStart'] } })(emptyInfo()), false);
});

test('filters Meshdeck cannot run are refused with a located reason', () => {
  const where = (f: unknown) => {
    try {
      compileAccessLogFilter(f);
    } catch (e) {
      assert.ok(e instanceof AccessLogConfigError);
      return e.field;
    }
    assert.fail('accepted');
  };
  assert.equal(where({ metadata_filter: {} }), 'filter.metadata_filter');
  assert.equal(where({ or_filter: { filters: [{ not_health_check_filter: {} }, { extension_filter: {} }] } }), 'filter.or_filter.filters[1].extension_filter');
  assert.equal(where({ header_filter: { header: { name: 'x', safe_regex_match: { regex: '.*' } } } }), 'filter.header_filter.header.safe_regex_match');
});

test('a connection manager’s loggers: each formats, filters and writes to its own sink; unknown logger types are left out', async () => {
  const lines: string[] = [];
  const target: WriteTarget = { name: 'mem', open: async () => {}, write: async (d) => void lines.push(d.toString()), close: async () => {} };
  const writers = new AccessLogWriters(new StatsStore(), { streams: { stdout: target } });
  const logs = buildAccessLogs(
    [
      { name: 'envoy.access_loggers.stdout', typeUrl: '', config: { log_format: { text_format: 'all %RESPONSE_CODE%\n' } } },
      { name: 'envoy.access_loggers.stdout', typeUrl: '', config: { log_format: { text_format: 'errors %RESPONSE_CODE%\n' } }, filter: { status_code_filter: cmp('GE', 500) } },
      { name: 'envoy.access_loggers.open_telemetry', typeUrl: '', config: {} },
    ],
    writers,
  );
  assert.equal(logs.loggers.length, 2);
  logs.log?.(emptyInfo({ responseCode: 200 }));
  logs.log?.(emptyInfo({ responseCode: 502 }));
  await writers.flush();
  assert.equal(lines.join(''), 'all 200\nall 502\nerrors 502\n');
  assert.equal(buildAccessLogs([], writers).log, undefined, 'no loggers, no per-request work');
  logs.release();
});
