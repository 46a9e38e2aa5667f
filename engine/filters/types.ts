// HTTP filters, as Envoy's decoder filters: each sees the request before the router and may
// answer it locally (jwt_authn, rbac, local_ratelimit, fault…). Built once per config snapshot
// from the filter's typed_config by the factory registered under its Envoy name.

import type { TypedExtension } from '../config/model';
import type { HttpStream } from '../listener/stream';

/** true = continue to the next filter; false = the filter answered the request itself. */
export type FilterResult = boolean | Promise<boolean>;

export interface HttpFilter {
  decodeHeaders(stream: HttpStream): FilterResult;
}

export interface HttpFilterFactory {
  /** Envoy's extension name, e.g. `envoy.filters.http.fault`. */
  readonly name: string;
  create(config: TypedExtension): HttpFilter;
}
