// envoy.filters.network.tcp_proxy on real sockets: bytes both ways intact over 1,000 connections
// (50 at a time) balanced over the cluster's hosts, Envoy's tcp.* and cluster upstream_cx_* stats,
// the idle timeout closing idle connections (and only those), and the access log's TCP operators.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { makePki } from '../../helpers/certs';
import { startEngine, type RunningEngine } from '../../helpers/engine';

interface Echo {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** An upstream that says its name, then echoes every byte it gets (and half-closes when the client does). */
async function startEcho(name: string): Promise<Echo> {
  const e: Echo = { port: 0, connections: 0, close: async () => {} };
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    e.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.write(`${name}:`);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  e.port = (server.address() as AddressInfo).port;
  e.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return e;
}

function config(clusterPorts: number[], tcpExtra = ''): string {
  return `
static_resources:
  listeners:
  - name: vault
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: vault_tcp
          cluster: vault
${tcpExtra}
  clusters:
  - name: vault
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: vault
      endpoints:
      - lb_endpoints:
${clusterPorts.map((p) => `        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join('\n')}
`;
}

/** Sends `payload`, half-closes, and resolves with everything the proxy sent back. */
function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      s.end();
      resolve(Buffer.concat(chunks));
    });
    s.on('error', reject);
    s.on('connect', () => s.end(payload));
  });
}

async function stats(e: RunningEngine): Promise<Map<string, number>> {
  const text = await (await request(`${e.engine.adminUrl}/stats`, { headers: { authorization: 'Bearer test-token' } })).body.text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.split(': ');
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

const portOf = (e: RunningEngine) => Number(new URL(e.url()).port);

describe('tcp_proxy', () => {
  it('copies bytes both ways intact over 1,000 connections, balanced over the hosts, with Envoy’s stats', async () => {
    const ups = await Promise.all(['a', 'b'].map(startEcho));
    const e = await startEngine(config(ups.map((u) => u.port)));
    try {
      const port = portOf(e);
      const n = 1000;
      let next = 0;
      let bytesIn = 0;
      let bytesOut = 0;
      const seen = new Map<string, number>();
      const worker = async () => {
        while (next < n) {
          const i = next++;
          const payload = randomBytes(1 + ((i * 7919) % 20_000));
          const got = await exchange(port, payload);
          const colon = got.indexOf(0x3a);
          const who = got.subarray(0, colon).toString();
          seen.set(who, (seen.get(who) ?? 0) + 1);
          const echoed = got.subarray(colon + 1);
          assert.equal(createHash('sha256').update(echoed).digest('hex'), createHash('sha256').update(payload).digest('hex'), `connection ${i}: bytes intact`);
          bytesIn += payload.length;
          bytesOut += got.length;
        }
      };
      await Promise.all(Array.from({ length: 50 }, worker));
      assert.deepEqual([...seen.keys()].sort(), ['a', 'b']);
      assert.equal(seen.get('a'), 500, 'round robin over two hosts');
      // Stats settle as the last connections close.
      await new Promise((r) => setTimeout(r, 100));
      const s = await stats(e);
      assert.equal(s.get('tcp.vault_tcp.downstream_cx_total'), n);
      assert.equal(s.get('tcp.vault_tcp.downstream_cx_rx_bytes_total'), bytesIn);
      assert.equal(s.get('tcp.vault_tcp.downstream_cx_tx_bytes_total'), bytesOut);
      assert.equal(s.get('cluster.vault.upstream_cx_total'), n);
      assert.equal(s.get('cluster.vault.upstream_cx_tx_bytes_total'), bytesIn);
      assert.equal(s.get('cluster.vault.upstream_cx_rx_bytes_total'), bytesOut);
      assert.equal(s.get('cluster.vault.upstream_cx_active'), 0);
      assert.equal(ups[0].connections + ups[1].connections, n);
    } finally {
      await e.stop();
      await Promise.all(ups.map((u) => u.close()));
    }
  });

  it('idle_timeout closes a connection with no bytes either way, and not one that keeps talking', async () => {
    const up = await startEcho('v');
    const e = await startEngine(config([up.port], '          idle_timeout: 0.3s'));
    try {
      const port = portOf(e);
      const opened = performance.now();
      const idle = connect({ host: '127.0.0.1', port });
      const idleClosed = new Promise<number>((r) => idle.on('close', () => r(performance.now() - opened)));
      idle.on('error', () => {});
      idle.resume(); // read what arrives, so that the close is seen
      const busy = connect({ host: '127.0.0.1', port });
      busy.on('error', () => {});
      busy.resume();
      let busyClosed = false;
      busy.on('close', () => (busyClosed = true));
      const ticker = setInterval(() => busy.write('ping'), 100);
      const idleAfter = await idleClosed;
      assert.ok(idleAfter >= 250 && idleAfter < 2000, `idle connection closed after ${Math.round(idleAfter)} ms`);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(busyClosed, false, 'a connection with traffic stays open past the timeout');
      clearInterval(ticker);
      busy.destroy();
      const s = await stats(e);
      assert.equal(s.get('tcp.vault_tcp.idle_timeout'), 1);
    } finally {
      await e.stop();
      await up.close();
    }
  });

  it('weighted_clusters and a file access log with the TCP operators; a refused upstream connection closes the downstream one, logged with flag UF', async () => {
    const up = await startEcho('w');
    const dir = mkdtempSync(join(tmpdir(), 'meshdeck-tcp-'));
    const log = join(dir, 'tcp.log');
    const yaml = config([up.port]).replace(
      '          cluster: vault\n',
      `          weighted_clusters:
            clusters:
            - { name: vault, weight: 1 }
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${log}
              log_format:
                text_format_source:
                  inline_string: "%UPSTREAM_HOST% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER% %DURATION%\\n"
`,
    );
    const e = await startEngine(yaml);
    try {
      const port = portOf(e);
      const got = await exchange(port, Buffer.from('card-1234'));
      assert.equal(got.toString(), 'w:card-1234');
      await up.close();
      // The host is gone: the connection is closed, logged with UF.
      await exchange(port, Buffer.from('x')).catch(() => Buffer.alloc(0));
      await e.stop();
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      assert.equal(lines.length, 2);
      const [host, rx, tx, flags, cluster, duration] = lines[0].split(' ');
      assert.equal(host, `127.0.0.1:${up.port}`);
      assert.equal(rx, '9');
      assert.equal(tx, '11');
      assert.equal(flags, '-');
      assert.equal(cluster, 'vault');
      assert.match(duration, /^\d+$/);
      assert.match(lines[1], / UF vault /);
    } finally {
      await e.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TLS passthrough: filter_chain_match.server_names picks the tcp_proxy chain by SNI, and the upstream terminates TLS', async () => {
    const pki = makePki();
    const names = ['vault', 'ledger'];
    const servers = await Promise.all(
      names.map(async (n) => {
        const cert = pki.issue(n, { cn: `${n}.pay.test`, sans: [`DNS:${n}.pay.test`] });
        const srv = createTlsServer({ cert: cert.cert, key: cert.key }, (s) => s.end(`${n} says hi`));
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        return { n, srv, port: (srv.address() as AddressInfo).port };
      }),
    );
    const chain = (n: string) => `
    - filter_chain_match: { server_names: ["${n}.pay.test"], transport_protocol: tls }
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: ${n}
          cluster: ${n}`;
    const cluster = (n: string, port: number) => `
  - name: ${n}
    type: STATIC
    load_assignment:
      cluster_name: ${n}
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }]`;
    const e = await startEngine(`
static_resources:
  listeners:
  - name: passthrough
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
    filter_chains:${names.map(chain).join('')}
  clusters:${servers.map((x) => cluster(x.n, x.port)).join('')}
`);
    try {
      const port = portOf(e);
      for (const n of names) {
        const { cn, text } = await new Promise<{ cn: unknown; text: string }>((resolve, reject) => {
          const c = tlsConnect({ host: '127.0.0.1', port, servername: `${n}.pay.test`, ca: pki.ca.cert }, () => {
            let text = '';
            c.setEncoding('utf8');
            c.on('data', (d: string) => (text += d));
            c.on('end', () => resolve({ cn: c.getPeerCertificate().subject.CN, text }));
          });
          c.on('error', reject);
        });
        assert.equal(cn, `${n}.pay.test`, 'the upstream’s own certificate, verified by the client');
        assert.equal(text, `${n} says hi`);
      }
      // No chain matches another name: the connection is closed.
      await assert.rejects(
        new Promise((resolve, reject) => {
          const c = tlsConnect({ host: '127.0.0.1', port, servername: 'other.pay.test', ca: pki.ca.cert }, () => resolve(undefined));
          c.on('error', reject);
        }),
      );
    } finally {
      await e.stop();
      for (const x of servers) x.srv.close();
      pki.remove();
    }
  });
});
