// Access logs written by the real engine on real sockets: a custom text format, a JSON format and
// Envoy's default format to files, next to the engine's own tap; config reloads that move, reopen
// and close files.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap, staticCluster, startEngine, indent } from '../../helpers/engine';
import { startUpstream, type Upstream } from '../../helpers/upstream';
import { get } from '../../helpers/client';
import { AccessLogWriters } from '../../../engine/observe/access-log/sinks';
import type { StreamInfo } from '../../../engine/observe/stream-info';

const dir = mkdtempSync(join(tmpdir(), 'meshdeck-al-e2e-'));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function upstream(name: string): Promise<Upstream> {
  const u = await startUpstream(name);
  cleanups.push(() => u.close());
  return u;
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const readLines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');

/** An access_log list as YAML (the HCM's access_log field). */
function accessLogs(entries: Array<{ path: string; logFormat?: Record<string, unknown> }>): string {
  const items = entries.map((e) => {
    const tc: Record<string, unknown> = { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: e.path };
    if (e.logFormat) tc.log_format = e.logFormat;
    return `- name: envoy.access_loggers.file\n  typed_config: ${JSON.stringify(tc)}`;
  });
  return `access_log:\n${indent(items.join('\n'), 0)}`;
}

const TEXT_FORMAT =
  '%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_SENT% ' +
  '%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %ROUTE_NAME% %REQ(X-TEST):4% %RESP(X-UPSTREAM)% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %RESPONSE_CODE_DETAILS%\n';

const JSON_FORMAT = {
  method: '%REQ(:METHOD)%',
  code: '%RESPONSE_CODE%',
  bytes: '%BYTES_SENT%',
  duration: '%DURATION%',
  flags: '%RESPONSE_FLAGS%',
  upstream: '%UPSTREAM_HOST%',
  missing: '%REQ(X-NOPE)%',
  mixed: '%RESPONSE_CODE%/%REQ(X-NOPE)%',
  start: '%START_TIME(%s)%',
};

const ROUTES = (deadCluster: boolean) => `
- name: direct
  match: { prefix: "/direct" }
  direct_response: { status: 201, body: { inline_string: "hello" } }
${deadCluster ? `- name: dead\n  match: { prefix: "/dead" }\n  route: { cluster: dead }` : ''}
- name: to-up
  match: { prefix: "/ok" }
  route: { cluster: up }
`;

test('the engine writes custom text, JSON and default-format access logs to files, and still feeds its tap', async () => {
  const up = await upstream('up');
  const dead = await closedPort();
  const textPath = join(dir, 'text.log');
  const jsonPath = join(dir, 'json.log');
  const defaultPath = join(dir, 'default.log');
  const tapped: StreamInfo[] = [];
  const e = await startEngine(
    bootstrap({
      routes: ROUTES(true),
      clusters: staticCluster('up', [{ port: up.port }]) + staticCluster('dead', [{ port: dead }]),
      hcmExtra: accessLogs([
        { path: textPath, logFormat: { text_format_source: { inline_string: TEXT_FORMAT } } },
        { path: jsonPath, logFormat: { json_format: JSON_FORMAT } },
        { path: defaultPath },
      ]),
    }),
    { accessLog: (i) => tapped.push({ ...i }) },
  );
  let stopped = false;
  cleanups.push(async () => void (stopped || (await e.stop())));
  const ua = { 'user-agent': 'meshdeck-test' };
  const ok = await get(`${e.url()}/ok?q=1`, { ...ua, 'x-test': 'abcdefgh' });
  assert.equal(ok.status, 200);
  assert.equal((await get(`${e.url()}/direct`, ua)).status, 201);
  assert.equal((await get(`${e.url()}/dead`, ua)).status, 503);
  assert.equal((await get(`${e.url()}/nothing`, ua)).status, 404);
  await e.stop(); // flushes and closes the files
  stopped = true;

  const text = readLines(textPath);
  assert.equal(text.length, 4, text.join('\n'));
  assert.equal(text[0], `GET /ok?q=1 HTTP/1.1 200 - 3 up 127.0.0.1:${up.port} to-up abcd up 127.0.0.1 via_upstream`);
  assert.equal(text[1], 'GET /direct HTTP/1.1 201 - 5 - - direct - - 127.0.0.1 direct_response');
  assert.match(text[2], new RegExp(`^GET /dead HTTP/1\\.1 503 UF \\d+ dead 127\\.0\\.0\\.1:${dead} dead - - 127\\.0\\.0\\.1 upstream_reset_before_response_started\\{remote_connection_failure,delayed_connect_error:_Connection_refused\\}$`));
  assert.equal(text[3], 'GET /nothing HTTP/1.1 404 NR 0 - - - - - 127.0.0.1 route_not_found');

  const json = readLines(jsonPath).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(json.length, 4);
  assert.deepEqual(
    json.map((j) => [j.method, j.code, j.flags, j.upstream, j.missing, j.mixed]),
    [
      ['GET', 200, '-', `127.0.0.1:${up.port}`, null, '200/-'],
      ['GET', 201, '-', null, null, '201/-'],
      ['GET', 503, 'UF', `127.0.0.1:${dead}`, null, '503/-'],
      ['GET', 404, 'NR', null, null, '404/-'],
    ],
  );
  assert.equal(json[0].bytes, 3);
  assert.equal(json[1].bytes, 5);
  for (const j of json) {
    assert.equal(typeof j.duration, 'number');
    assert.ok((j.duration as number) >= 0 && (j.duration as number) < 5000);
    assert.ok(Math.abs(Number(j.start) - Date.now() / 1000) < 60, `start ${String(j.start)}`);
  }
  // The keys come out sorted, as Envoy prints them.
  assert.deepEqual(Object.keys(json[0]), Object.keys(JSON_FORMAT).sort());

  // Envoy's default format when the logger has none.
  const def = readLines(defaultPath);
  assert.equal(def.length, 4);
  assert.match(
    def[0],
    new RegExp(
      `^\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] "GET /ok\\?q=1 HTTP/1\\.1" 200 - 0 3 \\d+ \\d+ "-" "meshdeck-test" "[0-9a-f-]{36}" "127\\.0\\.0\\.1:\\d+" "127\\.0\\.0\\.1:${up.port}"$`,
    ),
  );
  assert.match(def[1], /^\[[^\]]+\] "GET \/direct HTTP\/1\.1" 201 - 0 5 \d+ - "-" "meshdeck-test" "[0-9a-f-]{36}" "127\.0\.0\.1:\d+" "-"$/);
  assert.match(def[3], /^\[[^\]]+\] "GET \/nothing HTTP\/1\.1" 404 NR 0 0 \d+ - /);
  const rid = /"([0-9a-f-]{36})"/.exec(def[0])?.[1];
  assert.equal(rid, tapped[0].requestId, 'the default line carries the request id the engine generated');

  // The engine-level tap saw the same four requests.
  assert.deepEqual(tapped.map((t) => t.responseCode), [200, 201, 503, 404]);
  assert.equal(e.engine.stats.get('filesystem.write_buffered'), 12);
  assert.equal(e.engine.stats.get('filesystem.write_dropped'), 0);
});

test('a reload moves the log to a new file, closes the old one once drained, and reopens a rotated file', async () => {
  const up = await upstream('up2');
  const a = join(dir, 'reload-a.log');
  const b = join(dir, 'reload-b.log');
  const yaml = (path: string) =>
    bootstrap({
      routes: ROUTES(false),
      clusters: staticCluster('up', [{ port: up.port }]),
      hcmExtra: accessLogs([{ path, logFormat: { text_format_source: { inline_string: '%REQ(X-N)%\n' } } }]),
    });
  const e = await startEngine(yaml(a));
  cleanups.push(() => e.stop());
  const writers = AccessLogWriters.for(e.engine.stats);
  await get(`${e.url()}/ok`, { 'x-n': '1' });
  assert.deepEqual([...writers.openFiles().keys()], [a]);

  const r = await e.engine.apply(yaml(b), 'test.yaml');
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  await get(`${e.url()}/ok`, { 'x-n': '2' });
  await writers.flush();
  assert.deepEqual([...writers.openFiles().keys()], [b], 'the old file is closed: no config uses it');
  assert.deepEqual(readLines(a), ['1']);
  assert.deepEqual(readLines(b), ['2']);

  // Log rotation: move the file away, reload the same config, the next line starts a new file.
  renameSync(b, `${b}.1`);
  await get(`${e.url()}/ok`, { 'x-n': '3' }); // still to the moved file, as the open descriptor does
  await writers.flush();
  assert.equal(existsSync(b), false);
  assert.ok((await e.engine.apply(yaml(b), 'test.yaml')).ok);
  await get(`${e.url()}/ok`, { 'x-n': '4' });
  await writers.flush();
  assert.deepEqual(readLines(`${b}.1`), ['2', '3']);
  assert.deepEqual(readLines(b), ['4']);
});

test('a config with an unknown operator is refused by a running engine, which keeps logging with the old one', async () => {
  const up = await upstream('up3');
  const path = join(dir, 'refused.log');
  const yaml = (format: string) =>
    bootstrap({
      routes: ROUTES(false),
      clusters: staticCluster('up', [{ port: up.port }]),
      hcmExtra: accessLogs([{ path, logFormat: { text_format_source: { inline_string: format } } }]),
    });
  const e = await startEngine(yaml('%RESPONSE_CODE%\n'));
  cleanups.push(() => e.stop());
  const r = await e.engine.apply(yaml('%RESPONSE_CODE% %NOT_AN_OPERATOR%\n'), 'test.yaml');
  assert.equal(r.ok, false);
  const d = r.diagnostics.find((x) => x.code === 'invalid_access_log_format');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.match(d.message, /Not supported field in StreamInfo: NOT_AN_OPERATOR/);
  await get(`${e.url()}/ok`);
  await AccessLogWriters.for(e.engine.stats).flush();
  assert.deepEqual(readLines(path), ['200']);
});
