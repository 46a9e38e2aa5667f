// envoy.filters.http.jwt_authn: the first rule whose match fits the request picks a requirement
// (provider_name, provider_and_audiences, requires_any, requires_all, allow_missing,
// allow_missing_or_failed), or a route's PerRouteConfig names one from requirement_map or
// disables the filter. A failure is Envoy's 401 (403 for audiences) with the status as body,
// WWW-Authenticate and RESPONSE_CODE_DETAILS jwt_authn_access_denied{...}.
// Stats: http.<stat_prefix>.jwt_authn.{allowed,denied,cors_preflight_bypassed,jwks_fetch_*,jwt_cache_*}.

import type { TypedExtension } from '../../config/model';
import { routeMatch } from '../../config/resolve';
import type { HttpStream } from '../../listener/stream';
import { compileRouteMatch, type MatchInput } from '../../router/matchers';
import type { Counter, StatsStore } from '../../observe/stats';
import { requestHeaderView } from '../filter-config';
import type { HttpFilter, HttpFilterFactory } from '../types';
import { type FoundToken, JWT_AUTHN_METADATA, Provider, type ProviderStats } from './provider';
import { JwtStatus, rcDetails, STATUS_MESSAGE } from './status';

export const JWT_AUTHN = 'envoy.filters.http.jwt_authn';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** Per request: the payloads verified so far (for dynamic metadata). */
interface Ctx {
  stream: HttpStream;
  payloads: Record<string, unknown>;
}

type Verifier = (ctx: Ctx) => Promise<JwtStatus>;

export function jwtAuthnStats(store: StatsStore, statPrefix: string) {
  const p = `http.${statPrefix}.jwt_authn.`;
  const c = (n: string) => store.counter(p + n);
  return {
    allowed: c('allowed'),
    denied: c('denied'),
    cors_preflight_bypassed: c('cors_preflight_bypassed'),
    jwks_fetch_success: c('jwks_fetch_success'),
    jwks_fetch_failed: c('jwks_fetch_failed'),
    jwt_cache_hit: c('jwt_cache_hit'),
    jwt_cache_miss: c('jwt_cache_miss'),
  };
}

class JwtAuthnFilter implements HttpFilter {
  private readonly providers = new Map<string, Provider>();
  private readonly rules: Array<{ matches: (i: MatchInput) => boolean; verifier: Verifier | undefined }> = [];
  private readonly requirementMap = new Map<string, Verifier>();
  private readonly stats: ReturnType<typeof jwtAuthnStats>;
  private readonly bypassCors: boolean;
  private readonly stripFailure: boolean;
  readonly counters: Counter[];

  constructor(config: TypedExtension, store: StatsStore, statPrefix: string) {
    const c = config.config;
    this.stats = jwtAuthnStats(store, statPrefix);
    const s = this.stats;
    this.counters = [s.allowed, s.denied, s.cors_preflight_bypassed, s.jwks_fetch_success, s.jwks_fetch_failed];
    const pstats: ProviderStats = s;
    for (const [name, p] of Object.entries(obj(c.providers))) this.providers.set(name, new Provider(name, obj(p), pstats));
    for (const [name, r] of Object.entries(obj(c.requirement_map))) this.requirementMap.set(name, this.requirement(obj(r)));
    for (const rule of Array.isArray(c.rules) ? c.rules.map(obj) : []) {
      const matches = compileRouteMatch(routeMatch(obj(rule.match)));
      let verifier: Verifier | undefined;
      if (rule.requires !== undefined) verifier = this.requirement(obj(rule.requires));
      else if (typeof rule.requirement_name === 'string') verifier = this.requirementMap.get(rule.requirement_name);
      this.rules.push({ matches, verifier });
    }
    this.bypassCors = c.bypass_cors_preflight === true;
    this.stripFailure = c.strip_failure_response === true;
  }

  /** A JwtRequirement → its verifier (Envoy's verifier.cc tree). */
  private requirement(r: Obj, siblings: string[] = []): Verifier {
    if (typeof r.provider_name === 'string') return this.providerVerifier(r.provider_name);
    if (r.provider_and_audiences !== undefined) {
      const pa = obj(r.provider_and_audiences);
      const auds = Array.isArray(pa.audiences) ? pa.audiences.filter((a): a is string => typeof a === 'string') : [];
      return this.providerVerifier(String(pa.provider_name ?? ''), auds);
    }
    if (r.requires_any !== undefined) {
      const list = (Array.isArray(obj(r.requires_any).requirements) ? (obj(r.requires_any).requirements as unknown[]) : []).map(obj);
      // allow_missing(_or_failed) goes last and covers the other providers of the list.
      const regular = list.filter((x) => x.allow_missing === undefined && x.allow_missing_or_failed === undefined);
      const bypass = list.find((x) => x.allow_missing_or_failed !== undefined) ?? list.find((x) => x.allow_missing !== undefined);
      const names = regular.flatMap((x) => (typeof x.provider_name === 'string' ? [x.provider_name] : x.provider_and_audiences !== undefined ? [String(obj(x.provider_and_audiences).provider_name)] : []));
      const children = regular.map((x) => this.requirement(x));
      if (bypass) children.push(this.requirement(bypass, names));
      return async (ctx) => {
        let last = JwtStatus.Ok;
        for (const v of children) {
          last = await v(ctx);
          if (last === JwtStatus.Ok) return last;
        }
        return last;
      };
    }
    if (r.requires_all !== undefined) {
      const list = (Array.isArray(obj(r.requires_all).requirements) ? (obj(r.requires_all).requirements as unknown[]) : []).map(obj);
      const children = list.map((x) => this.requirement(x));
      return async (ctx) => {
        for (const v of children) {
          const s = await v(ctx);
          if (s !== JwtStatus.Ok) return s;
        }
        return JwtStatus.Ok;
      };
    }
    if (r.allow_missing_or_failed !== undefined || r.allow_missing !== undefined) {
      const allowFailed = r.allow_missing_or_failed !== undefined;
      const providers = (siblings.length ? siblings : [...this.providers.keys()]).map((n) => this.providers.get(n)).filter((p): p is Provider => !!p);
      return (ctx) => this.allowVerifier(ctx, providers, allowFailed);
    }
    // No requirement set: everything passes.
    return async () => JwtStatus.Ok;
  }

  private providerVerifier(name: string, audiences?: string[]): Verifier {
    const p = this.providers.get(name);
    // The loader reports unknown providers; at run time such a requirement cannot be met.
    if (!p) return async () => JwtStatus.JwtUnknownIssuer;
    return async (ctx) => {
      p.sanitize(ctx.stream);
      const tokens: FoundToken[] = [];
      p.extract(ctx.stream, tokens, new Set());
      if (tokens.length === 0) return JwtStatus.JwtMissed;
      // Every token found must verify (a good token beside a bad one is refused).
      for (const t of tokens) {
        const s = await p.verify(ctx.stream, t, audiences, ctx.payloads);
        if (s !== JwtStatus.Ok) return s;
      }
      return JwtStatus.Ok;
    };
  }

  /** allow_missing / allow_missing_or_failed over several providers: a token's issuer picks its provider. */
  private async allowVerifier(ctx: Ctx, providers: Provider[], allowFailed: boolean): Promise<JwtStatus> {
    const tokens: Array<[FoundToken, Provider]> = [];
    const seen = new Set<string>();
    for (const p of providers) {
      p.sanitize(ctx.stream);
      const found: FoundToken[] = [];
      p.extract(ctx.stream, found, seen);
      for (const t of found) tokens.push([t, p]);
    }
    if (tokens.length === 0) return JwtStatus.Ok;
    let last = JwtStatus.Ok;
    for (const [t, p] of tokens) {
      const iss = issuerOf(t.token);
      const byIssuer = providers.find((x) => x.issuer === iss) ?? providers.find((x) => x.issuer === '') ?? (iss === undefined ? p : undefined);
      last = byIssuer ? await byIssuer.verify(ctx.stream, t, undefined, ctx.payloads) : JwtStatus.JwtUnknownIssuer;
    }
    return allowFailed ? JwtStatus.Ok : last;
  }

  decodeHeaders(stream: HttpStream): boolean | Promise<boolean> {
    const req = stream.req;
    if (this.bypassCors && req.method === 'OPTIONS' && req.headers.origin && req.headers['access-control-request-method']) {
      this.stats.cors_preflight_bypassed.inc();
      this.stats.allowed.inc();
      return true;
    }
    let verifier: Verifier | undefined;
    const perRoute = stream.perFilterConfig(JWT_AUTHN);
    if (perRoute) {
      const pc = perRoute.config;
      if (pc.disabled === true) {
        this.stats.allowed.inc();
        return true;
      }
      const name = typeof pc.requirement_name === 'string' ? pc.requirement_name : '';
      verifier = this.requirementMap.get(name);
      if (!verifier) {
        const msg = `Wrong requirement_name: ${name}. It should be one of [${[...this.requirementMap.keys()].join(',')}]`;
        this.stats.denied.inc();
        stream.sendLocalReply(403, this.stripFailure ? '' : `Failed JWT authentication: ${msg}`, 0, rcDetails(msg));
        return false;
      }
    } else {
      const input: MatchInput = { path: stream.path, query: stream.query, headers: requestHeaderView(stream) };
      const rule = this.rules.find((r) => r.matches(input));
      verifier = rule?.verifier;
    }
    if (!verifier) {
      this.stats.allowed.inc();
      return true;
    }
    const ctx: Ctx = { stream, payloads: {} };
    return verifier(ctx).then((status) => this.complete(stream, ctx, status));
  }

  private complete(stream: HttpStream, ctx: Ctx, status: JwtStatus): boolean {
    if (status === JwtStatus.Ok) {
      this.stats.allowed.inc();
      if (Object.keys(ctx.payloads).length > 0) {
        const md = (stream.info.dynamicMetadata ??= {});
        md[JWT_AUTHN_METADATA] = { ...md[JWT_AUTHN_METADATA], ...ctx.payloads };
      }
      return true;
    }
    this.stats.denied.inc();
    const code = status === JwtStatus.JwtAudienceNotAllowed ? 403 : 401;
    const msg = STATUS_MESSAGE[status];
    if (this.stripFailure) {
      stream.sendLocalReply(code, '', 0, rcDetails(msg));
      return false;
    }
    const req = stream.req;
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    const uri = `${scheme}://${req.headers.host ?? ''}${(req.url ?? '/').slice(0, 256)}`;
    const challenge = `Bearer realm="${uri}"${status === JwtStatus.JwtMissed ? '' : ', error="invalid_token"'}`;
    stream.sendLocalReply(code, msg, 0, rcDetails(msg), ['www-authenticate', challenge]);
    return false;
  }
}

function issuerOf(token: string): string | undefined {
  try {
    const p = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Obj;
    return typeof p.iss === 'string' ? p.iss : undefined;
  } catch {
    return undefined;
  }
}

export const jwtAuthn: HttpFilterFactory = {
  name: JWT_AUTHN,
  refusalDetails: ['jwt_authn_access_denied'],
  create: (config, ctx) => new JwtAuthnFilter(config, ctx.store, ctx.statPrefix),
};
