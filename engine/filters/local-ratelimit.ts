// envoy.filters.http.local_ratelimit: a token bucket per filter (or per route, or per downstream
// connection), Envoy's enabled/enforced runtime fractions, and its 429 `local_rate_limited`
// local reply with flag RL. Stats: <stat_prefix>.http_local_rate_limit.{enabled,enforced,ok,rate_limited}.

import type { Socket } from 'node:net';
import type { TypedExtension } from '../config/model';
import { getEnvoyRoot } from '../config/protos';
import type { HttpStream } from '../listener/stream';
import { ResponseFlag } from '../observe/response-flags';
import type { Counter, StatsStore } from '../observe/stats';
import type { HttpFilter, HttpFilterFactory } from './types';
import { fractionOf, headerOptions, type HeaderToAdd, setHeaders } from './filter-config';

export const LOCAL_RATELIMIT = 'envoy.filters.http.local_ratelimit';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/**
 * Envoy's token bucket as the local rate limiter uses it since 1.32 (AtomicTokenBucketImpl): it
 * starts full and refills continuously at tokens_per_fill per fill_interval, up to max_tokens;
 * a request takes one whole token.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  constructor(
    readonly maxTokens: number,
    tokensPerFill: number,
    fillIntervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = maxTokens;
    this.last = now();
    this.perMs = tokensPerFill / fillIntervalMs;
  }

  consume(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.maxTokens, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface LocalRateLimitStats {
  enabled: Counter;
  enforced: Counter;
  ok: Counter;
  rate_limited: Counter;
}

export function localRateLimitStats(store: StatsStore, statPrefix: string): LocalRateLimitStats {
  const p = `${statPrefix}.http_local_rate_limit.`;
  return {
    enabled: store.counter(`${p}enabled`),
    enforced: store.counter(`${p}enforced`),
    ok: store.counter(`${p}ok`),
    rate_limited: store.counter(`${p}rate_limited`),
  };
}

/** One LocalRateLimit message, compiled: the filter's own, or a route's typed_per_filter_config. */
class LimiterConfig {
  readonly stats: LocalRateLimitStats;
  readonly status: number;
  readonly enabled: number;
  readonly enforced: number;
  readonly responseHeaders: HeaderToAdd[];
  readonly requestHeadersWhenNotEnforced: HeaderToAdd[];
  /** undefined: no token_bucket, so nothing is limited (Envoy then only applies descriptors). */
  private readonly bucket: TokenBucket | undefined;
  private readonly perConnection: boolean;
  private readonly buckets = new WeakMap<Socket, TokenBucket>();
  private readonly tb: { max: number; perFill: number; intervalMs: number } | undefined;

  constructor(c: Obj, store: StatsStore) {
    this.stats = localRateLimitStats(store, typeof c.stat_prefix === 'string' ? c.stat_prefix : '');
    this.status = statusCode(obj(c.status).code) ?? 429;
    // Envoy: filter_enabled / filter_enforced absent = 0% of requests.
    this.enabled = c.filter_enabled === undefined ? 0 : fractionOf(obj(obj(c.filter_enabled).default_value));
    this.enforced = c.filter_enforced === undefined ? 0 : fractionOf(obj(obj(c.filter_enforced).default_value));
    this.responseHeaders = headerOptions(c.response_headers_to_add);
    this.requestHeadersWhenNotEnforced = headerOptions(c.request_headers_to_add_when_not_enforced);
    this.perConnection = c.local_rate_limit_per_downstream_connection === true;
    const tb = c.token_bucket === undefined ? undefined : obj(c.token_bucket);
    if (tb) {
      const max = typeof tb.max_tokens === 'number' ? tb.max_tokens : 1;
      const perFill = typeof tb.tokens_per_fill === 'number' ? tb.tokens_per_fill : 1;
      // Envoy refuses fill_interval under 50 ms; the loader's PGV check only asks for > 0.
      const intervalMs = Math.max(50, typeof tb.fill_interval === 'number' ? tb.fill_interval : 1000);
      this.tb = { max, perFill, intervalMs };
      if (!this.perConnection) this.bucket = new TokenBucket(max, perFill, intervalMs);
    }
  }

  get counters(): Counter[] {
    return [this.stats.enabled, this.stats.enforced, this.stats.ok, this.stats.rate_limited];
  }

  allow(stream: HttpStream): boolean {
    if (!this.tb) return true;
    if (!this.perConnection) return this.bucket!.consume();
    const sock = stream.req.socket;
    let b = this.buckets.get(sock);
    if (!b) this.buckets.set(sock, (b = new TokenBucket(this.tb.max, this.tb.perFill, this.tb.intervalMs)));
    return b.consume();
  }
}

function statusCode(code: unknown): number | undefined {
  if (typeof code === 'number') return code >= 400 ? code : undefined;
  if (typeof code !== 'string' || code === '') return undefined;
  const n = getEnvoyRoot().lookupEnum('envoy.type.v3.StatusCode').values[code];
  // Envoy: a status below 400 falls back to 429.
  return n !== undefined && n >= 400 ? n : undefined;
}

class LocalRateLimitFilter implements HttpFilter {
  private readonly base: LimiterConfig;
  private readonly perRoute = new WeakMap<TypedExtension, LimiterConfig>();

  constructor(
    config: TypedExtension,
    private readonly store: StatsStore,
    private readonly random: () => number = Math.random,
  ) {
    this.base = new LimiterConfig(config.config, store);
  }

  get counters(): Counter[] {
    return this.base.counters;
  }

  private configFor(stream: HttpStream): LimiterConfig {
    const r = stream.perFilterConfig(LOCAL_RATELIMIT);
    if (!r) return this.base;
    let c = this.perRoute.get(r);
    // A route's LocalRateLimit replaces the filter's (with its own bucket, kept for the snapshot).
    if (!c) this.perRoute.set(r, (c = new LimiterConfig(r.config, this.store)));
    return c;
  }

  decodeHeaders(stream: HttpStream): boolean {
    const c = this.configFor(stream);
    if (!(c.enabled > 0 && this.random() < c.enabled)) return true;
    c.stats.enabled.inc();
    if (c.allow(stream)) {
      c.stats.ok.inc();
      return true;
    }
    c.stats.rate_limited.inc();
    if (!(c.enforced > 0 && this.random() < c.enforced)) {
      setHeaders(stream.req.headers, c.requestHeadersWhenNotEnforced);
      return true;
    }
    c.stats.enforced.inc();
    const extra: string[] = [];
    for (const h of c.responseHeaders) extra.push(h.key, h.value);
    stream.sendLocalReply(c.status, 'local_rate_limited', ResponseFlag.RateLimited, 'local_rate_limited', extra);
    return false;
  }
}

export const localRateLimit: HttpFilterFactory = {
  name: LOCAL_RATELIMIT,
  refusalDetails: ['local_rate_limited'],
  create: (config, ctx) => new LocalRateLimitFilter(config, ctx.store),
};
