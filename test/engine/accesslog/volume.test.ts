// 50,000 requests through the real engine: the file access log has exactly one line per request,
// or the shortfall is exactly what the drop counter says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap, startEngine } from '../../helpers/engine';
import { hammer } from '../../helpers/client';

test('50,000 requests produce 50,000 log lines (or the difference is the drop counter)', { timeout: 180_000 }, async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'meshdeck-al-volume-')), 'access.log');
  const logFormat = { text_format_source: { inline_string: '%REQ(X-N)% %RESPONSE_CODE% %BYTES_SENT%\n' } };
  const tc = { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path, log_format: logFormat };
  const e = await startEngine(
    bootstrap({
      routes: `- match: { prefix: "/" }\n  direct_response: { status: 200, body: { inline_string: "ok" } }`,
      clusters: '',
      hcmExtra: `access_log:\n- name: envoy.access_loggers.file\n  typed_config: ${JSON.stringify(tc)}`,
    }),
  );
  const n = 50_000;
  let stopped = false;
  try {
    const replies = await hammer(e.url(), n, 64, (i) => ({ path: '/', headers: { 'x-n': String(i) } }));
    assert.ok(replies.every((r) => r.status === 200));
  } finally {
    await e.stop();
    stopped = true;
  }
  assert.ok(stopped);
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  const dropped = e.engine.stats.get('filesystem.write_dropped') ?? 0;
  assert.equal(lines.length + dropped, n, `${lines.length} lines + ${dropped} dropped`);
  // Each line is whole and belongs to a distinct request.
  const seen = new Set<number>();
  for (const l of lines) {
    const m = /^(\d+) 200 2$/.exec(l);
    assert.ok(m, `malformed line ${JSON.stringify(l)}`);
    seen.add(Number(m[1]));
  }
  assert.equal(seen.size, lines.length);
  assert.equal(e.engine.stats.get('filesystem.write_buffered'), lines.length);
  assert.equal(e.engine.stats.get('filesystem.write_total_buffered'), 0);
});
