// Connection options for a cluster's UpstreamTlsContext: trusted CA (else, as in Envoy, the
// upstream's certificate is not verified), SNI, a client certificate for mTLS to the upstream, and
// subject-alt-name matching instead of a hostname check (Envoy checks no hostname by default).

import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import type { UpstreamTlsContext } from '../config/model';
import { compileSanMatchers, secureContextOptions } from '../listener/tls';

export { tlsFailureReason } from '../listener/tls';

export function upstreamTlsOptions(tls: UpstreamTlsContext, where: string): ConnectionOptions {
  const opts: ConnectionOptions = { ...secureContextOptions(tls, where) };
  const verify = tls.trustedCa !== undefined;
  opts.rejectUnauthorized = verify;
  if (tls.sni) opts.servername = tls.sni;
  const san = compileSanMatchers(tls.sanMatchers);
  opts.checkServerIdentity = (_host: string, cert: PeerCertificate) => {
    if (!verify || !san || san(cert)) return undefined;
    return Object.assign(new Error(`the upstream certificate matches none of match_typed_subject_alt_names`), { code: 'MESHDECK_SAN_MISMATCH' });
  };
  if (tls.alpnProtocols.length) opts.ALPNProtocols = tls.alpnProtocols;
  return opts;
}
