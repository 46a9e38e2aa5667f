// What the editor does when the running config changes underneath it (a weight changed on the
// Weights screen, another console, a file reload). Pure, so the rules are tested on their own.

import { diffLines } from '../../components/diff';

export interface Running {
  version: number;
  yaml: string;
}

export type SyncAction =
  /** Nothing changed that the draft started from. */
  | { kind: 'none' }
  /** No unsaved edits (or the edits are exactly the new text): take the new running config. */
  | { kind: 'take'; running: Running }
  /** The user has edits on top of an older version: say so, offer Reload and Compare. */
  | { kind: 'notify'; running: Running };

export function syncWithRunning(base: Running, text: string, running: Running): SyncAction {
  if (running.version === base.version) return { kind: 'none' };
  if (text === base.yaml || text === running.yaml) return { kind: 'take', running };
  return { kind: 'notify', running };
}

interface Hunk {
  /** Base lines [start, end) this change replaces (start === end: an insertion before `start`). */
  start: number;
  end: number;
  lines: string[];
}

/** The changes from `base` to `other`, as runs of base lines replaced by new ones. */
function hunks(base: string, other: string): Hunk[] {
  const out: Hunk[] = [];
  let baseLine = 0; // 0-based index of the next base line
  let cur: Hunk | null = null;
  for (const l of diffLines(base, other)) {
    if (l.kind === 'same') {
      if (cur) out.push(cur);
      cur = null;
      baseLine++;
      continue;
    }
    cur ??= { start: baseLine, end: baseLine, lines: [] };
    if (l.kind === 'del') {
      cur.end++;
      baseLine++;
    } else cur.lines.push(l.text);
  }
  if (cur) out.push(cur);
  return out;
}

const sameHunk = (a: Hunk, b: Hunk) => a.start === b.start && a.end === b.end && a.lines.join('\n') === b.lines.join('\n');

/**
 * A line-based three-way merge: the user's edits (base → mine) and the change made meanwhile
 * (base → theirs, e.g. a weight from the Weights screen) together, or null when they touch the
 * same or adjacent lines (then the user decides, with the diff).
 */
export function mergeEdits(base: string, mine: string, theirs: string): string | null {
  const a = hunks(base, mine);
  const b = hunks(base, theirs);
  const all: Hunk[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x && y && sameHunk(x, y)) {
      all.push(x);
      i++;
      j++;
      continue;
    }
    // Touching counts as a conflict: two insertions at one place have no order to trust.
    if (x && y && x.start <= y.end && y.start <= x.end) return null;
    if (y === undefined || (x !== undefined && x.start < y.start)) {
      all.push(x!);
      i++;
    } else {
      all.push(y);
      j++;
    }
  }
  const lines = base.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const h of all) {
    out.push(...lines.slice(at, h.start), ...h.lines);
    at = h.end;
  }
  out.push(...lines.slice(at));
  return out.join('\n');
}
