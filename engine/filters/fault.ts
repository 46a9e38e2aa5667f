// envoy.filters.http.fault (Envoy's FaultFilter, source/extensions/filters/http/fault/):
// delays and aborts requests, on a percentage of them or as a request header asks.
//
// - Only requests for upstream_cluster (when set), from downstream_nodes (x-envoy-downstream-
//   service-node, when set) and matching `headers` are candidates.
// - delay: fixed_delay, or header_delay (x-envoy-fault-delay-request: ms); abort: http_status, or
//   header_abort (x-envoy-fault-abort-request: a status 200..599). Each is injected on
//   `percentage` of requests; x-envoy-fault-{delay,abort}-request-percentage may lower that
//   numerator (never raise it). An unset percentage is 0/100, as in the proto.
// - A delay comes first (flag DI), then the abort is decided (flag FI, 'fault filter abort',
//   details fault_filter_abort).
// - max_active_faults caps requests with a fault in progress; over it, faults_overflow counts
//   and the request goes on untouched.
// - A route's (or virtual host's) typed_per_filter_config replaces the filter's settings.
// Stats: http.<stat_prefix>.fault.{delays_injected,aborts_injected,active_faults,faults_overflow}.

import type { TypedExtension } from '../config/model';
import { headerMatcher } from '../config/resolve';
import type { HttpStream } from '../listener/stream';
import { ResponseFlag } from '../observe/response-flags';
import type { Counter, Gauge, StatsStore } from '../observe/stats';
import { compileHeaderMatcher } from '../router/matchers';
import type { FilterContext, HttpFilter, HttpFilterFactory } from './types';
import { requestHeaderView } from './filter-config';

export const FAULT = 'envoy.filters.http.fault';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

interface Percent {
  numerator: number;
  denominator: number;
}

function percent(v: unknown): Percent {
  const p = obj(v);
  return {
    numerator: typeof p.numerator === 'number' ? p.numerator : 0,
    denominator: DENOMINATORS[typeof p.denominator === 'string' ? p.denominator : 'HUNDRED'] ?? 100,
  };
}

/** One HTTPFault, compiled. */
interface FaultSettings {
  delay?: { fixedMs?: number; fromHeader: boolean; percent: Percent };
  abort?: { status?: number; fromHeader: boolean; percent: Percent };
  upstreamCluster: string;
  downstreamNodes: string[];
  headers: Array<(h: Record<string, string | string[] | undefined>) => boolean>;
  maxActiveFaults: number;
}

function compile(config: Obj): FaultSettings {
  const out: FaultSettings = {
    upstreamCluster: typeof config.upstream_cluster === 'string' ? config.upstream_cluster : '',
    downstreamNodes: Array.isArray(config.downstream_nodes) ? config.downstream_nodes.filter((s): s is string => typeof s === 'string') : [],
    headers: (Array.isArray(config.headers) ? config.headers : []).map((h) => compileHeaderMatcher(headerMatcher(obj(h)))),
    maxActiveFaults: typeof config.max_active_faults === 'number' ? config.max_active_faults : Number.POSITIVE_INFINITY,
  };
  if (config.delay !== undefined) {
    const d = obj(config.delay);
    out.delay = { fixedMs: typeof d.fixed_delay === 'number' ? d.fixed_delay : undefined, fromHeader: d.header_delay !== undefined, percent: percent(d.percentage) };
  }
  if (config.abort !== undefined) {
    const a = obj(config.abort);
    out.abort = { status: typeof a.http_status === 'number' ? a.http_status : undefined, fromHeader: a.header_abort !== undefined, percent: percent(a.percentage) };
  }
  return out;
}

export interface FaultStats {
  delays_injected: Counter;
  aborts_injected: Counter;
  active_faults: Gauge;
  faults_overflow: Counter;
}

function faultStats(store: StatsStore, statPrefix: string): FaultStats {
  const p = `http.${statPrefix}.fault.`;
  return {
    delays_injected: store.counter(`${p}delays_injected`),
    aborts_injected: store.counter(`${p}aborts_injected`),
    active_faults: store.gauge(`${p}active_faults`),
    faults_overflow: store.counter(`${p}faults_overflow`),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The header's numerator (capped by the configured one) over the configured denominator. */
function headerPercent(p: Percent, v: string | undefined): Percent {
  if (v === undefined || !/^\d+$/.test(v.trim())) return p;
  return { numerator: Math.min(Number(v.trim()), p.numerator), denominator: p.denominator };
}

class FaultFilter implements HttpFilter {
  readonly counters: readonly Counter[];
  private readonly perRoute = new WeakMap<TypedExtension, FaultSettings>();

  constructor(
    private readonly name: string,
    private readonly settings: FaultSettings,
    private readonly stats: FaultStats,
    private readonly random: () => number = Math.random,
  ) {
    this.counters = [stats.delays_injected, stats.aborts_injected, stats.faults_overflow];
  }

  private settingsFor(stream: HttpStream): FaultSettings {
    const override = stream.perFilterConfig(this.name) ?? stream.perFilterConfig(FAULT);
    if (!override) return this.settings;
    let s = this.perRoute.get(override);
    if (!s) this.perRoute.set(override, (s = compile(override.config)));
    return s;
  }

  private enabled(p: Percent): boolean {
    return Math.floor(this.random() * p.denominator) < p.numerator;
  }

  decodeHeaders(stream: HttpStream): boolean | Promise<boolean> {
    const s = this.settingsFor(stream);
    if (!s.delay && !s.abort) return true;
    const h = stream.req.headers;
    if (s.upstreamCluster) {
      const a = stream.route?.action;
      if (!a || a.kind !== 'route' || a.cluster !== s.upstreamCluster) return true;
    }
    if (s.downstreamNodes.length > 0) {
      const node = headerValue(h['x-envoy-downstream-service-node']);
      if (node === undefined || !s.downstreamNodes.includes(node)) return true;
    }
    if (s.headers.length > 0) {
      const view = requestHeaderView(stream);
      if (!s.headers.every((m) => m(view))) return true;
    }
    let active = false;
    const tryActivate = (): boolean => {
      if (active) return true;
      if (this.stats.active_faults.value >= s.maxActiveFaults) {
        this.stats.faults_overflow.inc();
        return false;
      }
      active = true;
      this.stats.active_faults.inc();
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        this.stats.active_faults.dec();
      };
      stream.res.once('close', end);
      stream.res.once('finish', end);
      return true;
    };
    const delayMs = this.delayMs(s, h);
    if (delayMs !== undefined && tryActivate()) {
      this.stats.delays_injected.inc();
      stream.info.responseFlags |= ResponseFlag.DelayInjected;
      return new Promise<boolean>((resolve) => {
        setTimeout(() => resolve(this.maybeAbort(stream, s, h, tryActivate)), delayMs);
      });
    }
    return this.maybeAbort(stream, s, h, tryActivate);
  }

  private delayMs(s: FaultSettings, h: HttpStream['req']['headers']): number | undefined {
    const d = s.delay;
    if (!d) return undefined;
    let ms = d.fixedMs;
    if (d.fromHeader) {
      const v = headerValue(h['x-envoy-fault-delay-request']);
      ms = v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
    }
    if (ms === undefined) return undefined;
    const p = d.fromHeader ? headerPercent(d.percent, headerValue(h['x-envoy-fault-delay-request-percentage'])) : d.percent;
    return this.enabled(p) ? ms : undefined;
  }

  /** true = go on; false = aborted here. */
  private maybeAbort(stream: HttpStream, s: FaultSettings, h: HttpStream['req']['headers'], tryActivate: () => boolean): boolean {
    const a = s.abort;
    if (!a || stream.downstreamGone) return true;
    let status = a.status;
    if (a.fromHeader) {
      const v = headerValue(h['x-envoy-fault-abort-request']);
      const n = v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
      status = n >= 200 && n < 600 ? n : undefined;
    }
    if (status === undefined) return true;
    const p = a.fromHeader ? headerPercent(a.percent, headerValue(h['x-envoy-fault-abort-request-percentage'])) : a.percent;
    if (!this.enabled(p) || !tryActivate()) return true;
    this.stats.aborts_injected.inc();
    stream.sendLocalReply(status, 'fault filter abort', ResponseFlag.FaultInjected, 'fault_filter_abort');
    return false;
  }
}

export const fault: HttpFilterFactory = {
  name: FAULT,
  // Its aborts are refusals in the access log's "refused by" sense.
  refusalDetails: ['fault_filter_abort'],
  create(config: TypedExtension, ctx: FilterContext): HttpFilter {
    return new FaultFilter(config.name, compile(config.config), faultStats(ctx.store, ctx.statPrefix));
  },
};
