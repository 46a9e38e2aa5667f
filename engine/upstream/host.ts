// An upstream host as load balancers and the router see it. The runtime owns the counters
// (activeRequests is incremented when a request is sent and decremented when it ends); load
// balancers only read them.

export interface Host {
  /** "address:port", Envoy's host key (also the ring-hash key prefix). */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** load_balancing_weight (>= 1). */
  readonly weight: number;
  /** Priority of the host's locality group (0 is highest). */
  readonly priority: number;
  /** "region/zone/sub_zone" of its locality. */
  readonly locality: string;
  /** Locality weight (0 = unset) from the LocalityLbEndpoints. */
  readonly localityWeight: number;
  /** Eligible for traffic (health checks, outlier ejection and health_status decide). */
  healthy: boolean;
  /** Requests in flight to this host right now. */
  activeRequests: number;
  /** Monotonic ms slow start counts from (creation, or the health check that last made it healthy); unset = never in slow start. */
  slowStartFromMono?: number;
}
