// Entry of a scenario's child process: the engine is TypeScript run through tsx, as in
// bin/meshdeck.mjs, so register tsx's loader first.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
