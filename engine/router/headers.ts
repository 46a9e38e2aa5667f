// request_headers_to_add/remove and response_headers_to_add/remove of a route, its virtual host
// and its route configuration, compiled into one function per direction. Envoy applies the
// route's first, then the virtual host's, then the route configuration's, so the outermost wins.

import type { HeaderMutations, HeaderValueOption } from '../config/model';
import type { HttpStream } from '../listener/stream';

/** Mutates a flat [name, value, name, value…] header list in place. */
export type HeaderMutator = (flat: string[], stream: HttpStream) => void;

export const noMutations: HeaderMutator = () => {};

function apply(flat: string[], add: HeaderValueOption[], remove: string[]): void {
  for (const name of remove) removeAll(flat, name);
  for (const h of add) {
    const key = h.key.toLowerCase();
    const exists = flat.some((v, i) => i % 2 === 0 && v === key);
    switch (h.appendAction) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        flat.push(key, h.value);
        break;
      case 'ADD_IF_ABSENT':
        if (!exists) flat.push(key, h.value);
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        removeAll(flat, key);
        flat.push(key, h.value);
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (exists) {
          removeAll(flat, key);
          flat.push(key, h.value);
        }
        break;
    }
  }
}

function removeAll(flat: string[], name: string): void {
  const n = name.toLowerCase();
  for (let i = flat.length - 2; i >= 0; i -= 2) if (flat[i] === n) flat.splice(i, 2);
}

export function compileMutations(levels: HeaderMutations[], direction: 'request' | 'response'): HeaderMutator {
  const steps = levels
    .map((l) =>
      direction === 'request'
        ? { add: l.requestHeadersToAdd, remove: l.requestHeadersToRemove }
        : { add: l.responseHeadersToAdd, remove: l.responseHeadersToRemove },
    )
    .filter((s) => s.add.length || s.remove.length);
  if (steps.length === 0) return noMutations;
  return (flat) => {
    for (const s of steps) apply(flat, s.add, s.remove);
  };
}
