// HTTP filters, as Envoy's decoder filters: each sees the request before the router and may
// answer it locally (jwt_authn, rbac, local_ratelimit, fault…). Built once per config snapshot
// from the filter's typed_config by the factory registered under its Envoy name.

import type { TypedExtension } from '../config/model';
import type { HttpStream } from '../listener/stream';
import type { Counter, StatsStore } from '../observe/stats';

/** true = continue to the next filter; false = the filter answered the request itself. */
export type FilterResult = boolean | Promise<boolean>;

export interface HttpFilter {
  decodeHeaders(stream: HttpStream): FilterResult;
  /** The filter's counters (Envoy's names), for the console's filter-chain view. */
  readonly counters?: readonly Counter[];
}

/** What a filter factory gets besides its typed_config: where its stats live. */
export interface FilterContext {
  readonly store: StatsStore;
  /** The connection manager's stat_prefix (its stats are http.<stat_prefix>.*). */
  readonly statPrefix: string;
}

export interface HttpFilterFactory {
  /** Envoy's extension name, e.g. `envoy.filters.http.fault`. */
  readonly name: string;
  create(config: TypedExtension, ctx: FilterContext): HttpFilter;
  /** RESPONSE_CODE_DETAILS prefixes of this filter's local replies (which filter refused a request). */
  readonly refusalDetails?: readonly string[];
}
