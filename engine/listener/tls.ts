// envoy.transport_sockets.tls: the node TLS options a DownstreamTlsContext / UpstreamTlsContext
// stands for, subject-alt-name matching, Envoy's wording of TLS failures, and the downstream
// terminator — one never-listening tls.Server per filter chain, handed each connection the
// listener picked for it, whose certificates are re-read when their files change.

import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { createServer, type PeerCertificate, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import type { CommonTlsContext, DownstreamTlsContext, SanMatcher, TlsDataSource } from '../config/model';
import type { Logger } from '../log';
import type { StatsStore } from '../observe/stats';
import { compileStringMatcher } from '../router/matchers';

/** Relative certificate paths are read from here (the engine's working directory, as Envoy). */
function pathOf(file: string): string {
  return isAbsolute(file) ? file : resolve(process.cwd(), file);
}

/** Certificates or keys that cannot be read or used: the config is refused with this message. */
export class TlsConfigError extends Error {}

export function readDataSource(d: TlsDataSource, what: string): string {
  if (d.inline !== undefined) return d.inline;
  if (d.filename === undefined) throw new TlsConfigError(`${what}: no filename, inline_string or inline_bytes`);
  try {
    return readFileSync(pathOf(d.filename), 'utf8');
  } catch (e) {
    throw new TlsConfigError(`${what}: cannot read ${d.filename}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Every file a context reads (what the watcher watches). */
export function filesOf(c: CommonTlsContext): string[] {
  const out: string[] = [];
  for (const t of c.certificates) for (const d of [t.certificateChain, t.privateKey]) if (d.filename) out.push(pathOf(d.filename));
  if (c.trustedCa?.filename) out.push(pathOf(c.trustedCa.filename));
  return out;
}

/** Envoy writes equal-preference groups as "[A|B]"; OpenSSL wants a flat ':' list. */
function ciphers(list: string[]): string | undefined {
  if (!list.length) return undefined;
  return list.flatMap((c) => c.replace(/[[\]]/g, '').split('|')).join(':');
}

/** The secure-context options of a TLS context (files read now). Throws a clear error for unreadable or invalid files. */
export function secureContextOptions(c: CommonTlsContext, where: string): SecureContextOptions {
  const opts: SecureContextOptions = {
    // Envoy's defaults: TLS 1.2 to 1.3.
    minVersion: (c.minVersion ?? 'TLSv1.2') as SecureContextOptions['minVersion'],
    maxVersion: (c.maxVersion ?? 'TLSv1.3') as SecureContextOptions['maxVersion'],
  };
  if (c.certificates.length) {
    opts.cert = c.certificates.map((t, i) => readDataSource(t.certificateChain, `${where} tls_certificates[${i}].certificate_chain`));
    opts.key = c.certificates.map((t, i) => readDataSource(t.privateKey, `${where} tls_certificates[${i}].private_key`));
  }
  if (c.trustedCa) opts.ca = readDataSource(c.trustedCa, `${where} validation_context.trusted_ca`);
  const cs = ciphers(c.cipherSuites);
  if (cs) opts.ciphers = cs;
  return opts;
}

/** "DNS:a.example, IP Address:127.0.0.1, URI:spiffe://x" → typed entries. */
function subjectAltNames(cert: PeerCertificate): Array<{ type: SanMatcher['sanType']; value: string }> {
  const out: Array<{ type: SanMatcher['sanType']; value: string }> = [];
  for (const part of (cert.subjectaltname ?? '').split(', ')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const kind = part.slice(0, colon);
    const value = part.slice(colon + 1);
    const type = kind === 'DNS' ? 'DNS' : kind === 'URI' ? 'URI' : kind === 'IP Address' ? 'IP_ADDRESS' : kind === 'email' ? 'EMAIL' : undefined;
    if (type) out.push({ type, value });
  }
  return out;
}

/** A certificate check from match_typed_subject_alt_names: true when any SAN of the cert matches any matcher. */
export function compileSanMatchers(matchers: SanMatcher[]): ((cert: PeerCertificate) => boolean) | undefined {
  if (!matchers.length) return undefined;
  const compiled = matchers.map((m) => ({ type: m.sanType, test: compileStringMatcher(m.matcher) }));
  return (cert) => {
    const sans = subjectAltNames(cert);
    return compiled.some((m) => sans.some((s) => (m.type === 'ANY' || m.type === s.type) && m.test(s.value)));
  };
}

// ---------------------------------------------------------------- failure reasons

const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID', 'MESHDECK_SAN_MISMATCH',
]);

/**
 * %UPSTREAM_TRANSPORT_FAILURE_REASON% for a TLS error, in Envoy's (BoringSSL's) words; undefined
 * when `err` is not a TLS error.
 */
export function tlsFailureReason(err: Error): string | undefined {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (VERIFY_CODES.has(code)) return 'TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end';
  if (code.startsWith('ERR_SSL_')) return `TLS_error:|SSL routines:OPENSSL_internal:${code.slice(8)}:TLS_error_end`;
  return undefined;
}

// ---------------------------------------------------------------- downstream

/** What the listener calls with each connection whose handshake succeeded. */
export type SecureHandler = (sock: TLSSocket) => void;

/**
 * One filter chain's TLS: a tls.Server that never listens (the listener hands it sockets), with
 * the chain's certificates, ALPN and client-certificate policy. Certificate files are watched
 * (fs.watch on their folders, plus a stat poll for filesystems where events do not arrive): a
 * change rebuilds the secure context, and the next handshake uses it.
 */
export class TlsTerminator {
  readonly server: Server;
  private readonly files: string[];
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stamps = new Map<string, string>();
  private readonly checkSan: ((cert: PeerCertificate) => boolean) | undefined;
  onSecure: SecureHandler = (s) => s.destroy();

  constructor(
    readonly config: DownstreamTlsContext,
    /** ALPN to offer when the config names none (the chain's codec decides). */
    defaultAlpn: string[],
    private readonly where: string,
    private readonly log: Logger,
    private readonly stats: TlsStats,
  ) {
    const opts = secureContextOptions(config, where); // throws: the config is refused
    const alpn = config.alpnProtocols.length ? config.alpnProtocols : defaultAlpn;
    this.checkSan = compileSanMatchers(config.sanMatchers);
    try {
      this.server = createServer({
        ...opts,
        ALPNProtocols: alpn.length ? alpn : undefined,
        // A trusted CA means a presented client certificate must verify; require_client_certificate
        // also refuses clients without one, in the handshake as Envoy does.
        requestCert: config.requireClientCertificate || config.trustedCa !== undefined,
        rejectUnauthorized: config.requireClientCertificate,
      });
    } catch (e) {
      // A key that does not fit its certificate, a PEM that is not one, a cipher OpenSSL does not know.
      throw new TlsConfigError(`${where}: ${(e as Error).message}`);
    }
    this.server.on('secureConnection', (s: TLSSocket) => this.accept(s));
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, s: TLSSocket) => {
      this.stats.connection_error.inc();
      if (/CERTIFICATE_REQUIRED|PEER_DID_NOT_RETURN_A_CERTIFICATE/i.test(`${err.code} ${err.message}`)) this.stats.no_certificate.inc();
      this.log.debug(`${this.where}: TLS handshake failed: ${err.code ?? err.message}`);
      s.destroy();
    });
    this.files = filesOf(config);
    for (const f of this.files) this.stamps.set(f, stamp(f));
  }

  private accept(s: TLSSocket): void {
    s.on('error', () => {});
    if (this.config.trustedCa && s.getPeerCertificate()?.raw) {
      // A client certificate that was presented must verify, and match the SAN matchers.
      if (!s.authorized || (this.checkSan && !this.checkSan(s.getPeerCertificate()))) {
        this.stats.fail_verify_error.inc();
        s.destroy();
        return;
      }
    } else if (this.config.requireClientCertificate) {
      this.stats.no_certificate.inc();
      s.destroy();
      return;
    }
    this.stats.handshake.inc();
    this.onSecure(s);
  }

  /** Starts watching the certificate files. */
  watch(): void {
    const dirs = new Map<string, Set<string>>();
    for (const f of this.files) {
      const d = dirname(f);
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(basename(f));
    }
    for (const [dir, names] of dirs) {
      try {
        const w = watch(dir, (_event, name) => {
          if (!name || names.has(String(name))) this.changed();
        });
        w.on('error', () => {});
        w.unref();
        this.watchers.push(w);
      } catch {
        // The poll below still catches changes.
      }
    }
    if (this.files.length) {
      this.poll = setInterval(() => {
        for (const f of this.files) {
          if (stamp(f) !== this.stamps.get(f)) {
            this.changed();
            return;
          }
        }
      }, 1000);
      this.poll.unref();
    }
  }

  /** A file changed: reload once the writes have settled. A broken new file keeps the old certificates. */
  private changed(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      for (const f of this.files) this.stamps.set(f, stamp(f));
      try {
        this.server.setSecureContext(secureContextOptions(this.config, this.where));
        this.log.info(`${this.where}: certificates reloaded`);
      } catch (e) {
        this.log.warn(`${this.where}: keeping the previous certificates: ${(e as Error).message}`);
      }
    }, 50);
    this.debounce.unref();
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }
}

function stamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** listener.<address>.ssl.* (Envoy's SslSocketFactoryStats, the ones Meshdeck knows). */
export function tlsStats(store: StatsStore, scope: string) {
  const c = (n: string) => store.counter(`${scope}ssl.${n}`);
  return {
    handshake: c('handshake'),
    connection_error: c('connection_error'),
    no_certificate: c('no_certificate'),
    fail_verify_error: c('fail_verify_error'),
  };
}
export type TlsStats = ReturnType<typeof tlsStats>;
