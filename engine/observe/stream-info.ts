// What one downstream request did, as Envoy's StreamInfo records it: the facts the access log,
// the stats and the console read. One plain object per request, filled in as it goes.

export interface StreamInfo {
  /** Wall-clock start, ms since the epoch (START_TIME). */
  startTimeMs: number;
  /** Monotonic start (performance.now()), for durations. */
  startMono: number;
  /** Monotonic time the last downstream request byte arrived / first and last response bytes left; 0 = not yet. */
  lastDownstreamRxMono: number;
  firstUpstreamTxMono: number;
  firstUpstreamRxMono: number;
  /** The answering try's time from sending to response headers (x-envoy-upstream-service-time); -1 = none. */
  upstreamServiceTimeMs: number;
  lastDownstreamTxMono: number;
  protocol: string; // "HTTP/1.1"
  method: string;
  /** The path as the client sent it, before rewrites. */
  originalPath: string;
  authority: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  responseHeaders: Record<string, string | string[] | number | undefined> | undefined;
  responseCode: number; // 0 = none sent
  responseCodeDetails: string;
  responseFlags: number;
  bytesReceived: number;
  bytesSent: number;
  routeName: string;
  clusterName: string;
  /** "address:port" of the last upstream host tried, '' if none. */
  upstreamHost: string;
  upstreamTransportFailureReason: string;
  attemptCount: number;
  downstreamRemoteAddress: string; // "ip:port"
  downstreamLocalAddress: string;
  requestId: string;
  listenerName: string;
  statPrefix: string;

  // Optional facts, filled in where the engine knows them (the access log prints '-' otherwise).
  /** START_TIME with microsecond precision (µs since the epoch); startTimeMs * 1000 when absent. */
  startTimeUs?: number;
  /** Response headers as sent downstream, flat [name, value, name, value, …] with lower-case names. */
  responseHeaderList?: readonly string[];
  /** Response trailers from the upstream, flat [name, value, …] with lower-case names. */
  responseTrailerList?: readonly string[];
  /** "ip:port" of the local end of the upstream connection. */
  upstreamLocalAddress?: string;
  /** "HTTP/1.1" … of the upstream request. */
  upstreamProtocol?: string;
  /** SNI the downstream client asked for (TLS listeners). */
  requestedServerName?: string;
  /** The body of a local reply (LOCAL_REPLY_BODY). */
  localReplyBody?: string;
  /** Dynamic metadata set by filters: namespace → struct (DYNAMIC_METADATA). */
  dynamicMetadata?: Record<string, Record<string, unknown>>;
  /** Filter state objects by key (FILTER_STATE). */
  filterState?: Record<string, FilterStateObject>;
}

/** One filter-state object as FILTER_STATE serializes it. */
export interface FilterStateObject {
  /** TYPED serialization: the object as a JSON value (a proto's JSON form); undefined when it has none. */
  typed?: unknown;
  /** PLAIN serialization (serializeAsString); undefined when it has none. */
  plain?: string;
  /** FIELD serialization: named fields (FILTER_STATE(KEY:FIELD:NAME)). */
  fields?: Record<string, string | number>;
}

/** A StreamInfo with nothing recorded yet; `fields` sets what is known when the request arrives. */
export function newStreamInfo(fields: Partial<StreamInfo> = {}): StreamInfo {
  return {
    startTimeMs: 0,
    startMono: 0,
    lastDownstreamRxMono: 0,
    firstUpstreamTxMono: 0,
    firstUpstreamRxMono: 0,
    upstreamServiceTimeMs: -1,
    lastDownstreamTxMono: 0,
    protocol: '',
    method: '',
    originalPath: '',
    authority: '',
    requestHeaders: {},
    responseHeaders: undefined,
    responseCode: 0,
    responseCodeDetails: '',
    responseFlags: 0,
    bytesReceived: 0,
    bytesSent: 0,
    routeName: '',
    clusterName: '',
    upstreamHost: '',
    upstreamTransportFailureReason: '',
    attemptCount: 0,
    downstreamRemoteAddress: '',
    downstreamLocalAddress: '',
    requestId: '',
    listenerName: '',
    statPrefix: '',
    ...fields,
  };
}
