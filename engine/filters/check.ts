// Config-time checks of the HTTP filters of issue 7 (called by config/semantic.ts), with Envoy's
// messages where it has one: a requirement naming a provider that is not configured, a rule naming
// a requirement that requirement_map lacks, a local_jwks that is not a key set, a token bucket
// refilled faster than every 50 ms (errors); a remote_jwks uri that cannot be fetched (a warning,
// as Envoy loads it). Each is located by path.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Reporter } from '../config/report';
import { child, entry, index } from '../config/report';
import type { TypedNode } from '../config/validate';
import { KeySet } from './jwt-authn/jwks';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);

export const JWT_AUTHN_TYPE = 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const LOCAL_RATELIMIT_TYPE = 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';

export function checkJwtAuthn(rep: Reporter, n: TypedNode, opts: { baseDir?: string } = {}): void {
  const c = n.value;
  const providers = isObject(c.providers) ? c.providers : {};
  const requirementMap = isObject(c.requirement_map) ? c.requirement_map : {};
  for (const [name, p] of Object.entries(providers)) {
    if (isObject(p)) provider(rep, name, p, entry(child(n.path, 'providers'), name), opts);
  }
  for (const [name, r] of Object.entries(requirementMap)) {
    if (isObject(r)) requirement(rep, r, entry(child(n.path, 'requirement_map'), name), providers);
  }
  list(c.rules).forEach((rule, i) => {
    const rpath = index(child(n.path, 'rules'), i);
    if (isObject(rule.requires)) requirement(rep, rule.requires, child(rpath, 'requires'), providers);
    if (typeof rule.requirement_name === 'string' && !(rule.requirement_name in requirementMap)) {
      rep.error('unknown_requirement', child(rpath, 'requirement_name'), `Wrong requirement_name: ${rule.requirement_name}. It should be one of [${Object.keys(requirementMap).join(',')}]`);
    }
  });
}

function requirement(rep: Reporter, r: Obj, path: string, providers: Obj): void {
  const known = (name: unknown, at: string) => {
    if (typeof name === 'string' && !(name in providers)) {
      rep.error('unknown_provider', at, `Required provider ['${name}'] is not configured.`, {
        suggestion: Object.keys(providers).length ? `configured providers: ${Object.keys(providers).join(', ')}` : 'add it under providers',
      });
    }
  };
  if (r.provider_name !== undefined) known(r.provider_name, child(path, 'provider_name'));
  if (isObject(r.provider_and_audiences)) known(r.provider_and_audiences.provider_name, child(child(path, 'provider_and_audiences'), 'provider_name'));
  for (const k of ['requires_any', 'requires_all'] as const) {
    const group = r[k];
    if (isObject(group)) list(group.requirements).forEach((x, i) => requirement(rep, x, index(child(child(path, k), 'requirements'), i), providers));
  }
}

function provider(rep: Reporter, name: string, p: Obj, path: string, opts: { baseDir?: string }): void {
  if (isObject(p.local_jwks)) {
    const src = p.local_jwks;
    const jpath = child(path, 'local_jwks');
    let text: string | undefined;
    let at = jpath;
    if (typeof src.inline_string === 'string') {
      text = src.inline_string;
      at = child(jpath, 'inline_string');
    } else if (typeof src.filename === 'string') {
      at = child(jpath, 'filename');
      const file = isAbsolute(src.filename) ? src.filename : resolve(opts.baseDir ?? process.cwd(), src.filename);
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        rep.error('file_not_found', at, `cannot read ${src.filename}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        return;
      }
    }
    if (text !== undefined) {
      let why = '';
      try {
        if (KeySet.parse(text).keys.length === 0) why = 'no keys';
      } catch (e) {
        why = (e as Error).message;
      }
      if (why) rep.error('invalid_jwks', at, `Issuer '${typeof p.issuer === 'string' ? p.issuer : ''}' in jwt_authn config has invalid local jwks: ${why}`, { suggestion: `provider '${name}' needs a JSON Web Key Set ({"keys": [...]}) or PEM public keys` });
    }
  }
  if (isObject(p.remote_jwks) && isObject(p.remote_jwks.http_uri)) {
    // Envoy loads any uri and fails at fetch time (every JWT of the provider then fails): say so now.
    const uri = p.remote_jwks.http_uri.uri;
    if (typeof uri !== 'string' || !/^https?:\/\/[^/]/i.test(uri)) {
      rep.warn('invalid_uri', child(child(child(path, 'remote_jwks'), 'http_uri'), 'uri'), `remote_jwks uri '${String(uri)}' is not an http(s) URL: fetching the JWKS will fail`);
    }
  }
}

export function checkLocalRateLimit(rep: Reporter, n: TypedNode): void {
  const tb = n.value.token_bucket;
  if (isObject(tb) && typeof tb.fill_interval === 'number' && tb.fill_interval < 50) {
    rep.error('invalid_fill_interval', child(child(n.path, 'token_bucket'), 'fill_interval'), 'local rate limit token bucket fill timer must be >= 50ms');
  }
}
