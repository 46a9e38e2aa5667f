// The small pieces: suggestions, durations, RE2 compatibility, PGV rule checks, diagnostics text.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSeconds, parseDuration } from '../../../engine/config/durations';
import { formatDiagnostic } from '../../../engine/config/load';
import { checkRe2 } from '../../../engine/config/regex';
import { checkCount, checkNumber, checkString } from '../../../engine/config/rules';
import { editDistance, nearest, toSnake } from '../../../engine/config/suggest';

describe('suggestions', () => {
  it('edit distance counts adjacent transpositions as one edit', () => {
    assert.equal(editDistance('lb_policy', 'lb_plicy'), 1);
    assert.equal(editDistance('abcd', 'abdc'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('suggests close names only', () => {
    const fields = ['load_assignment', 'lb_policy', 'connect_timeout', 'name', 'type'];
    assert.equal(nearest('load_assigment', fields), 'load_assignment');
    assert.equal(nearest('conect_timeout', fields), 'connect_timeout');
    assert.equal(nearest('retry_budget_magic', fields), undefined);
    assert.equal(nearest('nmae', fields), 'name');
    assert.equal(nearest('zzz', fields), undefined);
  });

  it('enum values: case-insensitive, by shared word, by known alias', () => {
    const values = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH', 'RANDOM', 'MAGLEV', 'CLUSTER_PROVIDED', 'LOAD_BALANCING_POLICY_CONFIG'];
    assert.equal(nearest('round_robbin', values, { ignoreCase: true }), 'ROUND_ROBIN');
    assert.equal(nearest('LEAST_CONN', values, { ignoreCase: true, byWord: true }), 'LEAST_REQUEST');
    assert.equal(nearest('consistent_hash', values, { ignoreCase: true, byWord: true, aliases: { CONSISTENT_HASH: 'RING_HASH' } }), 'RING_HASH');
    assert.equal(nearest('FASTEST', values, { ignoreCase: true, byWord: true }), undefined);
  });

  it('snake_case from camelCase', () => {
    assert.equal(toSnake('loadAssignment'), 'load_assignment');
    assert.equal(toSnake('http2ProtocolOptions'), 'http2_protocol_options');
    assert.equal(toSnake('already_snake'), 'already_snake');
  });
});

describe('durations', () => {
  it('parses Envoy’s spellings into milliseconds', () => {
    assert.deepEqual(parseDuration('1.5s'), { ok: true, ms: 1500 });
    assert.deepEqual(parseDuration('0.25s'), { ok: true, ms: 250 });
    assert.deepEqual(parseDuration('5s'), { ok: true, ms: 5000 });
    assert.deepEqual(parseDuration('0.000001s'), { ok: true, ms: 0.001 });
    assert.deepEqual(parseDuration({ seconds: 1, nanos: 5e8 }), { ok: true, ms: 1500 });
    assert.deepEqual(parseDuration({ seconds: '3' }), { ok: true, ms: 3000 });
  });

  it('rejects other spellings with the right one as a suggestion', () => {
    const sug = (v: unknown) => {
      const r = parseDuration(v);
      return r.ok ? 'ok' : r.suggestion;
    };
    assert.equal(sug('250ms'), 'write "0.25s"');
    assert.equal(sug('1m'), 'write "60s"');
    assert.equal(sug('2h'), 'write "7200s"');
    assert.equal(sug('1.5'), 'write "1.5s"');
    assert.equal(sug(30), 'write "30s"');
    assert.equal(sug('soon'), undefined);
    assert.equal(parseDuration({ seconds: 1, nanos: 2e9 }).ok, false);
    assert.equal(formatSeconds(0.1), '0.1s');
  });
});

describe('RE2 compatibility', () => {
  it('accepts RE2 syntax, mapping what JavaScript spells differently', () => {
    for (const p of ['^/api/v[0-9]+/.*$', '(?P<id>[a-z]+)', '\\A/x\\z', '(?i)abc', '(?i:abc)def', '[[:alpha:]]+', '\\Qa.b\\E', '^\\/(authorize.*|login)$', '\\*']) {
      const r = checkRe2(p);
      assert.ok(r.ok, `${p}: ${JSON.stringify(r)}`);
    }
    const named = checkRe2('(?P<id>[0-9]+)');
    assert.ok(named.ok && new RegExp(named.source, named.flags).exec('abc123')?.groups?.id === '123');
  });

  it('rejects what RE2 does not support, saying what it is', () => {
    const msg = (p: string) => {
      const r = checkRe2(p);
      return r.ok ? 'ok' : r.message;
    };
    assert.match(msg('foo(?=bar)'), /lookahead/);
    assert.match(msg('(?<!a)b'), /lookbehind/);
    assert.match(msg('(a)\\1'), /backreference/);
    assert.match(msg('(?<n>a)\\k<n>'), /backreference/);
    assert.match(msg('(?>a)'), /atomic group/);
    assert.match(msg('a*+'), /possessive/);
    assert.match(msg('a{1001}'), /above 1000/);
    assert.match(msg('a\\Z'), /not supported by RE2/);
    assert.match(msg('[a-'), /invalid regular expression/);
    assert.match(msg('a)'), /invalid regular expression/);
  });
});

describe('PGV rules', () => {
  it('numbers: bounds, inverted ranges, in / not_in', () => {
    assert.deepEqual(checkNumber({ lte: 65535 }, 70000), [{ code: 'out_of_range', message: 'must be at most 65535, got 70000' }]);
    assert.deepEqual(checkNumber({ lte: 65535 }, 65535), []);
    assert.deepEqual(checkNumber({ gte: 200, lt: 600 }, 99), [{ code: 'out_of_range', message: 'must be at least 200 and less than 600, got 99' }]);
    assert.deepEqual(checkNumber({ gt: 10, lt: 5 }, 7), [{ code: 'out_of_range', message: 'must be less than 5 or greater than 10, got 7' }]);
    assert.deepEqual(checkNumber({ gt: 10, lt: 5 }, 3), []);
    assert.equal(checkNumber({ in: [1, 2] }, 3)[0].code, 'invalid_value');
    assert.equal(checkNumber({ not_in: [0] }, 0)[0].code, 'invalid_value');
    assert.deepEqual(checkNumber({ gt: 0, ignore_empty: true }, 0), []);
  });

  it('strings: lengths, header names and values', () => {
    assert.deepEqual(checkString({ min_len: 1 }, ''), [{ code: 'invalid_length', message: 'must not be empty' }]);
    assert.deepEqual(checkString({ max_bytes: 3 }, 'abcd'), [{ code: 'invalid_length', message: 'must be at most 3 bytes long, got 4' }]);
    assert.deepEqual(checkString({ well_known_regex: 'HTTP_HEADER_NAME' }, 'x-ok'), []);
    assert.equal(checkString({ well_known_regex: 'HTTP_HEADER_NAME' }, 'bad header')[0].message, 'is not a valid HTTP header name');
    assert.deepEqual(checkString({ well_known_regex: 'HTTP_HEADER_NAME', strict: false }, 'bad header'), []);
    assert.equal(checkString({ well_known_regex: 'HTTP_HEADER_VALUE', strict: false }, 'a\nb').length, 1);
    assert.equal(checkString({ prefix: '/' }, 'x')[0].message, 'must start with "/"');
  });

  it('repeated and map sizes', () => {
    assert.deepEqual(checkCount({ min_items: 1 }, 0, 'item'), [{ code: 'too_few_items', message: 'needs at least 1 item, got 0' }]);
    assert.deepEqual(checkCount({ max_pairs: 2 }, 3, 'entry'), [{ code: 'too_many_items', message: 'allows at most 2 entries, got 3' }]);
  });
});

describe('formatDiagnostic', () => {
  it('prints file:line:column, severity, path, message and code, then the suggestion indented', () => {
    const d = { severity: 'warning' as const, code: 'not_supported', path: 'node', line: 3, column: 1, message: 'not run by Meshdeck: the node identity' };
    assert.equal(formatDiagnostic(d, 'envoy.yaml'), 'envoy.yaml:3:1: warning: node: not run by Meshdeck: the node identity [not_supported]');
    assert.equal(formatDiagnostic({ ...d, suggestion: 'remove it' }, 'a.yaml'), 'a.yaml:3:1: warning: node: not run by Meshdeck: the node identity [not_supported]\n  → remove it');
  });

  it('leaves out the position and the path when there are none', () => {
    const d = { severity: 'error' as const, code: 'internal_error', path: '', line: 0, column: 0, message: 'boom' };
    assert.equal(formatDiagnostic(d, 'x.yaml'), 'x.yaml: error: boom [internal_error]');
  });
});
