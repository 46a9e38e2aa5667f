#!/usr/bin/env node
// A bare Node reverse proxy on undici: the bench's reference row, and a stand-in for the engine
// (same command line and ready line as `meshdeck -c FILE.yaml`). It reads only the first listener
// and the first endpoint of the first cluster of an Envoy bootstrap; no routing, no filters.
// Usage: node scripts/bench/undici-proxy.mjs -c envoy.yaml
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import YAML from 'yaml';

const file = process.argv[process.argv.indexOf('-c') + 1];
if (!process.argv.includes('-c') || !file) { console.error('usage: undici-proxy.mjs -c envoy.yaml'); process.exit(2); }
const sr = YAML.parse(readFileSync(file, 'utf8')).static_resources;
const sock = (a) => a.socket_address;
const listen = sock(sr.listeners[0].address);
const target = sock(sr.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address);

const pool = new Pool(`http://${target.address}:${target.port_value}`, { connections: 128, keepAliveTimeout: 60_000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);
const strip = (h) => { const o = {}; for (const k in h) if (!HOP.has(k)) o[k] = h[k]; return o; };

const server = http.createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.stream(
    { path: req.url, method: req.method, headers: strip(req.headers), body: hasBody ? req : null },
    ({ statusCode, headers }) => { res.writeHead(statusCode, strip(headers)); return res; },
    (err) => {
      if (!err) return;
      if (res.headersSent) res.destroy(err);
      else { res.writeHead(502, { 'content-type': 'text/plain' }); res.end(`upstream error: ${err.code ?? err.message}\n`); }
    },
  );
});
server.keepAliveTimeout = 120_000;

const admin = http.createServer((req, res) => { res.end(req.url === '/ready' ? 'LIVE\n' : 'undici stand-in\n'); });
const listenOn = (srv, a) => new Promise((r) => srv.listen(a.port_value ?? 0, a.address ?? '127.0.0.1', () => r(srv.address())));
const adminAddr = await listenOn(admin, sr.admin ? sock(sr.admin.address) : { address: '127.0.0.1', port_value: 0 });
const addr = await listenOn(server, listen);
console.log(JSON.stringify({
  event: 'ready',
  admin: `http://${adminAddr.address}:${adminAddr.port}`,
  listeners: [{ name: sr.listeners[0].name ?? 'listener', address: `${addr.address}:${addr.port}` }],
}));

const bye = () => { server.close(); admin.close(); pool.close().finally(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); };
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
