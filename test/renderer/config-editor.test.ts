// The config editor's rules without a browser: where an engine diagnostic is underlined, what the
// editor does when the running config changes under it, and the three-way merge it offers.
// (The editor itself, with Monaco and the real engine, is test/e2e/editor.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../../engine/admin/contract';
import { loadConfig } from '../../engine/config/load';
import { mergeEdits, syncWithRunning } from '../../renderer/src/features/config/draft';
import { countText, diagnosticToMarker, SEVERITY, tokenEnd } from '../../renderer/src/features/config/markers';

const CONFIG = `static_resources:
  clusters:
  - name: a
    connect_timeout: 0.25s
    lb_policy: LEAST_CONN
    type: STATIC
    load_assignment: { cluster_name: a, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_valu: 80 } } } }] }] }
`;

test('engine diagnostics become markers under the offending key or value, with the suggestion', async () => {
  const r = await loadConfig(CONFIG, { sourceName: 't.yaml' });
  const lines = CONFIG.split('\n');
  const markers = r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ d, m: diagnosticToMarker(d, lines) }));
  const marked = (m: { startLineNumber: number; startColumn: number; endColumn: number }) => lines[m.startLineNumber - 1]!.slice(m.startColumn - 1, m.endColumn - 1);
  const policy = markers.find((x) => x.d.code === 'invalid_enum')!;
  assert.equal(marked(policy.m), 'LEAST_CONN');
  assert.equal(policy.m.severity, SEVERITY.Error);
  assert.match(policy.m.message, /invalid value "LEAST_CONN"\n→ did you mean "LEAST_REQUEST"\?/);
  // Inside a flow mapping: the key only, not the rest of the line.
  const port = markers.find((x) => x.d.code === 'unknown_field')!;
  assert.equal(marked(port.m), 'port_valu');
  assert.equal(port.m.source, 'Meshdeck');
});

test('marker ranges: quoted values, comments, positions out of range, warnings', () => {
  assert.equal(tokenEnd('  path: "/a b" # x', 9), 15);
  assert.equal(tokenEnd('  lb_policy: RANDOM # was LEAST', 14), 20);
  assert.equal(tokenEnd('  - { name: a, weight: ten }', 24), 27);
  const d = (line: number, column: number, severity: Diagnostic['severity'] = 'warning'): Diagnostic => ({ severity, code: 'x', path: 'p', line, column, message: 'm' });
  const lines = ['a: 1', '  b: 2'];
  // No position (a missing field of an empty document): the first line, whole.
  assert.deepEqual(diagnosticToMarker(d(0, 0), lines), { severity: SEVERITY.Warning, message: 'm', source: 'Meshdeck', code: 'x', startLineNumber: 1, startColumn: 1, endLineNumber: 1, endColumn: 2 });
  // Past the end: clamped to the last line.
  assert.equal(diagnosticToMarker(d(9, 3), lines).startLineNumber, 2);
  assert.equal(countText([{ severity: 'error' }, { severity: 'warning' }, { severity: 'warning' }]), '1 error, 2 warnings');
  assert.equal(countText([]), 'no problems');
});

test('the running config changed: taken when there are no edits, offered when there are', () => {
  const base = { version: 3, yaml: 'a: 1\n' };
  assert.deepEqual(syncWithRunning(base, 'a: 1\n', { version: 3, yaml: 'a: 1\n' }), { kind: 'none' });
  assert.deepEqual(syncWithRunning(base, 'a: 1\n', { version: 4, yaml: 'a: 2\n' }), { kind: 'take', running: { version: 4, yaml: 'a: 2\n' } });
  // The edits are exactly what now runs (applied from elsewhere): nothing to ask.
  assert.equal(syncWithRunning(base, 'a: 2\n', { version: 4, yaml: 'a: 2\n' }).kind, 'take');
  assert.equal(syncWithRunning(base, 'a: 5\n', { version: 4, yaml: 'a: 2\n' }).kind, 'notify');
});

test('three-way merge: edits on different lines combine; the same or adjacent lines do not', () => {
  const base = ['# demo', 'clusters:', '- name: a', '  weight: 1', '- name: b', '  weight: 1', '  timeout: 2s', ''].join('\n');
  const mine = base.replace('timeout: 2s', 'timeout: 2.5s');
  const theirs = base.replace('- name: a\n  weight: 1', '- name: a\n  weight: 7');
  assert.equal(mergeEdits(base, mine, theirs), base.replace('timeout: 2s', 'timeout: 2.5s').replace('- name: a\n  weight: 1', '- name: a\n  weight: 7'));
  // The same change on both sides is taken once.
  assert.equal(mergeEdits(base, theirs, theirs), theirs);
  // Insertions and deletions shift lines without confusing the merge.
  const inserted = base.replace('# demo', '# demo\n# tuned by hand\n# twice');
  assert.equal(mergeEdits(base, inserted, theirs), inserted.replace('- name: a\n  weight: 1', '- name: a\n  weight: 7'));
  // Same line, or the line next to it: the user decides.
  assert.equal(mergeEdits(base, base.replace('- name: a\n  weight: 1', '- name: a\n  weight: 8'), theirs), null);
  assert.equal(mergeEdits(base, base.replace('- name: a', '- name: aa'), theirs), null);
});
