// Envoy's earliest-deadline-first scheduler (source/common/upstream/edf_scheduler.h), the engine of
// weighted round robin, weighted least request and locality picking.
//
// Each entry is due at `deadline`; a pick takes the earliest deadline, advances the scheduler's clock
// to it and re-queues the entry at `now + 1/weight`. Equal deadlines go first-in-first-out (by an
// insertion counter), which makes equal weights rotate. The heap lives in three parallel arrays and a
// pick re-queues the top in place (sift down), so picking allocates nothing.

export class EdfScheduler<T> {
  private readonly items: T[] = [];
  private readonly deadlines: number[] = [];
  private readonly orders: number[] = [];
  private now = 0;
  private nextOrder = 0;

  get size(): number {
    return this.items.length;
  }

  /** Queue `item` due at now + 1/weight. */
  add(weight: number, item: T): void {
    if (!(weight > 0)) throw new Error(`EdfScheduler: weight must be > 0, got ${weight}`);
    this.items.push(item);
    this.deadlines.push(this.now + 1 / weight);
    this.orders.push(this.nextOrder++);
    this.siftUp(this.items.length - 1);
  }

  /** The entry with the earliest deadline, re-queued with the weight `weightOf` gives it now. */
  pickAndAdd(weightOf: (item: T) => number): T | undefined {
    if (this.items.length === 0) return undefined;
    const item = this.items[0];
    this.now = this.deadlines[0];
    const weight = weightOf(item);
    // Why re-read the weight: least-request weights change with active requests between picks.
    this.deadlines[0] = this.now + 1 / weight;
    this.orders[0] = this.nextOrder++;
    this.siftDown(0);
    return item;
  }

  /**
   * A scheduler in the state it would have after `picks` picks from a fresh one (Envoy's
   * EdfScheduler::createWithPicks): how balancers start at a random point of the rotation without
   * doing `picks` picks. Each entry first gets floor(picks * w/W) emulated picks; the few left are done
   * one by one. The 1e-13 added to each weight keeps weights that are multiples of each other exact.
   */
  static createWithPicks<T>(items: readonly T[], weightOf: (item: T) => number, picks: number): EdfScheduler<T> {
    const s = new EdfScheduler<T>();
    if (items.length === 0) return s;
    picks = (picks >>> 0) % 429496729; // Envoy caps the emulated picks (UINT32_MAX / 10)
    const n = items.length;
    const aug = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const w = weightOf(items[i]);
      if (!(w > 0)) throw new Error(`EdfScheduler: weight must be > 0, got ${w}`);
      aug[i] = w + 1e-13;
      sum += aug[i];
    }
    let picked = 0;
    let maxPickTime = 0;
    for (let i = 0; i < n; i++) {
      const w = aug[i];
      let floorPicks = Math.floor((w * picks) / sum);
      // Floating point can round floor(A*B) above A*B; one pick less is then done step by step.
      if (floorPicks > 0 && floorPicks / w >= picks / sum) floorPicks--;
      maxPickTime = Math.max(maxPickTime, floorPicks / w);
      s.items.push(items[i]);
      s.deadlines.push((floorPicks + 1) / w);
      s.orders.push(i);
      picked += floorPicks;
    }
    s.now = maxPickTime;
    s.nextOrder = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) s.siftDown(i);
    for (; picked < picks; picked++) s.pickAndAdd(weightOf);
    return s;
  }

  private less(a: number, b: number): boolean {
    const da = this.deadlines[a];
    const db = this.deadlines[b];
    return da < db || (da === db && this.orders[a] < this.orders[b]);
  }

  private swap(a: number, b: number): void {
    const { items, deadlines, orders } = this;
    const t = items[a]; items[a] = items[b]; items[b] = t;
    const d = deadlines[a]; deadlines[a] = deadlines[b]; deadlines[b] = d;
    const o = orders[a]; orders[a] = orders[b]; orders[b] = o;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      this.swap(i, m);
      i = m;
    }
  }
}
