// Connection state of the console to the engine, as the event stream sees it. It also drives
// TanStack Query's onlineManager: while the engine is gone, queries pause instead of failing, and
// when it is back every active query refetches by itself.

import { useSyncExternalStore } from 'react';

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'live'; since: number }
  | { kind: 'reconnecting'; since: number; attempts: number }
  | { kind: 'unauthorized' }
  | { kind: 'no-token' };

let state: ConnectionState = { kind: 'connecting' };
const listeners = new Set<() => void>();

export function getConnection(): ConnectionState {
  return state;
}

export function setConnection(next: ConnectionState): void {
  state = next;
  for (const l of listeners) l();
}

export function subscribeConnection(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useConnection(): ConnectionState {
  return useSyncExternalStore(subscribeConnection, getConnection, getConnection);
}

/** "Online" for TanStack Query means: the engine answers. */
export function isEngineReachable(s: ConnectionState = state): boolean {
  return s.kind === 'live' || s.kind === 'connecting';
}
