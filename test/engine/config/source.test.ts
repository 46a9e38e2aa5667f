// Parsing with positions: values as plain JS, a path → line:column map, syntax errors located.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectFormat, parseSource } from '../../../engine/config/source';

describe('parseSource', () => {
  it('maps keys, values and list items to 1-based lines and columns', () => {
    const r = parseSource('a:\n  b: 1\n  c: [x, y]\nd:\n  - name: z\n    v: 0xEE\n');
    assert.deepEqual(r.value, { a: { b: 1, c: ['x', 'y'] }, d: [{ name: 'z', v: 238 }] });
    assert.deepEqual(r.map.get(['a', 'b']), { key: { line: 2, column: 3 }, value: { line: 2, column: 6 } });
    assert.deepEqual(r.map.get(['a', 'c', 1]), { value: { line: 3, column: 10 } });
    assert.deepEqual(r.map.get(['d', 0]), { value: { line: 5, column: 5 } });
    assert.deepEqual(r.map.get(['d', 0, 'name']), { key: { line: 5, column: 5 }, value: { line: 5, column: 11 } });
    assert.deepEqual(r.map.nearest(['d', 0, 'missing']), r.map.get(['d', 0]));
    assert.deepEqual(r.diagnostics, []);
  });

  it('resolves anchors, aliases and merge keys (explicit keys win)', () => {
    const r = parseSource('base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\ncopy: *b\n');
    assert.deepEqual(r.value, { base: { x: 1, y: 2 }, derived: { y: 3, x: 1 }, copy: { x: 1, y: 2 } });
    assert.deepEqual(r.diagnostics, []);
  });

  it('keeps a key named __proto__ as data', () => {
    const r = parseSource('__proto__: {x: 1}\n');
    assert.deepEqual(Object.keys(r.value as object), ['__proto__']);
    assert.equal(Object.getPrototypeOf(r.value), Object.prototype);
  });

  it('reports a duplicate key once, at the second key; the first value stays', () => {
    const r = parseSource('a:\n  b: 1\n  b: 2\n');
    assert.deepEqual(r.value, { a: { b: 1 } });
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.column, d.message]),
      [['duplicate_key', 3, 3, 'duplicate key "b" (first set at line 2)']],
    );
  });

  it('reports an unterminated quote, a tab indent and several documents', () => {
    assert.equal(parseSource('a:\n  b: "unterminated\n').diagnostics[0].code, 'yaml_syntax');
    assert.deepEqual(parseSource('a:\n\tb: 1\n').diagnostics.map((d) => [d.code, d.line]), [['yaml_indentation', 2]]);
    assert.equal(parseSource('a: 1\n---\nb: 2\n').diagnostics[0].code, 'yaml_multiple_documents');
  });

  it('JSON: a syntax error is located by JSON’s own parser', () => {
    const r = parseSource('{\n  "a": 1\n  "b": 2\n}', { format: 'json' });
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.line, d.column]), [['json_syntax', 3, 3]]);
  });

  it('JSON: valid JSON that YAML dislikes (tab indentation) is fine', () => {
    const r = parseSource('{\n\t"a": {\n\t\t"b": 1\n\t}\n}', { format: 'json' });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.value, { a: { b: 1 } });
  });

  it('an empty document is null, without diagnostics', () => {
    const r = parseSource('');
    assert.equal(r.value, null);
    assert.deepEqual(r.diagnostics, []);
  });

  it('never throws, whatever the bytes', () => {
    for (const text of ['\u0000\u0001\u0002', '{{{{', ']]]', '- - - -', ': : :', '"\\x', '&a [*a]', '!!binary x', 'a: !!int b', '*undefined_alias']) {
      const r = parseSource(text);
      assert.ok(Array.isArray(r.diagnostics));
    }
  });
});

describe('detectFormat', () => {
  it('uses the option, then the extension, then the first character', () => {
    assert.equal(detectFormat('a: 1', 'x.json', 'yaml'), 'yaml');
    assert.equal(detectFormat('a: 1', 'config.JSON'), 'json');
    assert.equal(detectFormat('{"a": 1}', 'envoy.yaml'), 'yaml');
    assert.equal(detectFormat('  {"a": 1}', '--config-yaml'), 'json');
    assert.equal(detectFormat('a: 1', '--config-yaml'), 'yaml');
  });
});
