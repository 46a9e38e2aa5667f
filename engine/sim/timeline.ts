// Incidents over scenario time: which are on at time t (timeline entries, repeating ones, and
// those triggered by hand), and the transitions to apply as time moves on.

import type { SimIncidentView } from '../admin/contract';
import type { IncidentEffect, IncidentSpec } from './scenario';

export interface Occurrence {
  id: string;
  spec: IncidentSpec;
  start: number;
  end: number;
  source: 'timeline' | 'manual';
}

export function describeEffect(e: IncidentEffect): string {
  switch (e.type) {
    case 'slowdown':
      return `×${e.factor}`;
    case 'errors':
      return `${Math.round(e.rate * 1000) / 10}% ${e.status}`;
    case 'down':
      return 'down';
    case 'hangs':
      return `${Math.round(e.rate * 1000) / 10}% never answered`;
    case 'resets':
      return `${Math.round(e.rate * 1000) / 10}% reset`;
  }
}

export function occurrenceView(o: Occurrence): SimIncidentView {
  return {
    id: o.id,
    name: o.spec.name,
    type: o.spec.effect.type,
    service: o.spec.service,
    instance: o.spec.instance ?? null,
    detail: describeEffect(o.spec.effect),
    startS: o.start / 1000,
    endS: o.end / 1000,
    source: o.source,
  };
}

export class Timeline {
  private readonly manual: Occurrence[] = [];
  private readonly active = new Map<string, Occurrence>();
  private manualCount = 0;

  constructor(
    private readonly incidents: IncidentSpec[],
    private readonly apply: (o: Occurrence, on: boolean) => void,
  ) {}

  /** Everything on at scenario time t (ms). */
  at(t: number): Occurrence[] {
    const out: Occurrence[] = [];
    this.incidents.forEach((spec, i) => {
      if (t < spec.atMs) return;
      const k = spec.everyMs ? Math.floor((t - spec.atMs) / spec.everyMs) : 0;
      const start = spec.atMs + k * (spec.everyMs ?? 0);
      if (t < start + spec.durationMs) out.push({ id: `t${i}.${k}`, spec, start, end: start + spec.durationMs, source: 'timeline' });
    });
    for (const m of this.manual) if (t >= m.start && t < m.end) out.push(m);
    return out;
  }

  /** Apply what changed since the last call: ends first, then starts. */
  update(t: number): void {
    const want = new Map(this.at(t).map((o) => [o.id, o]));
    for (const [id, o] of this.active) {
      if (!want.has(id)) {
        this.active.delete(id);
        this.apply(o, false);
      }
    }
    for (const [id, o] of want) {
      if (!this.active.has(id)) {
        this.active.set(id, o);
        this.apply(o, true);
      }
    }
    // Forget finished manual incidents.
    for (let i = this.manual.length - 1; i >= 0; i--) if (this.manual[i].end <= t) this.manual.splice(i, 1);
  }

  /** An incident from now (scenario time t) for its duration. */
  trigger(spec: IncidentSpec, t: number): Occurrence {
    const o: Occurrence = { id: `m${++this.manualCount}`, spec, start: t, end: t + spec.durationMs, source: 'manual' };
    this.manual.push(o);
    this.update(t);
    return o;
  }

  /** Switch everything off (the run stops). */
  clear(): void {
    for (const o of this.active.values()) this.apply(o, false);
    this.active.clear();
    this.manual.length = 0;
  }

  activeNow(): Occurrence[] {
    return [...this.active.values()];
  }

  /** The next start of each timeline incident after t. */
  upcoming(t: number): Occurrence[] {
    const out: Occurrence[] = [];
    this.incidents.forEach((spec, i) => {
      let k = 0;
      if (t >= spec.atMs) {
        if (!spec.everyMs) return;
        k = Math.floor((t - spec.atMs) / spec.everyMs) + 1;
      }
      const start = spec.atMs + k * (spec.everyMs ?? 0);
      out.push({ id: `t${i}.${k}`, spec, start, end: start + spec.durationMs, source: 'timeline' });
    });
    return out.sort((a, b) => a.start - b.start);
  }

  findByName(name: string): IncidentSpec | undefined {
    return this.incidents.find((s) => s.name === name);
  }
}
