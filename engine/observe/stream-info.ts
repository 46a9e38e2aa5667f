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
}
