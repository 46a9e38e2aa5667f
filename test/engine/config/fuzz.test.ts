// loadConfig never throws: random truncations, deletions and byte changes of every corpus file
// (a seeded generator, so a failure reproduces) return diagnostics — located, well-formed, and
// never an internal error.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../engine/config/load';
import type { Diagnostic } from '../../../engine/config/model';
import { BASE } from './fixtures';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/envoy/', import.meta.url));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function wellFormed(d: Diagnostic, label: string): void {
  assert.ok(d.severity === 'error' || d.severity === 'warning', label);
  assert.ok(typeof d.code === 'string' && d.code !== '' && d.code !== 'internal_error', `${label}: ${d.code} ${d.message}`);
  assert.ok(Number.isInteger(d.line) && d.line >= 0 && Number.isInteger(d.column) && d.column >= 0, `${label}: bad position`);
  assert.ok(typeof d.message === 'string' && d.message !== '', label);
}

async function mutateAndLoad(name: string, text: string, runs: number, seed: number): Promise<number> {
  const random = rng(seed);
  let failures = 0;
  for (let k = 0; k < runs; k++) {
    const i = Math.floor(random() * (text.length + 1));
    const j = Math.floor(random() * (text.length + 1));
    let t: string;
    switch (k % 3) {
      case 0:
        t = text.slice(0, i); // truncated
        break;
      case 1:
        t = text.slice(0, i) + String.fromCharCode(32 + Math.floor(random() * 95)) + text.slice(i + 1); // one byte changed
        break;
      default:
        t = text.slice(0, Math.min(i, j)) + text.slice(Math.max(i, j)); // a span deleted
    }
    const r = await loadConfig(t, { sourceName: name });
    const label = `${name} #${k}`;
    assert.equal(typeof r.ok, 'boolean', label);
    r.diagnostics.forEach((d) => wellFormed(d, label));
    if (r.ok) assert.ok(r.bootstrap, `${label}: ok without a bootstrap`);
    else failures++;
  }
  return failures;
}

describe('fuzz', () => {
  it('corpus files, truncated and mutated, always come back as diagnostics', async () => {
    assert.ok(existsSync(CORPUS), `missing corpus at ${CORPUS}`);
    const files = readdirSync(CORPUS, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml')).sort();
    let failures = 0;
    for (const [n, f] of files.entries()) failures += await mutateAndLoad(f, readFileSync(CORPUS + f, 'utf8'), 6, 1000 + n);
    assert.ok(failures > 0, 'mutations that break a config must be reported as failures');
  });

  it('every prefix of a small config', async () => {
    let errorsSeen = 0;
    for (let n = 0; n <= BASE.length; n += 7) {
      const r = await loadConfig(BASE.slice(0, n), { sourceName: 'cut.yaml' });
      r.diagnostics.forEach((d) => wellFormed(d, `prefix ${n}`));
      if (!r.ok) errorsSeen++;
    }
    assert.ok(errorsSeen > 0);
  });

  it('odd inputs', async () => {
    for (const text of ['null', '[]', '42', '"x"', '{}', 'static_resources: 7', 'static_resources: {listeners: [null]}', '\u0000', '{"static_resources": {"clusters": [{"name": {}}]}}', 'a: &a [*a]']) {
      const r = await loadConfig(text, { sourceName: 'odd.yaml' });
      r.diagnostics.forEach((d) => wellFormed(d, JSON.stringify(text)));
    }
    const r = await loadConfig(undefined as unknown as string, { sourceName: 'x' });
    assert.equal(r.ok, false);
  });
});
