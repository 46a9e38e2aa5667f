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

// ---- Simulation: /api/v1/sim (mock services, incidents, open-loop load; engine/sim/) ----

export type SimRunState = 'starting' | 'running' | 'paused' | 'stopped' | 'finished' | 'failed';
export type SimIncidentType = 'slowdown' | 'errors' | 'down' | 'hangs' | 'resets';

/** Client-side latency in ms, from each request's *scheduled* send time; null before any answer. */
export interface SimLatencyView {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

export interface SimLoadView {
  /** Base URL the generator sends to (a Meshdeck listener). */
  target: string;
  arrivals: 'poisson' | 'constant';
  /** Requests per second the schedule asks for now (the ramp's, or the rate set through the API). */
  targetRate: number;
  rateOverridden: boolean;
  sent: number;
  /** Answered or failed. */
  completed: number;
  /** Arrivals not sent because max_in_flight requests were outstanding. */
  dropped: number;
  /** Requests that got no HTTP answer (timeouts, resets, refused connections). */
  transportErrors: number;
  errorKinds: Record<string, number>;
  byClass: Record<string, number>;
  byMix: Array<{ name: string; sent: number; non2xx: number }>;
  inFlight: number;
  maxInFlight: number;
  maxInFlightSeen: number;
  /** Scenario seconds the load has run, pauses and the warm-up excluded (every count below covers the same span). */
  activeSeconds: number;
  /** The target rate integrated over the active time: what should have been sent. */
  expectedSent: number;
  /** (sent + dropped) per active second: the schedule's own rate. */
  arrivalRate: number;
  /** Sent per active second. Compare with targetRate / expectedSent. */
  achievedRate: number;
  completedRate: number;
  latencyMs: SimLatencyView;
  /** How late the generator itself sent requests (part of latencyMs). */
  sendLagMs: SimLatencyView;
  /** The last few whole seconds. */
  recent: { seconds: number; sentRate: number; completedRate: number; transportErrorRate: number; latencyMs: SimLatencyView };
}

export interface SimInstanceView {
  service: string;
  index: number;
  /** "127.0.0.1:PORT", as in the Envoy config the scenario rewrote. */
  address: string;
  /** Envoy clusters whose endpoints this instance answers for. */
  clusters: string[];
  up: boolean;
  requests: number;
  ok: number;
  errors: number;
  hangs: number;
  resets: number;
  /** Active incident effects, e.g. "slowdown ×5". */
  effects: string[];
}

export interface SimIncidentView {
  id: string;
  name: string;
  type: SimIncidentType;
  service: string;
  /** null: every instance of the service. */
  instance: number | null;
  /** e.g. "×5", "30% 503". */
  detail: string;
  /** Scenario seconds. */
  startS: number;
  endS: number;
  source: 'timeline' | 'manual';
}

export interface SimRunView {
  id: string;
  name: string;
  state: SimRunState;
  seed: number;
  sourceName: string;
  envoyConfig: string;
  /** ms since the epoch. */
  startedAt: number;
  /** Scenario time in seconds (stands still while paused). */
  scenarioTimeS: number;
  durationS: number | null;
  /** Envoy cluster → service. */
  clusters: Record<string, string>;
  instances: SimInstanceView[];
  activeIncidents: SimIncidentView[];
  /** The next occurrence of each timeline incident. */
  upcomingIncidents: SimIncidentView[];
  load: SimLoadView | null;
  /** Where the mocks and the generator run, and what they cost. */
  process: { mode: 'child' | 'in-process'; pid: number; cpuPercent: number | null };
  error?: string;
}

/** GET /api/v1/sim */
export interface SimListResponse {
  runs: SimRunView[];
}

/** POST /api/v1/sim/start: a new scenario (its text), or a stopped run again (its id). */
export interface SimStartRequest {
  id?: string;
  yaml?: string;
  /** For messages and relative paths (envoy_config is resolved against the engine's working directory). */
  sourceName?: string;
}
export interface SimStartResponse {
  ok: boolean;
  run?: SimRunView;
  diagnostics: Diagnostic[];
}

/**
 * POST /api/v1/sim/stop, /pause, /resume. `id` may be left out while exactly one run is active.
 * Stop ends the load and the mocks; the running Envoy config is left as it is (its mapped
 * endpoints then point at closed ports: 503s until another config or scenario is applied).
 */
export interface SimRunRequest {
  id?: string;
}

/** POST /api/v1/sim/rate: a constant rate from now on (replaces the ramp). */
export interface SimRateRequest {
  id?: string;
  rate: number;
}

/** POST /api/v1/sim/incident: a timeline incident (by name) now, or an ad-hoc one. */
export type SimIncidentRequest =
  | { id?: string; incident: string; duration?: string }
  | { id?: string; service: string; instance?: number; type: SimIncidentType; duration: string; factor?: number; rate?: number; status?: number; name?: string };

/** Answer of stop/pause/resume/rate/incident. */
export interface SimRunResponse {
  run: SimRunView;
}
