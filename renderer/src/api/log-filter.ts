// The access-log filter the user chose. It decides both the event stream's server-side filter and
// the log tail's cache key, so it lives outside any one component.

import { useSyncExternalStore } from 'react';
import type { AccessLogFilter } from '../../../engine/admin/contract';
import { normalizeFilter } from './keys';

let filter: AccessLogFilter = {};
const listeners = new Set<() => void>();

export function getLogFilter(): AccessLogFilter {
  return filter;
}

export function setLogFilter(next: AccessLogFilter): void {
  const n = normalizeFilter(next);
  if (JSON.stringify(n) === JSON.stringify(filter)) return;
  filter = n;
  for (const l of listeners) l();
}

export function subscribeLogFilter(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useLogFilter(): AccessLogFilter {
  return useSyncExternalStore(subscribeLogFilter, getLogFilter, getLogFilter);
}
