// One jwt_authn provider (JwtProvider): where its tokens are, how a token is checked — in Envoy's
// order: format, issuer, time (exp/nbf with clock_skew_seconds), audiences, then the signature
// against the provider's JWKS — and what a verified token does to the request (forward,
// forward_payload_header, claim_to_headers, payload_in_metadata / header_in_metadata).

import { parseQuery } from '../../router/matchers';
import type { HttpStream } from '../../listener/stream';
import type { Counter } from '../../observe/stats';
import { LocalKeys, RemoteKeys, type KeySource, type RemoteStats } from './jwks';
import { JwtStatus } from './status';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

export const JWT_AUTHN_METADATA = 'envoy.filters.http.jwt_authn';

/** A token found in a request, and how to remove it (forward: false). */
export interface FoundToken {
  token: string;
  /** Header name to drop when the provider does not forward the JWT; '' for params and cookies. */
  header: string;
}

interface Location {
  kind: 'header' | 'param' | 'cookie';
  name: string;
  prefix: string;
}

/** A decoded, not yet verified JWT. */
interface Jwt {
  header: Obj;
  payload: Obj;
  payloadB64: string;
}

export interface ProviderStats extends RemoteStats {
  jwt_cache_hit: Counter;
  jwt_cache_miss: Counter;
}

// The characters a JWT can hold (base64url and the dots); the token ends at the first other one.
const JWT_CHARS = /^[A-Za-z0-9_\-.=+/]+/;

export class Provider {
  readonly issuer: string;
  private readonly audiences: string[];
  private readonly locations: Location[];
  private readonly keys: KeySource;
  private readonly forward: boolean;
  private readonly forwardPayloadHeader: string;
  private readonly padPayload: boolean;
  readonly payloadInMetadata: string;
  readonly headerInMetadata: string;
  private readonly clockSkewS: number;
  private readonly requireExpiration: boolean;
  private readonly claimToHeaders: Array<{ header: string; claim: string }>;
  /** Signature-checked tokens (jwt_cache_config); claims are still checked on every use. */
  private readonly cache: Map<string, Jwt> | undefined;
  private readonly cacheSize: number;

  constructor(
    readonly name: string,
    c: Obj,
    private readonly stats: ProviderStats,
  ) {
    this.issuer = typeof c.issuer === 'string' ? c.issuer : '';
    this.audiences = strs(c.audiences).map(normalizeAudience);
    this.keys = c.remote_jwks !== undefined ? new RemoteKeys(obj(c.remote_jwks), stats) : new LocalKeys(obj(c.local_jwks));
    this.forward = c.forward === true;
    this.forwardPayloadHeader = typeof c.forward_payload_header === 'string' ? c.forward_payload_header.toLowerCase() : '';
    this.padPayload = c.pad_forward_payload_header === true;
    this.payloadInMetadata = typeof c.payload_in_metadata === 'string' ? c.payload_in_metadata : '';
    this.headerInMetadata = typeof c.header_in_metadata === 'string' ? c.header_in_metadata : '';
    this.clockSkewS = typeof c.clock_skew_seconds === 'number' && c.clock_skew_seconds > 0 ? c.clock_skew_seconds : 60;
    this.requireExpiration = c.require_expiration === true;
    this.claimToHeaders = (Array.isArray(c.claim_to_headers) ? c.claim_to_headers : [])
      .map(obj)
      .filter((h) => typeof h.header_name === 'string' && typeof h.claim_name === 'string')
      .map((h) => ({ header: (h.header_name as string).toLowerCase(), claim: h.claim_name as string }));
    const locations: Location[] = [];
    for (const h of Array.isArray(c.from_headers) ? c.from_headers.map(obj) : []) {
      if (typeof h.name === 'string') locations.push({ kind: 'header', name: h.name.toLowerCase(), prefix: typeof h.value_prefix === 'string' ? h.value_prefix : '' });
    }
    for (const p of strs(c.from_params)) locations.push({ kind: 'param', name: p, prefix: '' });
    for (const k of strs(c.from_cookies)) locations.push({ kind: 'cookie', name: k, prefix: '' });
    // Envoy's default: `Authorization: Bearer <token>` and the access_token query parameter.
    if (locations.length === 0) locations.push({ kind: 'header', name: 'authorization', prefix: 'Bearer ' }, { kind: 'param', name: 'access_token', prefix: '' });
    this.locations = locations;
    if (c.jwt_cache_config !== undefined) {
      const size = obj(c.jwt_cache_config).jwt_cache_size;
      this.cacheSize = typeof size === 'number' && size > 0 ? size : 100;
      this.cache = new Map();
    } else this.cacheSize = 0;
  }

  /** Why this provider's keys are unusable, if they are (a local_jwks file that cannot be read). */
  get keyError(): string | undefined {
    return this.keys instanceof LocalKeys ? this.keys.error : undefined;
  }

  /** Drop headers a client could use to pass itself off as verified (Envoy's sanitizePayloadHeaders). */
  sanitize(stream: HttpStream): void {
    const h = stream.req.headers;
    if (this.forwardPayloadHeader) delete h[this.forwardPayloadHeader];
    for (const c of this.claimToHeaders) delete h[c.header];
  }

  /** The tokens this provider's locations hold in the request. */
  extract(stream: HttpStream, out: FoundToken[], seen: Set<string>): void {
    const headers = stream.req.headers;
    let params: Map<string, string> | undefined;
    let cookies: Map<string, string> | undefined;
    for (const l of this.locations) {
      let token: string | undefined;
      let header = '';
      if (l.kind === 'header') {
        const raw = headers[l.name];
        const v = Array.isArray(raw) ? raw[0] : raw;
        if (v === undefined) continue;
        if (l.prefix) {
          const at = v.indexOf(l.prefix);
          if (at < 0) continue;
          token = JWT_CHARS.exec(v.slice(at + l.prefix.length))?.[0];
        } else token = v.trim();
        header = l.name;
      } else if (l.kind === 'param') {
        params ??= parseQuery(stream.query);
        token = params.get(l.name);
      } else {
        cookies ??= parseCookies(headers.cookie);
        token = cookies.get(l.name);
      }
      if (!token) continue;
      const key = `${l.kind}:${l.name}:${token}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ token, header });
    }
  }

  /** Check one token; on success apply what a verified JWT does to the request. */
  async verify(stream: HttpStream, found: FoundToken, audiences?: string[], payloads?: Record<string, unknown>): Promise<JwtStatus> {
    let jwt = this.cache?.get(found.token);
    const cached = jwt !== undefined;
    if (this.cache) (cached ? this.stats.jwt_cache_hit : this.stats.jwt_cache_miss).inc();
    if (!jwt) {
      jwt = decode(found.token);
      if (!jwt) return JwtStatus.JwtBadFormat;
    }
    const { header, payload } = jwt;
    if (typeof header.alg !== 'string') return JwtStatus.JwtHeaderBadAlg;
    if (this.issuer && payload.iss !== this.issuer) return JwtStatus.JwtUnknownIssuer;
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.nbf === 'number' && now + this.clockSkewS < payload.nbf) return JwtStatus.JwtNotYetValid;
    if (typeof payload.exp === 'number' && now > payload.exp + this.clockSkewS) return JwtStatus.JwtExpired;
    if (this.requireExpiration && typeof payload.exp !== 'number') return JwtStatus.JwtExpirationMissing;
    if (!audiencesAllowed(audiences?.map(normalizeAudience) ?? this.audiences, payload.aud)) return JwtStatus.JwtAudienceNotAllowed;
    if (!cached) {
      const kid = typeof header.kid === 'string' ? header.kid : undefined;
      const set = await this.keys.get(kid, false);
      if (!set) return this.keys.remote ? JwtStatus.JwksFetchFail : JwtStatus.JwksNoValidKeys;
      let status = await set.verify(found.token, header.alg, kid);
      if (status === JwtStatus.JwksKidAlgMismatch && this.keys.remote) {
        const fresh = await this.keys.get(kid, true);
        if (fresh && fresh !== set) status = await fresh.verify(found.token, header.alg, kid);
      }
      if (status !== JwtStatus.Ok) return status;
      if (this.cache) {
        if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(found.token, jwt);
      }
    }
    this.onVerified(stream, found, jwt, payloads);
    return JwtStatus.Ok;
  }

  private onVerified(stream: HttpStream, found: FoundToken, jwt: Jwt, payloads?: Record<string, unknown>): void {
    const h = stream.req.headers;
    if (this.forwardPayloadHeader) {
      const b64 = jwt.payloadB64;
      h[this.forwardPayloadHeader] = this.padPayload ? b64 + '='.repeat((4 - (b64.length % 4)) % 4) : b64;
    }
    for (const c of this.claimToHeaders) {
      const v = claimAt(jwt.payload, c.claim);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') h[c.header] = String(v);
    }
    if (!this.forward && found.header) delete h[found.header];
    if (payloads) {
      if (this.payloadInMetadata) payloads[this.payloadInMetadata] = jwt.payload;
      if (this.headerInMetadata) payloads[this.headerInMetadata] = jwt.header;
    }
  }
}

function decode(token: string): Jwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null) return undefined;
    return { header: header as Obj, payload: payload as Obj, payloadB64: parts[1] };
  } catch {
    return undefined;
  }
}

/** jwt_verify_lib's CheckAudience: scheme and trailing slash do not count. */
function normalizeAudience(a: string): string {
  return a.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

function audiencesAllowed(allowed: string[], aud: unknown): boolean {
  if (allowed.length === 0) return true;
  const have = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  return have.some((a) => allowed.includes(normalizeAudience(a)));
}

/** A claim by name; a dotted name walks nested objects (claim_to_headers' `a.b`). */
function claimAt(payload: Obj, name: string): unknown {
  if (name in payload) return payload[name];
  let cur: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Obj)[part];
  }
  return cur;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}
