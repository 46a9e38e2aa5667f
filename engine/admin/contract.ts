// The console API (/api/v1): every request and response type, in one place. The renderer imports
// this module with `import type` only, so nothing here may be a runtime value the renderer needs.

import type { Diagnostic } from '../config/model';

export type { Diagnostic };

export const API_PREFIX = '/api/v1';

/** GET /api/v1/config */
export interface ConfigResponse {
  version: number;
  /** The running config text exactly as applied (comments and layout kept). */
  yaml: string;
  sourceName: string;
  warnings: Diagnostic[];
}

/** POST /api/v1/config/validate */
export interface ValidateRequest {
  yaml: string;
}
export interface ValidateResponse {
  ok: boolean;
  diagnostics: Diagnostic[];
}

/** POST /api/v1/config/apply. With baseVersion, a config that changed meanwhile answers 409. */
export interface ApplyRequest {
  yaml: string;
  baseVersion?: number;
}
export interface ApplyResponse {
  ok: boolean;
  /** The running version after the call (unchanged when rejected). */
  version: number;
  diagnostics: Diagnostic[];
  /** The running text after the call. */
  yaml: string;
}

/** One weight change, made as an edit of the YAML document. */
export type WeightEdit =
  | {
      kind: 'endpoint';
      cluster: string;
      /** "address:port" as written in the config's socket_address. */
      endpoint: string;
      weight: number;
    }
  | {
      kind: 'weighted_cluster';
      /** The route's name (Envoy's `name`), or "virtualHostName/index" for an unnamed one. */
      route: string;
      /** Listener whose route_config holds the route; the first match when omitted. */
      listener?: string;
      cluster: string;
      weight: number;
    };

/** POST /api/v1/weights */
export interface WeightsRequest {
  edits: WeightEdit[];
  baseVersion?: number;
}
export type WeightsResponse = ApplyResponse;

export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface HostView {
  /** "address:port" */
  address: string;
  weight: number;
  priority: number;
  locality: string;
  healthy: boolean;
  /** weight / sum of healthy weights in its priority, in [0, 1]; 0 when unhealthy. */
  expectedShare: number;
  /** Share of the cluster's requests this host answered over the window, in [0, 1]. */
  observedShare: number;
  requestsInWindow: number;
  inFlight: number;
  latencyMs: LatencySummary;
}

export interface ClusterView {
  name: string;
  lbPolicy: string;
  type: string;
  hosts: HostView[];
  requestsInWindow: number;
  errorsInWindow: number;
  latencyMs: LatencySummary;
}

/** GET /api/v1/clusters?window=SECONDS (default 10) */
export interface ClustersResponse {
  windowSeconds: number;
  clusters: ClusterView[];
}

export interface SeriesPoint {
  /** Unix seconds of the second this point covers. */
  t: number;
  rps: number;
  errorsPerSec: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface Series {
  cluster: string;
  /** Absent for the cluster-wide series. */
  host?: string;
  points: SeriesPoint[];
}

/** GET /api/v1/timeseries?since=UNIX_SECONDS&cluster=NAME */
export interface TimeSeriesResponse {
  /** How much history the engine keeps (900 s). */
  retentionSeconds: number;
  series: Series[];
}

export interface AccessLogEntry {
  /** Monotonic sequence number; the cursor pages by it. */
  id: number;
  /** ms since the epoch when the request started. */
  startTime: number;
  method: string;
  authority: string;
  path: string;
  protocol: string;
  status: number;
  /** Envoy's RESPONSE_FLAGS text ("-" when none). */
  flags: string;
  responseCodeDetails: string;
  durationMs: number;
  /** Time from the request reaching the upstream to its response headers; null when none. */
  upstreamMs: number | null;
  bytesReceived: number;
  bytesSent: number;
  listener: string;
  route: string;
  cluster: string;
  upstreamHost: string;
  downstreamRemoteAddress: string;
  requestId: string;
  userAgent: string;
  attempts: number;
  requestHeaders: Record<string, string>;
}

/** Filters shared by GET /api/v1/logs and the event stream (all optional, all must hold). */
export interface AccessLogFilter {
  /** "2xx", "4xx", "5xx", or a list "4xx,5xx"; "0" for requests with no response. */
  status?: string;
  method?: string;
  cluster?: string;
  host?: string;
  /** Substring of the path. */
  path?: string;
  /** Any of these response flags, e.g. "UT,UO". */
  flags?: string;
  minDurationMs?: number;
}

/** GET /api/v1/logs?…filters…&cursor=ID&limit=N — newest first; pass nextCursor for older entries. */
export interface AccessLogPage {
  entries: AccessLogEntry[];
  nextCursor: number | null;
  /** Entries the ring has evicted since the engine started (older than what it holds). */
  evicted: number;
}

/** GET /api/v1/events?token=…&…filters… (Server-Sent Events). Each event's `event:` is its type. */
export type EngineEvent =
  | { type: 'hello'; version: number; retentionSeconds: number }
  | { type: 'tick'; t: number; clusters: Array<{ name: string; rps: number; errorsPerSec: number; p50: number | null; p99: number | null; hosts: Array<{ address: string; rps: number; errorsPerSec: number; p50: number | null; p99: number | null; healthy: boolean; inFlight: number }> }> }
  | { type: 'log'; entries: AccessLogEntry[] }
  | { type: 'dropped'; count: number; total: number }
  | { type: 'config'; version: number }
  | { type: 'health'; cluster: string; host: string; healthy: boolean };

export interface ApiError {
  error: string;
}
