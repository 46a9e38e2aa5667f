#!/usr/bin/env node
// `npm run build:engine`: the engine (engine/cli.ts and everything it imports, packages
// included) bundled by esbuild into one ES module, dist/engine/meshdeck.mjs, which
// bin/meshdeck.mjs runs when it is newer than every engine source. Why: tsx transforms each
// file with esbuild's keepNames, which wraps every closure in a __name() call made each time the
// closure is created, and its loader hooks run on a second thread; the bundle has neither and
// costs about a fifth less CPU per proxied request (docs/BENCH.md). Sources stay the truth: a
// stale or missing bundle just means bin/meshdeck.mjs runs engine/ through tsx, as tests do.
//
// Modules find their files (protos, the sim's worker entry, package.json) from import.meta.url;
// in the bundle each such use is rewritten to the module's own source path relative to the
// bundle, so a relocated checkout (or packaged app) keeps working.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ENGINE_BUNDLE } from '../bin/engine-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export { ENGINE_BUNDLE };

/** Bundle the engine to `outfile` (default dist/engine/meshdeck.mjs). */
export async function buildEngine(outfile = ENGINE_BUNDLE) {
  const engineDir = join(root, 'engine') + sep;
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!args.path.startsWith(engineDir)) return undefined;
        let text = await readFile(args.path, 'utf8');
        if (text.includes('import.meta.url')) {
          const rel = relative(dirname(outfile), args.path).split(sep).join('/');
          text = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`);
        }
        return { contents: text, loader: 'ts' };
      });
    },
  };
  await build({
    entryPoints: [join(root, 'engine', 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [ownUrl],
    // Bundled CommonJS packages call require() for node's built-ins.
    banner: { js: "import { createRequire as __meshdeckCreateRequire } from 'node:module'; const require = __meshdeckCreateRequire(import.meta.url);" },
  });
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = performance.now();
  const out = await buildEngine(process.argv[2]);
  console.log(`engine bundled: ${relative(process.cwd(), out)} (${Math.round(performance.now() - t)} ms)`);
}
