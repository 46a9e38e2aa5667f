// What a new connection speaks, read from its first bytes before any protocol handler sees them
// (Envoy's tls_inspector and the HTTP/2 preface check of codec_type AUTO): a TLS ClientHello and
// the server name it asks for, the HTTP/2 connection preface, or anything else (HTTP/1.x, raw TCP).
// The bytes read are put back on the socket, so the handler the socket goes to reads them again.

import type { Duplex } from 'node:stream';

export type Sniffed = { kind: 'tls'; serverName: string } | { kind: 'h2c' } | { kind: 'other' };

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A ClientHello bigger than this is not waited for (its SNI is then unknown). */
const MAX_HELLO = 16 * 1024;

/**
 * Reads until the first bytes say what the connection is, puts them back, and calls `done` once.
 * `wantTls` / `wantH2` say which checks matter for this listener (a pure HTTP/1.1 listener never
 * waits). A socket that closes or errors first never calls `done`.
 */
export function sniff(sock: Duplex, wantTls: boolean, wantH2: boolean, timeoutMs: number, done: (s: Sniffed) => void): void {
  let buf: Buffer | undefined;
  let finished = false;
  const finish = (s: Sniffed) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    sock.off('data', onData);
    sock.off('close', onClose);
    sock.pause();
    if (buf) sock.unshift(buf);
    done(s);
  };
  const onClose = () => {
    finished = true;
    clearTimeout(timer);
  };
  sock.once('close', onClose);
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const r = classify(buf, wantTls, wantH2);
    if (r) finish(r);
  };
  // A client that says nothing is one that waits for the server to speak first (raw TCP): let it through.
  const timer = setTimeout(() => finish({ kind: 'other' }), timeoutMs);
  sock.on('data', onData);
}

/** What `b` is, or undefined when more bytes are needed to tell. */
export function classify(b: Buffer, wantTls: boolean, wantH2: boolean): Sniffed | undefined {
  if (wantTls && b[0] === 0x16) {
    const hello = clientHelloServerName(b);
    if (hello === undefined && b.length < MAX_HELLO) return undefined;
    return { kind: 'tls', serverName: hello ?? '' };
  }
  if (wantH2 && b[0] === 0x50) {
    const n = Math.min(b.length, H2_PREFACE.length);
    if (b.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? { kind: 'h2c' } : undefined;
  }
  return { kind: 'other' };
}

/**
 * The server_name (SNI) of a TLS ClientHello: '' when it has none, undefined when the record is
 * not complete yet. Layout per RFC 8446 §4.1.2 and RFC 6066 §3.
 */
export function clientHelloServerName(b: Buffer): string | undefined {
  if (b.length < 5) return undefined;
  const recordEnd = 5 + b.readUInt16BE(3);
  if (b.length < recordEnd) return undefined;
  let p = 5;
  if (b[p] !== 0x01) return ''; // not a ClientHello
  p += 4; // handshake type + length
  p += 2 + 32; // client_version + random
  if (p >= recordEnd) return '';
  p += 1 + b[p]; // session id
  if (p + 2 > recordEnd) return '';
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (p >= recordEnd) return '';
  p += 1 + b[p]; // compression methods
  if (p + 2 > recordEnd) return '';
  const extEnd = Math.min(recordEnd, p + 2 + b.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (type === 0 && p + 5 <= extEnd) {
      // server_name_list: list length (2), then entries of type (1) + length (2) + name.
      let q = p + 2;
      const listEnd = Math.min(p + len, extEnd);
      while (q + 3 <= listEnd) {
        const nameType = b[q];
        const nameLen = b.readUInt16BE(q + 1);
        q += 3;
        if (nameType === 0) return b.toString('latin1', q, Math.min(q + nameLen, listEnd)).toLowerCase();
        q += nameLen;
      }
      return '';
    }
    p += len;
  }
  return '';
}

/** Envoy's server_names matching: exact first, then the longest "*.suffix" wildcard, then chains without names. */
export function matchServerName<T extends { serverNames: string[] }>(chains: readonly T[], sni: string): T | undefined {
  let wildcard: T | undefined;
  let wildcardLen = -1;
  let fallback: T | undefined;
  for (const c of chains) {
    if (c.serverNames.length === 0) {
      fallback ??= c;
      continue;
    }
    if (!sni) continue;
    for (const n of c.serverNames) {
      if (n === sni) return c;
      if (n.startsWith('*.') || n.startsWith('.')) {
        const suffix = n.startsWith('*') ? n.slice(1) : n;
        if (sni.endsWith(suffix) && suffix.length > wildcardLen) {
          wildcard = c;
          wildcardLen = suffix.length;
        }
      }
    }
  }
  return wildcard ?? fallback;
}
