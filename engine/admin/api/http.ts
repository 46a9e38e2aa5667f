// JSON over HTTP for the console API: errors with a status, replies, and request bodies.

import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

export interface ReadJsonOptions {
  maxBytes?: number;
  /** An empty body reads as {} (for POSTs whose every field is optional). */
  emptyAsObject?: boolean;
}

/**
 * A JSON object body. application/json only: a cross-site form cannot send it without a
 * preflight, which the admin's Origin check then refuses.
 */
export async function readJson<T>(req: IncomingMessage, opts: ReadJsonOptions = {}): Promise<T> {
  const max = opts.maxBytes ?? 4 * 1024 * 1024;
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new HttpError(415, 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) throw new HttpError(413, `body over ${max} bytes`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (opts.emptyAsObject && !text.trim()) return {} as T;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `body is not JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'body is not a JSON object');
  return v as T;
}
