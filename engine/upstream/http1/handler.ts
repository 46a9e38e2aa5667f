// What the router hands an upstream pool, and what it gets back: the subset of undici's
// dispatch-handler contract both pools speak (Meshdeck's own HTTP/1.1 pool and undici's, which
// still carries TLS and HTTP/2 upstreams), so the router has one code path for all of them.

/** One request to send. `body` is bytes, nothing, or an async iterable to stream (the downstream request). */
export interface UpstreamDispatch {
  path: string;
  method: string;
  /** Flat [name, value, …], lower-case names, hop-by-hop headers already removed. */
  headers: string[];
  body?: Buffer | string | null | AsyncIterable<Buffer | string>;
}

export interface UpstreamHandler {
  /** A connection took the request; `abort` cancels it (the connection is closed). */
  onConnect?(abort: (err?: Error) => void): void;
  /** Status and [name, value, …] (strings from this pool; Buffers from undici). false = pause reading. */
  onHeaders?(statusCode: number, rawHeaders: Array<Buffer | string>, resume: () => void, statusText?: string): boolean;
  /** Response body bytes. false = pause reading until `resume` is called. */
  onData?(chunk: Buffer): boolean;
  /** The response is complete; trailers as [name, value, …] (or node's header object from undici's h2). */
  onComplete?(trailers?: Array<Buffer | string> | Record<string, unknown> | null): void;
  onError?(err: Error): void;
  /** A chunk of a streamed request body went out. */
  onBodySent?(chunk: Buffer | string | number): void;
  /** The whole request went out. */
  onRequestSent?(): void;
}

/** What the router and the admin API need from an upstream connection pool. */
export interface UpstreamPool {
  dispatch(opts: UpstreamDispatch, handler: UpstreamHandler): boolean;
  /** Connections open now. */
  readonly stats: { readonly connected: number };
  on(event: 'connect' | 'disconnect' | 'connectionError', listener: (...args: unknown[]) => void): unknown;
  /** Finish what is in flight, then close. */
  close(): Promise<void>;
  /** Close now, failing what is in flight. */
  destroy(): Promise<void>;
}

/** Error codes the router maps to Envoy's connect-failure reasons (the same names undici uses, so both pools read alike). */
export const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
