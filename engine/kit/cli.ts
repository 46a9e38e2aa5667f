// `meshdeck kit`: write a security kit (engine/kit/kit.ts) to a directory and say what is in it.

import { parseArgs } from 'node:util';
import { createKit } from './kit';

const USAGE = `Usage: meshdeck kit [--out DIR] [--issuer URL] [--audience AUD] [--client NAME ...] [--days N]

Issues a local CA, a server certificate (localhost, 127.0.0.1), client certificates with
URI SAN spiffe://meshdeck.local/NAME, an ES256 JWT signing key with its JWKS, sample tokens
and an Envoy config using them (mTLS + jwt_authn + rbac). For local simulations only.

  -o, --out DIR        where to write it (default ./meshdeck-kit)
      --issuer URL     JWT issuer (default https://auth.meshdeck.local)
      --audience AUD   JWT audience (default payments-api)
      --client NAME    a client certificate to issue (repeatable; default merchant-a, merchant-b)
      --days N         validity of certificates and the sample token (default 30)
  -h, --help           this text
`;

export async function kitMain(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let values: { out?: string; issuer?: string; audience?: string; client?: string[]; days?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        client: { type: 'string', multiple: true },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    err.write(`meshdeck kit: ${(e as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
    err.write('meshdeck kit: --days must be a whole number of days from 1 to 3650\n');
    return 1;
  }
  try {
    const kit = await createKit({ dir: values.out ?? 'meshdeck-kit', issuer: values.issuer, audience: values.audience, clients: values.client, days });
    const c = kit.clients[0];
    out.write(
      `Security kit written to ${kit.dir}\n` +
        `  CA            ${kit.caCert}\n` +
        `  server        ${kit.serverCert} (+ .key)\n` +
        kit.clients.map((x) => `  client        ${x.cert} (+ .key)  ${x.uri}\n`).join('') +
        `  JWKS          ${kit.jwt.jwks}  (kid ${kit.jwt.kid}, ES256, iss ${kit.jwt.issuer}, aud ${kit.jwt.audience})\n` +
        `  tokens        ${kit.jwt.token}, ${kit.jwt.expiredToken}\n` +
        `  Envoy config  ${kit.envoyConfig}  (mTLS + jwt_authn + rbac on 127.0.0.1:10443)\n\n` +
        `Try: meshdeck -c ${kit.envoyConfig}\n` +
        `     curl --cacert ${kit.caCert} --cert ${c.cert} --key ${c.key} -H "Authorization: Bearer $(cat ${kit.jwt.token})" https://127.0.0.1:10443/\n`,
    );
    return 0;
  } catch (e) {
    err.write(`meshdeck kit: ${(e as Error).message}\n`);
    return 1;
  }
}
