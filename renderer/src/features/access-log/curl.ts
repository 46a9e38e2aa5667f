// "Copy as curl": the request as a shell command. The access log keeps the request headers but not
// the body, so a request that had one gets a placeholder to fill in.

import type { AccessLogEntry } from '../../../../engine/admin/contract';

/** Hop-by-hop headers, and those the proxy adds itself (it will add them again on the replay). */
const SKIP = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'te', 'upgrade', 'proxy-connection', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto']);

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function toCurl(e: AccessLogEntry, base?: string): string {
  const origin = base ?? `http://${e.authority || 'localhost'}`;
  const parts = ['curl'];
  if (e.method !== 'GET' && e.method !== 'HEAD') parts.push('-X', e.method);
  if (e.method === 'HEAD') parts.push('-I');
  parts.push(shellQuote(`${origin}${e.path}`));
  for (const [k, v] of Object.entries(e.requestHeaders ?? {})) {
    if (k.startsWith(':') || SKIP.has(k.toLowerCase()) || k.toLowerCase().startsWith('x-envoy-')) continue;
    parts.push('-H', shellQuote(`${k}: ${v}`));
  }
  if (e.bytesReceived > 0) parts.push('--data-binary', shellQuote(`<${e.bytesReceived} bytes of body, not recorded>`));
  return parts.join(' ');
}
