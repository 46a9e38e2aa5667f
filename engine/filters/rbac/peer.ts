// The downstream client certificate's identity as Envoy's RBAC `authenticated` principal sees it:
// URI SANs, then DNS SANs, then the subject in RFC 2253 form ("CN=client,O=Acme"). Read from the
// TLS socket (tls.TLSSocket#getPeerCertificate) once per connection.

import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface PeerIdentity {
  uriSans: string[];
  dnsSans: string[];
  /** RFC 2253: most specific RDN first, comma-separated. */
  subject: string;
}

/** Envoy's principal candidates of a certificate. */
export function certificatePrincipals(cert: X509Certificate): PeerIdentity {
  const uriSans: string[] = [];
  const dnsSans: string[] = [];
  for (const entry of splitSan(cert.subjectAltName ?? '')) {
    if (entry.startsWith('URI:')) uriSans.push(entry.slice(4));
    else if (entry.startsWith('DNS:')) dnsSans.push(entry.slice(4));
  }
  // Node prints the subject one RDN per line, least specific first; RFC 2253 reverses the order.
  const subject = cert.subject
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => rdn.replace(/([,+"\\<>;])/g, '\\$1'))
    .join(',');
  return { uriSans, dnsSans, subject };
}

// subjectAltName is "DNS:a, URI:b"; a quoted value may itself hold ", ".
function splitSan(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted && s[i + 1] === ' ') {
      out.push(cur);
      cur = '';
      i++;
      continue;
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const cache = new WeakMap<Socket, PeerIdentity | null>();

/**
 * The identity of a downstream TLS connection: its verified client certificate's principals, or
 * empty ones when the client sent none (Envoy's `authenticated: {}` matches any TLS connection).
 * undefined for plain-text connections.
 */
export function peerIdentity(socket: Socket): PeerIdentity | undefined {
  const hit = cache.get(socket);
  if (hit !== undefined) return hit ?? undefined;
  let id: PeerIdentity | null = null;
  const tls = socket as TLSSocket;
  if (tls.encrypted && typeof tls.getPeerCertificate === 'function') {
    id = { uriSans: [], dnsSans: [], subject: '' };
    const raw = tls.authorized ? tls.getPeerCertificate(false)?.raw : undefined;
    if (raw && raw.length > 0) {
      try {
        id = certificatePrincipals(new X509Certificate(raw));
      } catch {
        // An unparsable certificate authenticates nobody.
      }
    }
  }
  cache.set(socket, id);
  return id ?? undefined;
}
