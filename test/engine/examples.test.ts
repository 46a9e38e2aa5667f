// The configs Meshdeck ships must load cleanly: they are what a newcomer runs first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { loadConfig, formatDiagnostics } from '../../engine/config/load';

const dir = new URL('../../examples/', import.meta.url);

for (const name of readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f))) {
  test(`examples/${name} loads with no errors and no warnings`, async () => {
    const r = await loadConfig(readFileSync(new URL(name, dir), 'utf8'), { sourceName: name });
    assert.equal(r.ok, true, formatDiagnostics(r.diagnostics, name));
    assert.deepEqual(r.diagnostics, [], formatDiagnostics(r.diagnostics, name));
  });
}
