// Envoy's own formatter test vectors (../shared/corpus/accesslog/cases.json): one test per case,
// named by its id. Each case's facts become a StreamInfo; its format is compiled as Meshdeck
// compiles a config's format and must print exactly what Envoy prints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileJsonFormat, compileTextFormat, FormatError } from '../../../engine/observe/access-log/formatter';
import { infoFromFacts } from './helpers';

interface Case {
  id: string;
  kind: 'text' | 'json' | 'text_multi' | 'parse_error';
  format: unknown;
  facts: Record<string, unknown>;
  expected: unknown;
  omit_empty_values?: boolean;
  vectors?: Array<[string, string]>;
  formats?: string[];
}

const corpusUrl = new URL('../../../../shared/corpus/accesslog/cases.json', import.meta.url);
let corpus: { cases: Case[] };
try {
  corpus = JSON.parse(readFileSync(corpusUrl, 'utf8')) as { cases: Case[] };
} catch (e) {
  throw new Error(`the access-log corpus is missing or unreadable at ${fileURLToPath(corpusUrl)}: ${(e as Error).message}`);
}

test('the corpus has its 20 cases, each with a unique id', () => {
  assert.ok(corpus.cases.length >= 20, `expected at least 20 cases, found ${corpus.cases.length}`);
  assert.equal(new Set(corpus.cases.map((c) => c.id)).size, corpus.cases.length);
});

for (const c of corpus.cases) {
  test(c.id, () => {
    const { info, env } = infoFromFacts(c.facts ?? {});
    const opts = { omitEmptyValues: c.omit_empty_values === true, env, hostname: 'test-host' };
    switch (c.kind) {
      case 'text': {
        assert.equal(typeof c.format, 'string');
        const f = compileTextFormat(c.format as string, opts);
        assert.equal(f(info), c.expected);
        return;
      }
      case 'json': {
        const f = compileJsonFormat(c.format as Record<string, unknown>, opts);
        const line = f(info);
        assert.ok(line.endsWith('\n'), 'a JSON log line ends with a newline');
        if (typeof c.expected === 'string') assert.equal(line, c.expected);
        else assert.deepEqual(JSON.parse(line), c.expected);
        return;
      }
      case 'text_multi': {
        assert.ok(c.vectors && c.vectors.length > 0, 'text_multi case without vectors');
        for (const [format, expected] of c.vectors) {
          assert.equal(compileTextFormat(format, opts)(info), expected, `format ${format}`);
        }
        return;
      }
      case 'parse_error': {
        const formats = c.formats ?? (Array.isArray(c.format) ? (c.format as string[]) : [c.format as string]);
        for (const format of formats) assert.throws(() => compileTextFormat(format, opts), FormatError, `format ${format} must be rejected`);
        return;
      }
      default:
        throw new Error(`unknown case kind ${(c as Case).kind}`);
    }
  });
}
