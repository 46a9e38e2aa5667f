// The console's built files (dist/renderer/, from `npm run build:renderer`), served by the admin
// server at `/` on the same origin as the API. The files are not secret, so they need no token,
// but the admin server still checks Host and Origin before handing a request here. The HTML carries
// a strict Content-Security-Policy; hashed assets are cached for good, the rest revalidates.

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:renderer` writes; MESHDECK_CONSOLE_DIR overrides (packaged builds). */
export function consoleDir(): string {
  return process.env.MESHDECK_CONSOLE_DIR || fileURLToPath(new URL('../../dist/renderer/', import.meta.url));
}

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "worker-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite puts content-hashed files under assets/: their URL changes whenever their bytes do. */
const IMMUTABLE_DIR = '/assets/';

const MISSING_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Meshdeck console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The console has not been built</h1>
<p>The engine is running and its admin API answers, but the console's files are missing.
Build them once, then reload this page:</p>
<pre style="background: #eee; padding: 0.75rem">npm run build:renderer</pre>
</body></html>
`;

function htmlHeaders(extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    'content-type': TYPES['.html']!,
    'cache-control': 'no-cache',
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    ...extra,
  };
}

function notFound(res: ServerResponse, pathname: string): void {
  const body = `not found: ${pathname} (neither an admin endpoint nor a console file)\n`;
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/**
 * Maps a URL path to a file inside `root`, or undefined when it would leave it (`..`, encoded
 * separators, NUL) or is not a plain path. `/` is index.html.
 */
export function resolveConsolePath(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.' || p.startsWith('.'))) return undefined;
  if (parts.length === 0) parts.push('index.html');
  const file = join(root, ...parts);
  const base = root.endsWith(sep) ? root : root + sep;
  return file.startsWith(base) ? file : undefined;
}

/** Answers a GET or HEAD for a console file. The caller has checked Host and Origin. */
export async function serveConsole(req: IncomingMessage, res: ServerResponse, url: URL, root = consoleDir()): Promise<void> {
  const head = req.method === 'HEAD';
  const file = resolveConsolePath(root, url.pathname);
  if (!file) {
    notFound(res, url.pathname);
    return;
  }
  let real: string;
  let size: number;
  let mtimeMs: number;
  try {
    const [rootReal, fileReal] = await Promise.all([realpath(root), realpath(file)]);
    // A symlink inside the build must not lead out of it.
    if (!fileReal.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep)) throw new Error('outside');
    const st = await stat(fileReal);
    if (!st.isFile()) throw new Error('not a file');
    real = fileReal;
    size = st.size;
    mtimeMs = st.mtimeMs;
  } catch {
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(503, htmlHeaders({ 'cache-control': 'no-store', 'content-length': Buffer.byteLength(MISSING_BUILD) }));
      res.end(head ? undefined : MISSING_BUILD);
      return;
    }
    notFound(res, url.pathname);
    return;
  }
  const ext = extname(real).toLowerCase();
  const etag = `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
  const headers: Record<string, string | number> =
    ext === '.html'
      ? htmlHeaders()
      : {
          'content-type': TYPES[ext] ?? 'application/octet-stream',
          'cache-control': url.pathname.startsWith(IMMUTABLE_DIR) ? 'public, max-age=31536000, immutable' : 'no-cache',
          'x-content-type-options': 'nosniff',
        };
  headers.etag = etag;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['content-length'] = size;
  res.writeHead(200, headers);
  if (head) {
    res.end();
    return;
  }
  const stream = createReadStream(real);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
