// Where the engine's bundle lives and whether it is fresh: newer than every file under engine/
// and package-lock.json (see scripts/build-engine.mjs). Shared by bin/meshdeck.mjs, which runs it
// when fresh, and by the scripts that rebuild it when stale (npm start, the bench).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const ENGINE_BUNDLE = join(root, 'dist', 'engine', 'meshdeck.mjs');

/** The newest modification time (ms) of any file under `dir` (npm start asks it of renderer/ too). */
export function newestMtime(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function engineBundleIsFresh() {
  if (!existsSync(ENGINE_BUNDLE)) return false;
  const built = statSync(ENGINE_BUNDLE).mtimeMs;
  const lock = join(root, 'package-lock.json');
  return built >= newestMtime(join(root, 'engine')) && (!existsSync(lock) || built >= statSync(lock).mtimeMs);
}
