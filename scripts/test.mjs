#!/usr/bin/env node
// One entry for every test: node's own test runner over test/**/*.test.ts (TypeScript through
// tsx), a readable spec report on stdout, and a closing `N passed, N failed` line for CI.
// Usage: npm test [-- FILE_OR_DIR ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync, readFileSync, mkdirSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const roots = args.length ? args : ['test'];

function collect(p, out) {
  const st = statSync(p);
  if (st.isFile()) { out.push(p); return out; }
  for (const name of readdirSync(p).sort()) {
    const child = join(p, name);
    if (statSync(child).isDirectory()) collect(child, out);
    else if (name.endsWith('.test.ts')) out.push(child);
  }
  return out;
}
const files = roots.flatMap((r) => collect(join(root, r), [])).map((f) => relative(root, f));
if (files.length === 0) { console.error('no test files found under', roots.join(' ')); process.exit(1); }

mkdirSync(join(root, 'test-results'), { recursive: true });
// One TAP file per run, so two runs at once never count each other's results.
const tap = join(root, 'test-results', `tap-${process.pid}.txt`);
const child = spawn(process.execPath, [
  '--import', 'tsx', '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => {
  let passed = 0, failed = 0, skipped = 0;
  try {
    const text = readFileSync(tap, 'utf8');
    passed = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
    failed = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(text)?.[1] ?? 0);
    skipped = Number(/^# skipped (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# todo (\d+)/m.exec(text)?.[1] ?? 0);
    renameSync(tap, join(root, 'test-results', 'tap.txt')); // the last run's report, for CI's artifacts
  } catch { failed = failed || 1; }
  if (code !== 0 && failed === 0) failed = 1; // the runner itself failed
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code ?? (signal ? 1 : 0));
});
