// Responses as Envoy's admin sends them: text/plain or application/json, never cached, nosniff.

import type { ServerResponse } from 'node:http';

const COMMON = { 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' };

export function text(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(body), ...COMMON });
  res.end(body);
}

/** Envoy pretty-prints its admin JSON (proto JSON with two-space indentation). */
export function json(res: ServerResponse, value: unknown, status = 200): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...COMMON });
  res.end(body);
}

/** Prometheus' text exposition format, version 0.0.4. */
export function prometheusText(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=UTF-8', 'content-length': Buffer.byteLength(body), ...COMMON });
  res.end(body);
}
