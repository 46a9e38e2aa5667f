// Real X.509 material for TLS tests, made with the openssl CLI in a temporary folder: a CA, and
// server or client certificates it signs, with subject alt names. EC P-256 keys: fast to make.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: KeyPair;
  /** A leaf certificate signed by this CA: `sans` like ['DNS:a.test', 'IP:127.0.0.1', 'URI:spiffe://x']. */
  issue(name: string, opts?: { cn?: string; sans?: string[] }): KeyPair;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pair(dir: string, name: string): KeyPair {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** A fresh CA in its own temporary folder (or `dir`). */
export function makePki(caName = 'Meshdeck Test CA', dir = mkdtempSync(join(tmpdir(), 'meshdeck-pki-'))): Pki {
  const genKey = (file: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
  genKey('ca.key');
  openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-subj', `/CN=${caName}`, '-days', '2', '-out', 'ca.crt',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  let serial = 1;
  return {
    dir,
    ca: pair(dir, 'ca'),
    issue(name, opts = {}) {
      genKey(`${name}.key`);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${opts.cn ?? name}`, '-out', `${name}.csr`], dir);
      const ext = [`basicConstraints=CA:FALSE`, `extendedKeyUsage=serverAuth,clientAuth`];
      if (opts.sans?.length) ext.push(`subjectAltName=${opts.sans.join(',')}`);
      writeFileSync(join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
      openssl(
        ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++ + Date.now() % 100000),
          '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
        dir,
      );
      return pair(dir, name);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
