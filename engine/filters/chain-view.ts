// The console's view of each listener's HTTP filter chain: the filters in config order (the
// router last), whether each runs, and its counters under Envoy's names, read from the running
// snapshot's compiled connection managers.

import type { CounterView, FilterChainView, FilterChainsResponse, HttpFilterView } from '../admin/contract';
import type { CompiledHcm } from '../listener/hcm';
import type { Snapshot } from '../snapshot';
import { getHttpFilter, ROUTER_FILTER } from './registry';

const view = (c: { name: string; value: number }): CounterView => ({ name: c.name, value: c.value });

function filtersOf(hcm: CompiledHcm): HttpFilterView[] {
  const out: HttpFilterView[] = [];
  // CompiledHcm instantiates, in order, every configured filter that is not disabled, not the
  // router and has a registered factory: walk the config the same way to pair them up.
  let next = 0;
  for (const f of hcm.config.httpFilters) {
    if (f.name === ROUTER_FILTER) {
      out.push({ name: f.name, typeUrl: f.typeUrl, state: 'terminal', counters: [] });
      continue;
    }
    if (f.disabled || !getHttpFilter(f.name)) {
      out.push({ name: f.name, typeUrl: f.typeUrl, state: 'disabled', counters: [] });
      continue;
    }
    const instance = hcm.filters[next++];
    out.push({ name: f.name, typeUrl: f.typeUrl, state: 'running', counters: (instance?.counters ?? []).map(view) });
  }
  return out;
}

export function filterChainsView(snap: Snapshot | undefined): FilterChainsResponse {
  const chains: FilterChainView[] = [];
  if (!snap) return { version: 0, chains };
  for (const l of snap.bootstrap.listeners) {
    const compiled = snap.chains.get(l.name) ?? [];
    l.filterChains.forEach((fc, i) => {
      const hcm = compiled[i]?.hcm;
      if (!hcm) return;
      const s = hcm.stats;
      chains.push({
        listener: l.name,
        chain: i,
        statPrefix: hcm.config.statPrefix,
        tls: fc.tls !== undefined,
        serverNames: fc.serverNames,
        requests: [s.downstream_rq_total, s.downstream_rq_2xx, s.downstream_rq_4xx, s.downstream_rq_5xx].map(view),
        filters: filtersOf(hcm),
      });
    });
  }
  return { version: snap.version, chains };
}
