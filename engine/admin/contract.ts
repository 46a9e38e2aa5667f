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

/**
 * GET /api/v1/config/schema: a JSON Schema (draft-07) of the Envoy v3 Bootstrap for the editor
 * (engine/config/json-schema.ts), with hover text from Envoy's proto comments. Served with an ETag.
 */
export type ConfigSchemaResponse = Record<string, unknown>;

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
  /** Envoy name of the HTTP filter that refused the request with a local reply (jwt_authn, rbac, …); absent otherwise. */
  refusedBy?: string;
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
  /** The refusing HTTP filter, by Envoy name or its last segment ("rbac", "jwt_authn", "local_ratelimit"). */
  filter?: string;
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
  | { type: 'health'; cluster: string; host: string; healthy: boolean }
  | { type: 'hostHealth'; event: HostHealthEvent };

// ---- Host health: active health checks and outlier ejections (engine/upstream/health-events.ts) ----

/** One change of a host's health, as the dashboard's timeline draws it. */
export interface HostHealthEvent {
  /** Epoch ms. */
  t: number;
  cluster: string;
  /** "address:port" */
  host: string;
  /** ejected/unejected: outlier detection; hc_failed/hc_passed: active health checking. */
  kind: 'ejected' | 'unejected' | 'hc_failed' | 'hc_passed';
  /** Ejection type (consecutive_5xx, success_rate, …) or what the health check saw (status 503, timeout, …). */
  reason: string;
  /** For an ejection: how long the host is out for, ms. */
  ejectionMs?: number;
  /** Whether the host takes traffic after this event. */
  healthy: boolean;
  /** Envoy's health_flags after this event, as /clusters prints them. */
  flags: string;
}

/** GET /api/v1/health — each cluster's hosts: their health now and their recent events (bounded, oldest first). */
export interface HostHealthResponse {
  clusters: Array<{
    name: string;
    activeHealthCheck: boolean;
    outlierDetection: boolean;
    hosts: Array<{ address: string; healthy: boolean; flags: string; ejections: number; events: HostHealthEvent[] }>;
  }>;
}

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

// ---- Traffic: /api/v1/traffic (capture, HAR import/export, replay, comparison; engine/traffic/) ----

/** Nearest-rank percentiles, ms; null when there is no value. */
export interface TrafficPercentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export interface CaptureListenerView {
  name: string;
  address: string;
  capturing: boolean;
}

export interface CaptureSessionView {
  id: string;
  startedMs: number;
  endedMs?: number;
  listeners: string[];
  bodyCapBytes: number;
  active: boolean;
  bytes: number;
  /** Active session only: exchanges on disk, and dropped (disk behind / rotated away). */
  written?: number;
  dropped?: number;
}

/** A replayable set of exchanges: an imported HAR or a capture session read back. */
export interface TrafficSetView {
  id: string;
  name: string;
  source: 'har' | 'capture';
  createdMs: number;
  entries: number;
  creator: string;
  /** Time from the first to the last entry's start, ms. */
  spanMs: number;
  methods: Record<string, number>;
  warnings: string[];
}

export type ReplayMode = 'recorded' | 'rate' | 'asap';

/** POST /api/v1/traffic/replay (and the CLI's flags). */
export interface ReplayRequest {
  /** A traffic set id. */
  set: string;
  /** A listener name of this engine, or a base URL (http://host:port). Default: the first listener. */
  target?: string;
  mode?: ReplayMode;
  /** recorded: 0.1 to 100 (default 1). */
  speed?: number;
  /** rate: requests per second. */
  rate?: number;
  /** Requests in flight at most (default 256; asap 64). */
  concurrency?: number;
  /** Times through the set (default 1). */
  loop?: number;
  filter?: { methods?: string[]; url?: string; status?: string };
  /** Rewrite Host / :authority. */
  host?: string;
  dropHeaders?: string[];
  /** Set (or override) headers; {{uuid}} and {{seq}} in a value are filled per request. */
  setHeaders?: Record<string, string>;
  timeoutMs?: number;
  label?: string;
}

export type ReplayState = 'running' | 'done' | 'cancelled' | 'failed';

export interface ReplaySummary {
  planned: number;
  sent: number;
  /** Answered with a status below 500. */
  ok: number;
  /** No answer (transport error, timeout) or a 5xx. */
  failed: number;
  /** Answered with another status than the original's. */
  statusMismatches: number;
  durationMs: number;
  /** Requests sent per second over the sending window. */
  achievedRate: number;
  /** How late each request left against its schedule. */
  sendDelayMs: TrafficPercentiles;
  latencyMs: TrafficPercentiles;
  byStatus: Record<string, number>;
}

export interface ReplayRunView {
  id: string;
  label: string;
  set: string;
  setName: string;
  target: string;
  options: Omit<ReplayRequest, 'set' | 'target' | 'label'>;
  /** The engine's config version when the run started (replays against this engine). */
  configVersion: number | null;
  state: ReplayState;
  startedMs: number;
  finishedMs: number | null;
  inFlight: number;
  summary: ReplaySummary;
  error?: string;
}

export interface ReplayResultView {
  seq: number;
  /** The entry in its set, and the pass (loop) it was sent in. */
  index: number;
  loop: number;
  method: string;
  url: string;
  route: string;
  scheduledMs: number;
  sendDelayMs: number;
  /** 0 = no answer (see error). */
  status: number;
  error?: string;
  latencyMs: number;
  upstreamHost: string;
  cluster: string;
  flags: string;
  upstreamServiceTimeMs: number | null;
  original: { status: number; timeMs: number; upstreamHost: string; flags: string };
}

export interface RouteSideView {
  count: number;
  latencyMs: TrafficPercentiles;
  byStatus: Record<string, number>;
  /** Requests per upstream host ('' = none known). */
  hosts: Record<string, number>;
}

export interface RouteSummaryView {
  route: string;
  original: RouteSideView;
  replay: RouteSideView;
  statusMismatches: number;
}

/** GET /api/v1/traffic/run?id=ID[&offset=N&limit=N] */
export interface ReplayRunDetail {
  run: ReplayRunView;
  routes: RouteSummaryView[];
  results: ReplayResultView[];
  total: number;
}

export interface RouteComparisonView {
  route: string;
  a: RouteSideView;
  b: RouteSideView;
  /** Requests answered with a different status in B than in A. */
  statusChanged: number;
  p50DeltaMs: number | null;
  p99DeltaMs: number | null;
  /** Largest change of one host's share of the route's requests, in points (0–100). */
  hostShiftPct: number;
  /** Worth a look: status changes, p99 up or down by >20% and >1 ms, or a host share moved >5 points. */
  highlight: boolean;
}

/** GET /api/v1/traffic/compare?a=RUN&b=RUN */
export interface ReplayComparison {
  a: ReplayRunView;
  b: ReplayRunView;
  routes: RouteComparisonView[];
  statusChanges: Array<{ index: number; loop: number; method: string; url: string; a: number; b: number }>;
  statusChangesTotal: number;
}

/** GET /api/v1/traffic */
export interface TrafficOverview {
  listeners: CaptureListenerView[];
  bodyCapBytes: number;
  captureRoot: string;
  sessions: CaptureSessionView[];
  sets: TrafficSetView[];
  runs: ReplayRunView[];
}

/** POST /api/v1/traffic/capture */
export interface CaptureRequest {
  listener: string;
  enabled: boolean;
  bodyCapBytes?: number;
}

/** POST /api/v1/traffic/import: HAR text; a broken file answers 422 with the entry and field. */
export interface ImportRequest {
  har: string;
  name?: string;
}
export interface ImportError extends ApiError {
  entry?: number;
  field?: string;
}
export interface TrafficSetResponse {
  set: TrafficSetView;
}
export interface ReplayRunResponse {
  run: ReplayRunView;
}

// ---- HTTP filter chains and the security kit (engine/filters/chain-view.ts, engine/kit/) ----

/** One counter, by its full Envoy stat name. */
export interface CounterView {
  name: string;
  value: number;
}

/** One HTTP filter of a connection manager, in chain order. */
export interface HttpFilterView {
  /** Envoy name, e.g. envoy.filters.http.rbac. */
  name: string;
  typeUrl: string;
  /** running; disabled (`disabled: true` in the config); terminal: the router. */
  state: 'running' | 'disabled' | 'terminal';
  counters: CounterView[];
}

/** A listener's HTTP filter chain (one per HTTP filter chain of the listener). */
export interface FilterChainView {
  listener: string;
  /** Index among the listener's HTTP filter chains. */
  chain: number;
  statPrefix: string;
  /** TLS on this chain (DownstreamTlsContext), and its server_names match. */
  tls: boolean;
  serverNames: string[];
  /** The connection manager's own request counters (downstream_rq_total, _2xx, _4xx, _5xx). */
  requests: CounterView[];
  filters: HttpFilterView[];
}

/** GET /api/v1/filters */
export interface FilterChainsResponse {
  version: number;
  chains: FilterChainView[];
}

/** POST /api/v1/kit: issue a security kit (CA, server and client certificates, JWT keys and tokens). */
export interface KitRequest {
  /** Where to write it (default: a new directory under the system temp dir). */
  dir?: string;
  issuer?: string;
  audience?: string;
  clients?: string[];
}

/** File paths and public facts only: private keys stay in their files. */
export interface KitResponse {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clients: Array<{ name: string; uri: string; cert: string; key: string }>;
  jwt: { issuer: string; audience: string; kid: string; alg: string; jwks: string; signingKey: string; token: string; expiredToken: string };
  envoyConfig: string;
  /** The sample token itself (a credential for the simulation, valid for the kit's lifetime). */
  sampleToken: string;
}
