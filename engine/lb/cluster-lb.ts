// One cluster's load balancer: what the router calls. It does what Envoy's LoadBalancerBase and
// ZoneAwareLoadBalancerBase do around a policy (load_balancer_impl.cc, locality_wrr.cc,
// thread_aware_lb_impl.cc):
//
// 1. Priorities. Health of priority P = min(100, floor(140 * healthy / total)) (overprovisioning
//    factor 1.4). Load fills from P0 down: each priority takes floor(health * 100 / totalHealth) of
//    what is left, where totalHealth = min(100, sum of health) — so when the sum is below 100 the
//    loads are scaled up to still add to 100; rounding leftovers go to the first healthy priority.
// 2. Panic. Unless total health is 100, a priority whose healthy share (plain healthy/total, no
//    overprovisioning) is below healthy_panic_threshold balances over all its hosts, healthy or not,
//    and each pick there counts in panicCount (Envoy's lb_healthy_panic). All priorities in panic →
//    load by host counts. Threshold 0 and nothing healthy → 100% to P0, whose healthy set is empty,
//    so chooseHost returns undefined (the router answers 503 with flag UH).
// 3. The priority is chosen with (hash % 100) + 1 for hashing policies given a hash (a key keeps its
//    priority, hence its host), else a random 1..100, against the cumulative loads.
// 4. Locality weighting (common_lb_config.locality_weighted_lb_config), outside panic: an EDF over
//    localities by weight * min(1, 1.4 * healthy/total), then the policy within the locality. Hashing
//    policies instead fold locality weights into their ring/table (Envoy's normalizeLocalityWeights).
//
// All of this is computed in refresh() — on health or membership change, never per request.

import type { Host } from '../upstream/host';
import type { HostPicker, LbContext, LbEnv, LbPolicy } from './types';
import { EdfScheduler } from './edf';
import { randomSeed } from './config';

/** Cluster.commonLbConfig as the model carries it. */
export interface CommonLbConfig {
  /** Percent 0..100, Envoy's default 50; 0 disables panic. */
  healthyPanicThreshold: number;
  localityWeightedLb: boolean;
}

/** Envoy's default overprovisioning factor, in percent. */
const OVERPROVISIONING = 140;

const NO_HOST: HostPicker = { pick: () => undefined };

interface Locality {
  readonly weight: number;
  readonly picker: HostPicker;
}

const localityWeight = (l: Locality): number => l.weight;

interface PriorityState {
  readonly hosts: readonly Host[];
  readonly healthy: number;
  panic: boolean;
  picker: HostPicker;
  localities: EdfScheduler<Locality> | undefined;
}

interface LocalityGroup {
  readonly weight: number;
  readonly hosts: Host[];
}

/** Hosts of one priority by locality, in order of first appearance. */
function groupByLocality(hosts: readonly Host[]): LocalityGroup[] {
  const byName = new Map<string, LocalityGroup>();
  for (const h of hosts) {
    let g = byName.get(h.locality);
    if (g === undefined) byName.set(h.locality, (g = { weight: h.localityWeight, hosts: [] }));
    g.hosts.push(h);
  }
  return [...byName.values()];
}

export class ClusterLoadBalancer {
  /** Picks made while the chosen priority was in panic (feeds the lb_healthy_panic counter). */
  panicCount = 0;
  private hosts: readonly Host[];
  private readonly panicThreshold: number;
  private priorities: PriorityState[] = [];
  private load: number[] = [];

  constructor(
    hosts: readonly Host[],
    private readonly policy: LbPolicy,
    private readonly lbConfig: Record<string, unknown>,
    private readonly common: CommonLbConfig,
    private readonly env: LbEnv,
  ) {
    const errors = policy.validateConfig?.(lbConfig) ?? [];
    if (errors.length > 0) throw new Error(`${policy.name}: invalid config: ${errors.join('; ')}`);
    const t = common.healthyPanicThreshold;
    if (!(t >= 0 && t <= 100)) throw new Error(`healthy_panic_threshold must be a percent in [0, 100], got ${t}`);
    this.panicThreshold = Math.round(t);
    this.hosts = hosts;
    this.refresh();
  }

  /** Replace the membership (EDS/DNS update) and rebuild. */
  setHosts(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.refresh();
  }

  /** Rebuild priority loads, panic flags and pickers from the hosts' current health. */
  refresh(): void {
    const byPriority: Host[][] = [[]];
    for (const h of this.hosts) (byPriority[h.priority] ??= []).push(h);
    const n = byPriority.length;
    const states: PriorityState[] = [];
    const health: number[] = [];
    let healthSum = 0;
    for (let p = 0; p < n; p++) {
      const hosts = byPriority[p] ?? [];
      let healthy = 0;
      for (const h of hosts) if (h.healthy) healthy++;
      health.push(hosts.length === 0 ? 0 : Math.min(100, Math.floor((OVERPROVISIONING * healthy) / hosts.length)));
      healthSum += health[p];
      states.push({ hosts, healthy, panic: false, picker: NO_HOST, localities: undefined });
    }
    const totalHealth = Math.min(100, healthSum);
    const load = new Array<number>(n).fill(0);

    if (totalHealth > 0) {
      let left = 100;
      let first = -1;
      for (let p = 0; p < n; p++) {
        if (first < 0 && health[p] > 0) first = p;
        load[p] = Math.min(left, Math.floor((health[p] * 100) / totalHealth));
        left -= load[p];
      }
      load[first] += left;
    }
    if (this.panicThreshold === 0 && totalHealth === 0) {
      load.fill(0);
      load[0] = 100; // nothing healthy and panic disabled: P0's empty healthy set answers "no host"
    } else {
      let totalPanic = true;
      for (const s of states) {
        const healthyPercent = s.hosts.length === 0 ? 0 : (100 * s.healthy) / s.hosts.length;
        s.panic = totalHealth === 100 ? false : healthyPercent < this.panicThreshold;
        totalPanic &&= s.panic;
      }
      if (totalPanic) this.loadByHostCount(states, load);
    }

    for (let p = 0; p < n; p++) if (load[p] > 0) this.buildPickers(states[p]);
    this.priorities = states;
    this.load = load;
  }

  /** The host for this request, or undefined when there is none to use (503 UH). */
  chooseHost(ctx: LbContext): Host | undefined {
    let p = 0;
    const load = this.load;
    if (load[0] !== 100) {
      const h = this.policy.hashing && ctx.hash !== undefined ? Number(ctx.hash % 100n) + 1 : Math.floor(this.env.random() * 100) + 1;
      for (let acc = 0; p < load.length; p++) {
        acc += load[p];
        if (h <= acc) break;
      }
      if (p === load.length) p = 0; // loads always add up to 100; never reached
    }
    const s = this.priorities[p];
    if (s.panic) {
      this.panicCount++;
      return s.picker.pick(ctx);
    }
    if (s.localities !== undefined) return s.localities.pickAndAdd(localityWeight)!.picker.pick(ctx);
    return s.picker.pick(ctx);
  }

  /** Percent of traffic each priority receives now (index = priority; sums to 100). */
  get priorityLoad(): readonly number[] {
    return this.load;
  }

  /** Whether `priority` currently balances over all its hosts (panic). */
  inPanic(priority: number): boolean {
    return this.priorities[priority]?.panic ?? false;
  }

  /** Total panic: each priority's share is its share of all hosts, health ignored. */
  private loadByHostCount(states: readonly PriorityState[], load: number[]): void {
    let total = 0;
    for (const s of states) total += s.hosts.length;
    load.fill(0);
    if (total === 0) {
      load[0] = 100;
      return;
    }
    let left = 100;
    let first = -1;
    for (let p = 0; p < states.length; p++) {
      if (first < 0 && states[p].hosts.length > 0) first = p;
      load[p] = Math.floor((100 * states[p].hosts.length) / total);
      left -= load[p];
    }
    load[first] += left;
  }

  private buildPickers(s: PriorityState): void {
    const eligible = s.panic ? s.hosts : s.hosts.filter((h) => h.healthy);
    const { policy, lbConfig, env } = this;
    if (!this.common.localityWeightedLb) {
      s.picker = policy.createPicker(eligible, lbConfig, env);
    } else if (policy.hashing) {
      const { hosts, weights } = localityNormalizedWeights(s.hosts, s.panic);
      s.picker = hosts.length === 0 ? NO_HOST : policy.createPicker(hosts, lbConfig, env, weights);
    } else {
      s.picker = policy.createPicker(eligible, lbConfig, env);
      // Envoy never weighs localities in panic (the panic check comes first) nor with nothing healthy.
      if (!s.panic && eligible.length > 0) s.localities = this.localityScheduler(s.hosts);
    }
  }

  /** EDF over localities by effective weight (Envoy's LocalityWrr); undefined when none qualifies. */
  private localityScheduler(hosts: readonly Host[]): EdfScheduler<Locality> | undefined {
    const entries: Locality[] = [];
    for (const g of groupByLocality(hosts)) {
      const healthy = g.hosts.filter((h) => h.healthy);
      const availability = Math.min(1.0, (OVERPROVISIONING / 100.0) * ((1.0 * healthy.length) / g.hosts.length));
      const weight = g.weight * availability;
      if (weight > 0) entries.push({ weight, picker: this.policy.createPicker(healthy, this.lbConfig, this.env) });
    }
    return entries.length === 0 ? undefined : EdfScheduler.createWithPicks(entries, localityWeight, randomSeed(this.env.random));
  }
}

/**
 * Envoy's normalizeLocalityWeights for hashing policies: host weight * (locality weight / sum of
 * locality weights) / sum of host weights in its locality. Zero-weight localities drop out; all zero
 * → no host. (Envoy does not scale these by locality availability.)
 */
function localityNormalizedWeights(all: readonly Host[], panic: boolean): { hosts: Host[]; weights: number[] } {
  const groups = groupByLocality(all);
  let sum = 0;
  for (const g of groups) sum += g.weight;
  const hosts: Host[] = [];
  const weights: number[] = [];
  if (sum === 0) return { hosts, weights };
  for (const g of groups) {
    if (g.weight === 0) continue;
    const eligible = panic ? g.hosts : g.hosts.filter((h) => h.healthy);
    let hostSum = 0;
    for (const h of eligible) hostSum += h.weight;
    const share = g.weight / sum;
    for (const h of eligible) {
      hosts.push(h);
      weights.push((h.weight * share) / hostSum);
    }
  }
  return { hosts, weights };
}
