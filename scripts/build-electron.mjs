#!/usr/bin/env node
// Builds the desktop shell: electron/main.ts and electron/preload.ts, each bundled by esbuild into
// one CommonJS file under dist/electron/ (electron stays external; it is provided at run time).
// The engine is bundled apart (scripts/build-engine.mjs): the shell forks bin/meshdeck.mjs, which runs it.
// Usage: node scripts/build-electron.mjs [--outdir DIR]
import { build } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildElectron(outdir = join(root, 'dist', 'electron')) {
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['electron'],
    sourcemap: 'linked',
    logLevel: 'warning',
    absWorkingDir: root,
  };
  // Modules main shares with the engine use import.meta.url; in CommonJS that is this file's URL.
  // (Not in the preload: a sandboxed preload may require nothing but 'electron'.)
  const mainOnly = {
    banner: { js: 'const __meshdeck_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__meshdeck_import_meta_url' },
  };
  const results = await Promise.all([
    build({ ...common, ...mainOnly, entryPoints: [join(root, 'electron', 'main.ts')], outfile: join(outdir, 'main.cjs'), metafile: true }),
    build({ ...common, entryPoints: [join(root, 'electron', 'preload.ts')], outfile: join(outdir, 'preload.cjs'), metafile: true }),
  ]);
  return { outdir, warnings: results.flatMap((r) => r.warnings), metafiles: results.map((r) => r.metafile) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  const t0 = Date.now();
  const r = await buildElectron(values.outdir);
  console.log(`built ${join(r.outdir, 'main.cjs')} and preload.cjs in ${Date.now() - t0} ms`);
}
