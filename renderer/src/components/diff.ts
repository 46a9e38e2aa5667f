// A line diff (longest common subsequence) for showing what an apply changed in the YAML.
// Configs are hundreds of lines, so the O(n·m) table is fine; past a limit it falls back to
// trimming the common head and tail only.

export interface DiffLine {
  kind: 'same' | 'add' | 'del';
  text: string;
  /** 1-based line number in the old text (del/same) or the new one (add). */
  line: number;
}

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const A = a.slice(head, a.length - tail);
  const B = b.slice(head, b.length - tail);
  const out: DiffLine[] = a.slice(0, head).map((text, i) => ({ kind: 'same', text, line: i + 1 }));
  if (A.length * B.length > 4_000_000) {
    A.forEach((text, i) => out.push({ kind: 'del', text, line: head + i + 1 }));
    B.forEach((text, i) => out.push({ kind: 'add', text, line: head + i + 1 }));
  } else {
    const n = A.length;
    const m = B.length;
    const L: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i]![j] = A[i] === B[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && A[i] === B[j]) {
        out.push({ kind: 'same', text: A[i]!, line: head + i + 1 });
        i++;
        j++;
      } else if (i < n && (j >= m || L[i + 1]![j]! >= L[i]![j + 1]!)) {
        out.push({ kind: 'del', text: A[i]!, line: head + i + 1 });
        i++;
      } else {
        out.push({ kind: 'add', text: B[j]!, line: head + j + 1 });
        j++;
      }
    }
  }
  a.slice(a.length - tail).forEach((text, k) => out.push({ kind: 'same', text, line: a.length - tail + k + 1 }));
  return out;
}

/** Only the changed lines with `context` lines around each change. */
export function changedHunks(lines: DiffLine[], context = 1): Array<DiffLine | null> {
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((l, i) => {
    if (l.kind === 'same') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  const out: Array<DiffLine | null> = [];
  let gap = false;
  lines.forEach((l, i) => {
    if (keep[i]) {
      if (gap && out.length) out.push(null);
      out.push(l);
      gap = false;
    } else gap = true;
  });
  return out;
}
