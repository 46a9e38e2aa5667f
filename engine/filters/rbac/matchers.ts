// RBAC permissions and principals (config.rbac.v3) compiled once per snapshot into closures over
// a per-request view: headers with pseudo headers, path, addresses, the TLS peer identity and
// dynamic metadata (a JWT claim from jwt_authn's payload_in_metadata).

import { BlockList, isIPv6 } from 'node:net';
import { headerMatcher, stringMatcher } from '../../config/resolve';
import type { HttpStream } from '../../listener/stream';
import { compileHeaderMatcher, compileStringMatcher } from '../../router/matchers';
import { peerIdentity, type PeerIdentity } from './peer';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** What RBAC reads of one request, computed lazily once. */
export class RbacRequest {
  private _headers: Record<string, string | string[] | undefined> | undefined;
  private _peer: PeerIdentity | undefined | null = null;

  constructor(readonly stream: HttpStream) {}

  get headers(): Record<string, string | string[] | undefined> {
    if (!this._headers) {
      const req = this.stream.req;
      this._headers = {
        ...req.headers,
        ':method': req.method ?? 'GET',
        ':path': req.url ?? '/',
        ':authority': req.headers.host ?? '',
        ':scheme': (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      };
    }
    return this._headers;
  }

  get peer(): PeerIdentity | undefined {
    if (this._peer === null) this._peer = peerIdentity(this.stream.req.socket);
    return this._peer;
  }

  /** The connection's peer address (Envoy's direct_remote_ip / source_ip). */
  get directRemoteIp(): string {
    return plainIp(this.stream.req.socket.remoteAddress ?? '');
  }

  /**
   * The client address as the connection manager determines it (Envoy's remote_ip): the peer,
   * or, when the connection manager does not use the remote address, the last XFF hop.
   */
  get remoteIp(): string {
    const c = this.stream.hcm.config;
    const xff = this.stream.req.headers['x-forwarded-for'];
    const text = Array.isArray(xff) ? xff.join(',') : xff;
    if (text && (!c.useRemoteAddress || c.xffNumTrustedHops > 0)) {
      const hops = text.split(',').map((s) => s.trim()).filter(Boolean);
      // With use_remote_address the connection manager appended the peer itself: skip it too.
      const skip = c.xffNumTrustedHops + (c.useRemoteAddress ? 1 : 0);
      const hop = hops[hops.length - 1 - Math.min(skip, hops.length - 1)];
      if (hop) return plainIp(hop);
    }
    return this.directRemoteIp;
  }

  get localIp(): string {
    return plainIp(this.stream.req.socket.localAddress ?? '');
  }

  get localPort(): number {
    return this.stream.req.socket.localPort ?? 0;
  }
}

function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export type Match = (r: RbacRequest) => boolean;

/** core.v3.CidrRange → a test of an address (IPv4 also matches an IPv4-mapped IPv6 range). */
function cidr(c: Obj): (ip: string) => boolean {
  const prefix = String(c.address_prefix ?? '');
  const v6 = isIPv6(prefix);
  const len = typeof c.prefix_len === 'number' ? c.prefix_len : v6 ? 128 : 32;
  const bl = new BlockList();
  try {
    bl.addSubnet(prefix, len, v6 ? 'ipv6' : 'ipv4');
  } catch {
    return () => false;
  }
  return (ip) => {
    if (!ip) return false;
    try {
      const ipv6 = isIPv6(ip);
      return bl.check(ip, ipv6 ? 'ipv6' : 'ipv4') || (v6 && !ipv6 && bl.check(`::ffff:${ip}`, 'ipv6'));
    } catch {
      return false;
    }
  };
}

function cidrOn(c: Obj, pick: (r: RbacRequest) => string): Match {
  const test = cidr(c);
  return (r) => test(pick(r));
}

function pathMatcher(pm: Obj): Match {
  const sm = stringMatcher(obj(pm.path));
  if (!sm) return () => false;
  const test = compileStringMatcher(sm);
  // Envoy matches the path without the query string.
  return (r) => test(r.stream.path);
}

function header(h: Obj): Match {
  const test = compileHeaderMatcher(headerMatcher(h));
  return (r) => test(r.headers);
}

/** type.matcher.v3.MetadataMatcher over the request's dynamic metadata. */
function metadata(m: Obj): Match {
  const filter = String(m.filter ?? '');
  const path = list(m.path).map((p) => String(p.key ?? ''));
  const value = valueMatcher(obj(m.value));
  const invert = m.invert === true;
  return (r) => {
    let cur: unknown = r.stream.info.dynamicMetadata?.[filter];
    for (const k of path) cur = typeof cur === 'object' && cur !== null && !Array.isArray(cur) ? (cur as Obj)[k] : undefined;
    const hit = value(cur);
    return invert ? !hit : hit;
  };
}

function valueMatcher(v: Obj): (x: unknown) => boolean {
  if (v.string_match !== undefined) {
    const sm = stringMatcher(obj(v.string_match));
    const test = sm ? compileStringMatcher(sm) : () => false;
    return (x) => typeof x === 'string' && test(x);
  }
  if (v.bool_match !== undefined) return (x) => x === v.bool_match;
  if (v.present_match !== undefined) return (x) => (x !== undefined) === (v.present_match === true);
  if (v.null_match !== undefined) return (x) => x === null;
  if (v.double_match !== undefined) {
    const d = obj(v.double_match);
    if (typeof d.exact === 'number') return (x) => x === d.exact;
    const range = obj(d.range);
    return (x) => typeof x === 'number' && x >= Number(range.start ?? -Infinity) && x < Number(range.end ?? Infinity);
  }
  if (v.list_match !== undefined) {
    const one = valueMatcher(obj(obj(v.list_match).one_of));
    return (x) => Array.isArray(x) && x.some(one);
  }
  if (v.or_match !== undefined) {
    const each = list(obj(v.or_match).value_matchers).map(valueMatcher);
    return (x) => each.some((m) => m(x));
  }
  return () => false;
}

export function compilePermission(p: Obj): Match {
  if (p.any === true) return () => true;
  if (p.and_rules !== undefined) {
    const all = list(obj(p.and_rules).rules).map(compilePermission);
    return (r) => all.every((m) => m(r));
  }
  if (p.or_rules !== undefined) {
    const any = list(obj(p.or_rules).rules).map(compilePermission);
    return (r) => any.some((m) => m(r));
  }
  if (p.not_rule !== undefined) {
    const inner = compilePermission(obj(p.not_rule));
    return (r) => !inner(r);
  }
  if (p.header !== undefined) return header(obj(p.header));
  if (p.url_path !== undefined) return pathMatcher(obj(p.url_path));
  if (p.destination_ip !== undefined) return cidrOn(obj(p.destination_ip), (r) => r.localIp);
  if (typeof p.destination_port === 'number') {
    const port = p.destination_port;
    return (r) => r.localPort === port;
  }
  if (p.destination_port_range !== undefined) {
    const range = obj(p.destination_port_range);
    const start = Number(range.start ?? 0);
    const end = Number(range.end ?? 0);
    return (r) => r.localPort >= start && r.localPort < end;
  }
  if (p.metadata !== undefined) return metadata(obj(p.metadata));
  if (p.requested_server_name !== undefined) {
    const sm = stringMatcher(obj(p.requested_server_name));
    const test = sm ? compileStringMatcher(sm) : () => false;
    return (r) => test(String((r.stream.req.socket as { servername?: string }).servername || ''));
  }
  // matcher / uri_template: not run (the loader warns); they match nothing.
  return () => false;
}

export function compilePrincipal(p: Obj): Match {
  if (p.any === true) return () => true;
  if (p.and_ids !== undefined) {
    const all = list(obj(p.and_ids).ids).map(compilePrincipal);
    return (r) => all.every((m) => m(r));
  }
  if (p.or_ids !== undefined) {
    const any = list(obj(p.or_ids).ids).map(compilePrincipal);
    return (r) => any.some((m) => m(r));
  }
  if (p.not_id !== undefined) {
    const inner = compilePrincipal(obj(p.not_id));
    return (r) => !inner(r);
  }
  if (p.authenticated !== undefined) {
    const a = obj(p.authenticated);
    const sm = a.principal_name !== undefined ? stringMatcher(obj(a.principal_name)) : undefined;
    const test = sm ? compileStringMatcher(sm) : undefined;
    return (r) => {
      const peer = r.peer;
      if (!peer) return false;
      if (!test) return true;
      // Envoy: the URI SANs, then the DNS SANs, then the subject.
      return peer.uriSans.some(test) || peer.dnsSans.some(test) || test(peer.subject);
    };
  }
  if (p.source_ip !== undefined || p.direct_remote_ip !== undefined) return cidrOn(obj(p.source_ip ?? p.direct_remote_ip), (r) => r.directRemoteIp);
  if (p.remote_ip !== undefined) return cidrOn(obj(p.remote_ip), (r) => r.remoteIp);
  if (p.header !== undefined) return header(obj(p.header));
  if (p.url_path !== undefined) return pathMatcher(obj(p.url_path));
  if (p.metadata !== undefined) return metadata(obj(p.metadata));
  // filter_state / custom: not run (the loader warns); they match nothing.
  return () => false;
}
