#!/usr/bin/env node
// The `meshdeck` command. It runs the engine's bundle (dist/engine/meshdeck.mjs, from
// `npm run build:engine`) when that is newer than every engine source and package-lock.json;
// otherwise engine/ itself through tsx's loader, so a clone or a fresh edit runs without a
// build step. MESHDECK_FROM_SOURCE=1 always runs the sources. (Why a bundle: scripts/build-engine.mjs.)
import { pathToFileURL } from 'node:url';
import { ENGINE_BUNDLE, engineBundleIsFresh } from './engine-bundle.mjs';

let main;
if (process.env.MESHDECK_FROM_SOURCE !== '1' && engineBundleIsFresh()) {
  // Stack traces name engine/*.ts lines, as from source.
  process.setSourceMapsEnabled(true);
  ({ main } = await import(pathToFileURL(ENGINE_BUNDLE).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../engine/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
