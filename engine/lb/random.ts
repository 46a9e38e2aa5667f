// envoy.load_balancing_policies.random (Envoy's RandomLoadBalancer): hosts[random % n].
// Like Envoy, it ignores host weights (locality weights still apply through ClusterLoadBalancer).

import type { Host } from '../upstream/host';
import type { HostPicker, LbEnv, LbPolicy } from './types';
import { unknownKeys, type RawConfig } from './config';

export const RANDOM = 'envoy.load_balancing_policies.random';

class RandomPicker implements HostPicker {
  constructor(private readonly hosts: readonly Host[], private readonly random: () => number) {}
  pick(): Host | undefined {
    const n = this.hosts.length;
    return n === 0 ? undefined : this.hosts[Math.floor(this.random() * n)];
  }
}

export const random: LbPolicy = {
  name: RANDOM,
  validateConfig: (config: RawConfig) => unknownKeys(config, [], RANDOM),
  createPicker: (hosts: readonly Host[], _config: RawConfig, env: LbEnv): HostPicker => new RandomPicker(hosts, env.random),
};
