#!/usr/bin/env node
// The `meshdeck` command. The engine is TypeScript run through tsx's loader, so a clone runs
// without a build step; packaged builds bundle engine/cli.ts with esbuild instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli.ts');
process.exitCode = await main(process.argv.slice(2));
