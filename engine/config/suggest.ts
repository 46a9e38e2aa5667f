// "did you mean ...?" — the nearest candidate to a misspelt name, only when it is close enough to
// be a plausible typo (or shares a word with it, for enum values like LEAST_CONN → LEAST_REQUEST).

/** Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

export interface NearestOptions {
  /** Compare case-insensitively (enum values). */
  ignoreCase?: boolean;
  /** Also accept a candidate sharing a whole word (split on _ . -) when no spelling is close. */
  byWord?: boolean;
  /** Known confusions, checked first: input (normalized) → candidate. */
  aliases?: Readonly<Record<string, string>>;
}

const norm = (s: string, ignoreCase: boolean): string => (ignoreCase ? s.toLowerCase() : s);

/** The candidate `input` most likely meant, or undefined when none is close. */
export function nearest(input: string, candidates: Iterable<string>, opts: NearestOptions = {}): string | undefined {
  const list = [...new Set(candidates)];
  if (list.length === 0 || input.length === 0) return undefined;
  const ic = opts.ignoreCase ?? false;
  const x = norm(input, ic);
  if (opts.aliases) {
    const alias = Object.entries(opts.aliases).find(([k]) => norm(k, ic) === x)?.[1];
    if (alias && list.includes(alias)) return alias;
  }
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of list) {
    const d = editDistance(x, norm(c, ic));
    if (d < bestD || (d === bestD && best !== undefined && c.length < best.length)) {
      best = c;
      bestD = d;
    }
  }
  // Close enough to be a typo: 1 edit for short names, about a third of the length for longer ones.
  const limit = Math.max(1, Math.min(4, Math.floor(Math.max(x.length, 3) / 3)));
  if (best !== undefined && bestD <= limit && bestD < x.length) return best;
  // A name ending or starting the same way (`loadAssignment` → `load_assignment`) after separators are dropped.
  const squash = (s: string) => norm(s, true).replace(/[_.\-]/g, '');
  const sx = squash(input);
  const same = list.filter((c) => squash(c) === sx);
  if (same.length === 1) return same[0];
  if (opts.byWord) {
    const words = (s: string) => norm(s, true).split(/[_.\-\s]+/).filter((w) => w.length > 1);
    const xs = new Set(words(input));
    let top: string | undefined;
    let topScore = 0;
    let tie = false;
    for (const c of list) {
      const shared = words(c).filter((w) => xs.has(w)).length;
      if (shared > topScore) {
        top = c;
        topScore = shared;
        tie = false;
      } else if (shared === topScore && shared > 0) tie = true;
    }
    if (top && !tie) return top;
  }
  return undefined;
}

/** snake_case of a camelCase or PascalCase name (`loadAssignment` → `load_assignment`). */
export function toSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
