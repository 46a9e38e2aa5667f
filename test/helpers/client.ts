// HTTP client helpers for tests: a keep-alive pool, and a bounded-concurrency loop.

import { Agent, request } from 'undici';

export const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET', body?: string): Promise<Reply> {
  const r = await request(url, { method, headers, body, dispatcher: agent });
  return { status: r.statusCode, body: await r.body.text(), headers: r.headers };
}

/** n requests with at most `concurrency` in flight; `make(i)` gives each one's path and headers. */
export async function hammer(
  base: string,
  n: number,
  concurrency: number,
  make: (i: number) => { path?: string; headers?: Record<string, string> } = () => ({}),
): Promise<Reply[]> {
  const out: Reply[] = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const m = make(i);
      out[i] = await get(base + (m.path ?? '/'), m.headers ?? {});
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

export function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}
