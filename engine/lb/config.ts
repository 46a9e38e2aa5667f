// Reading a policy's `lbConfig` (Cluster.lbConfig, camelCase keys). Each policy validates with these
// at config load (validateConfig → messages) and reads with them when building pickers (invalid
// values throw there, so a bad config can never balance silently with a default).

export type RawConfig = Record<string, unknown>;

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Exclusive lower bound. */
  above?: number;
}

/** Messages for keys this policy does not know (Meshdeck refuses what it does not support). */
export function unknownKeys(config: RawConfig, known: readonly string[], policy: string): string[] {
  const out: string[] = [];
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) out.push(`${policy}: unknown or unsupported field "${key}" (known: ${known.join(', ') || 'none'})`);
  }
  return out;
}

/** The number at `key`, `fallback` when absent; pushes a message to `errors` when invalid. */
export function readNumber(config: RawConfig, key: string, fallback: number, rule: NumberRule, errors: string[]): number {
  const v = config[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    errors.push(`${key}: expected a number, got ${JSON.stringify(v)}`);
    return fallback;
  }
  if (rule.integer && !Number.isInteger(v)) errors.push(`${key}: expected an integer, got ${v}`);
  else if (rule.min !== undefined && v < rule.min) errors.push(`${key}: must be >= ${rule.min}, got ${v}`);
  else if (rule.max !== undefined && v > rule.max) errors.push(`${key}: must be <= ${rule.max}, got ${v}`);
  else if (rule.above !== undefined && !(v > rule.above)) errors.push(`${key}: must be > ${rule.above}, got ${v}`);
  else return v;
  return fallback;
}

/** Throw one error naming the policy when a config read produced messages. */
export function throwIfErrors(policy: string, errors: readonly string[]): void {
  if (errors.length > 0) throw new Error(`${policy}: invalid config: ${errors.join('; ')}`);
}

/** Host weights all equal (Envoy's hostWeightsAreEqual): the cheap unweighted pickers apply. */
export function weightsAreEqual(hosts: readonly { weight: number }[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i].weight !== hosts[0].weight) return false;
  return true;
}

/** A random uint32, Envoy's per-balancer seed (random start of rotations). */
export function randomSeed(random: () => number): number {
  return Math.floor(random() * 4294967296) >>> 0;
}
