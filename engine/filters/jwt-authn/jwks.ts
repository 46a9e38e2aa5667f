// JSON Web Key Sets for jwt_authn: local (inline or file, read once per config snapshot) or remote
// (fetched, cached for cache_duration, one fetch in flight at a time). Signature checks use jose;
// key selection follows Envoy's jwt_verify_lib: a key is tried when its kid (if the JWT has one)
// and alg/kty fit; no such key = "Jwks doesn't have key to match kid or alg from Jwt".

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK, type CryptoKey, type JWK } from 'jose';
import { request } from 'undici';
import type { Counter } from '../../observe/stats';
import { JwtStatus } from './status';

type Obj = Record<string, unknown>;

const KTY: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', HS: 'oct', Ed: 'OKP' };

/** A parsed key set: the keys, and their imported forms per alg (imported once). */
export class KeySet {
  private readonly imported = new Map<JWK, Map<string, Promise<CryptoKey | Uint8Array>>>();

  constructor(readonly keys: JWK[]) {}

  /** Parse JWKS JSON (or a single JWK, or PEM public keys as Envoy also accepts). */
  static parse(text: string): KeySet {
    const t = text.trim();
    if (t.startsWith('-----BEGIN')) {
      const keys: JWK[] = [];
      for (const pem of t.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----/g) ?? []) {
        keys.push(createPublicKey(pem).export({ format: 'jwk' }) as JWK);
      }
      return new KeySet(keys);
    }
    const j = JSON.parse(t) as Obj;
    const keys = Array.isArray(j.keys) ? (j.keys as JWK[]) : typeof j.kty === 'string' ? [j as JWK] : [];
    return new KeySet(keys.filter((k) => k && typeof k === 'object' && typeof k.kty === 'string'));
  }

  /** Keys that may have signed a JWT with this alg and kid. */
  candidates(alg: string, kid: string | undefined): JWK[] {
    const kty = KTY[alg.slice(0, 2)];
    return this.keys.filter((k) => {
      if (kid !== undefined && k.kid !== undefined && k.kid !== kid) return false;
      if (k.alg !== undefined && k.alg !== alg) return false;
      if (k.use !== undefined && k.use !== 'sig') return false;
      if (alg === 'EdDSA' || alg === 'Ed25519') return k.kty === 'OKP';
      return k.kty === kty;
    });
  }

  /** Ok, or JwksKidAlgMismatch when no key fits, or JwtVerificationFail when none verifies. */
  async verify(token: string, alg: string, kid: string | undefined): Promise<JwtStatus> {
    const keys = this.candidates(alg, kid);
    if (keys.length === 0) return JwtStatus.JwksKidAlgMismatch;
    for (const k of keys) {
      try {
        await compactVerify(token, await this.key(k, alg), { algorithms: [alg] });
        return JwtStatus.Ok;
      } catch {
        // Try the next key, as jwt_verify_lib does.
      }
    }
    return JwtStatus.JwtVerificationFail;
  }

  private key(k: JWK, alg: string): Promise<CryptoKey | Uint8Array> {
    let byAlg = this.imported.get(k);
    if (!byAlg) this.imported.set(k, (byAlg = new Map()));
    let p = byAlg.get(alg);
    if (!p) byAlg.set(alg, (p = importJWK(k, alg)));
    return p;
  }
}

/** Where a provider's keys come from. */
export interface KeySource {
  /** The current keys; `kidMissing` asks a remote source to refetch first (a rotation). */
  get(kid: string | undefined, kidMissing: boolean): Promise<KeySet | undefined>;
  readonly remote: boolean;
}

export class LocalKeys implements KeySource {
  readonly remote = false;
  private readonly set: KeySet | undefined;
  /** Why the keys could not be read (the config loads; every JWT of this provider then fails). */
  readonly error: string | undefined;

  constructor(source: Obj, baseDir?: string) {
    let text: string | undefined;
    let error: string | undefined;
    try {
      if (typeof source.inline_string === 'string') text = source.inline_string;
      else if (typeof source.inline_bytes === 'string') text = Buffer.from(source.inline_bytes, 'base64').toString('utf8');
      else if (typeof source.filename === 'string') text = readFileSync(baseDir && !source.filename.startsWith('/') ? `${baseDir}/${source.filename}` : source.filename, 'utf8');
      else if (typeof source.environment_variable === 'string') text = process.env[source.environment_variable];
    } catch (e) {
      error = `cannot read local_jwks: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
    let set: KeySet | undefined;
    if (text !== undefined) {
      try {
        set = KeySet.parse(text);
      } catch (e) {
        error = `local_jwks is not a JWKS: ${(e as Error).message}`;
      }
    }
    this.set = set;
    this.error = error;
  }

  async get(): Promise<KeySet | undefined> {
    return this.set;
  }
}

export interface RemoteStats {
  jwks_fetch_success: Counter;
  jwks_fetch_failed: Counter;
}

/**
 * remote_jwks: fetched from http_uri.uri on first use (or at once with async_fetch), kept for
 * cache_duration (default 10 min). Unlike Envoy, which waits for the cache to expire, a JWT whose
 * kid is not in the cached set triggers one refetch, so a key rotation is picked up at once; a kid
 * that is still unknown after a refetch is not asked for again for a second. retry_policy retries
 * a failed fetch with Envoy's jittered exponential back-off (base 1 s, max 10 x base by default).
 */
export class RemoteKeys implements KeySource {
  readonly remote = true;
  private set: KeySet | undefined;
  private fetchedAt = 0;
  private inflight: Promise<KeySet | undefined> | undefined;
  private readonly missedKids = new Map<string, number>();
  readonly uri: string;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  /** retry_policy: extra attempts and Envoy's jittered exponential back-off between them. */
  private readonly retries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    remote: Obj,
    private readonly stats: RemoteStats,
  ) {
    const httpUri = (remote.http_uri ?? {}) as Obj;
    this.uri = typeof httpUri.uri === 'string' ? httpUri.uri : '';
    this.timeoutMs = typeof httpUri.timeout === 'number' && httpUri.timeout > 0 ? httpUri.timeout : 1000;
    this.cacheMs = typeof remote.cache_duration === 'number' && remote.cache_duration > 0 ? remote.cache_duration : 600_000;
    const rp = (remote.retry_policy ?? undefined) as Obj | undefined;
    const backoff = (rp?.retry_back_off ?? {}) as Obj;
    this.retries = rp ? (typeof rp.num_retries === 'number' ? rp.num_retries : 1) : 0;
    this.backoffBaseMs = typeof backoff.base_interval === 'number' ? backoff.base_interval : 1000;
    this.backoffMaxMs = typeof backoff.max_interval === 'number' ? backoff.max_interval : this.backoffBaseMs * 10;
    if (remote.async_fetch !== undefined) void this.fetch();
  }

  async get(kid: string | undefined, kidMissing: boolean): Promise<KeySet | undefined> {
    const now = performance.now();
    const stale = !this.set || now - this.fetchedAt > this.cacheMs;
    let refetch = stale;
    if (!stale && kidMissing && kid !== undefined) {
      const missed = this.missedKids.get(kid);
      refetch = missed === undefined || now - missed > 1000;
      if (refetch) this.missedKids.set(kid, now);
      if (this.missedKids.size > 1000) this.missedKids.clear();
    }
    if (!refetch) return this.set;
    return this.fetch();
  }

  private fetch(): Promise<KeySet | undefined> {
    if (this.inflight) return this.inflight;
    const p = (async () => {
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await request(this.uri, { method: 'GET', headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
            const body = await r.body.text();
            if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
            const set = KeySet.parse(body);
            this.set = set;
            this.fetchedAt = performance.now();
            this.stats.jwks_fetch_success.inc();
            return set;
          } catch {
            if (attempt >= this.retries) throw new Error('jwks fetch failed');
            const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt);
            await new Promise((r) => setTimeout(r, Math.random() * ceiling));
          }
        }
      } catch {
        this.stats.jwks_fetch_failed.inc();
        return undefined;
      } finally {
        this.inflight = undefined;
      }
    })();
    this.inflight = p;
    return p;
  }
}
