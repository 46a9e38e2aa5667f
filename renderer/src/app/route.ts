// Screens live in the URL fragment (#/weights): the admin server only ever serves `/`, and the
// engine's own admin paths (/clusters, /stats, …) stay out of the way.

import { useSyncExternalStore } from 'react';

export const SCREENS = [
  { id: 'dashboard', label: 'Dashboard', hint: 'How each upstream is doing right now' },
  { id: 'weights', label: 'Weights', hint: 'How traffic is split, and changing it' },
  { id: 'logs', label: 'Access log', hint: 'Every request, live' },
  { id: 'traffic', label: 'Traffic', hint: 'Capture, replay and compare recorded traffic' },
  { id: 'filters', label: 'Filters', hint: 'Each listener’s HTTP filters in order, with their counters' },
  { id: 'config', label: 'Config', hint: 'Edit, check and apply the Envoy YAML' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

function current(): ScreenId {
  const id = window.location.hash.replace(/^#\/?/, '').split(/[?&/]/)[0];
  return (SCREENS.find((s) => s.id === id)?.id ?? 'dashboard') as ScreenId;
}

function subscribe(l: () => void): () => void {
  window.addEventListener('hashchange', l);
  return () => window.removeEventListener('hashchange', l);
}

export function useScreen(): ScreenId {
  return useSyncExternalStore(subscribe, current, current);
}

export function go(id: ScreenId): void {
  window.location.hash = `#/${id}`;
}
