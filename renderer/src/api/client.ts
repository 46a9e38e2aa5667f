// One admin URL, one token. In a browser the page is served by the engine itself, so the admin URL
// is the page's own origin and the token arrives in the URL fragment (#token=…), which never reaches
// a server: it is kept in sessionStorage and stripped from the address bar. Electron's preload will
// hand both over as window.meshdeck instead.

import type { ApiError } from '../../../engine/admin/contract';

const TOKEN_KEY = 'meshdeck.token';
const PREFIX = '/api/v1';

let token: string | null = null;
let base = '';

/** Reads the token from the fragment (or the preload, or this tab's session) and cleans the URL. */
export function initAuth(loc: Location = window.location, storage: Storage = window.sessionStorage): void {
  if (window.meshdeck) {
    token = window.meshdeck.token;
    base = window.meshdeck.adminUrl.replace(/\/$/, '');
    return;
  }
  const hash = loc.hash.replace(/^#/, '');
  const m = /(?:^|[&?])token=([^&]*)/.exec(hash);
  if (m) {
    token = decodeURIComponent(m[1] ?? '');
    storage.setItem(TOKEN_KEY, token);
    const rest = hash.replace(/(?:^|[&?])token=[^&]*/, '').replace(/^[&?]/, '');
    history.replaceState(null, '', `${loc.pathname}${loc.search}#${rest.startsWith('/') ? rest : '/'}`);
  } else {
    token = storage.getItem(TOKEN_KEY);
  }
}

export function hasToken(): boolean {
  return !!token;
}

/** A failed API call: the HTTP status (0 when the engine could not be reached) and its message. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `${base}${PREFIX}${path}${qs ? `?${qs}` : ''}`;
}

async function call<T>(method: 'GET' | 'POST', path: string, query: Query | undefined, body: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url(path, query), {
      method,
      signal,
      headers: {
        authorization: `Bearer ${token ?? ''}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiRequestError(0, 'The engine cannot be reached. Is it still running?');
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* plain-text refusals (401/403) */
  }
  if (!res.ok && !(res.status === 422 && parsed && typeof parsed === 'object' && 'diagnostics' in parsed)) {
    const msg = (parsed as ApiError | undefined)?.error ?? text.trim() ?? res.statusText;
    throw new ApiRequestError(res.status, msg || `HTTP ${res.status}`, parsed);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => call<T>('GET', path, query, undefined, signal),
  post: <T>(path: string, body: unknown, signal?: AbortSignal) => call<T>('POST', path, undefined, body, signal),
};

/** The event stream's URL: EventSource cannot send headers, so the token goes in the query. */
export function eventsUrl(filter: Query): string {
  return url('/events', { ...filter, token: token ?? '' });
}
