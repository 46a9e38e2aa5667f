// Meshdeck's upstream HTTP/1.1 pool against raw-socket servers that answer exactly the bytes a
// test scripts: connection reuse, the server's Keep-Alive hint, a kept-alive connection the
// server closed as we reused it, framings (chunked with trailers, close-delimited, HEAD, 1xx),
// streamed request bodies, malformed responses, and the max_connections queue.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { Http1Pool } from '../../../engine/upstream/http1/pool';
import type { UpstreamDispatch } from '../../../engine/upstream/http1/handler';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  trailers: string[] | null;
}

/** A server that calls `onRequest` with each whole request head (and body) it reads, per connection. */
async function rawServer(onRequest: (req: { head: string; body: Buffer; n: number; conn: number }, sock: Socket) => void) {
  let conns = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    const conn = ++conns;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf: Buffer = Buffer.alloc(0);
    let n = 0;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        let bodyEnd = end + 4 + len;
        let body: Buffer = buf.subarray(end + 4, bodyEnd);
        if (/transfer-encoding: chunked/i.test(head)) {
          const term = buf.indexOf('0\r\n\r\n', end + 4);
          if (term < 0) return;
          bodyEnd = term + 5;
          body = dechunk(buf.subarray(end + 4, bodyEnd));
        } else if (buf.length < bodyEnd) return;
        buf = buf.subarray(bodyEnd);
        onRequest({ head, body, n: ++n, conn }, sock);
      }
    });
    sock.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    connections: () => conns,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    const size = parseInt(b.subarray(i, eol).toString(), 16);
    if (!size) return Buffer.concat(out);
    out.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}

function pool(port: number, connections = 0, connectTimeoutMs = 1000) {
  return new Http1Pool({ address: '127.0.0.1', port, connections, connectTimeoutMs, keepAliveMs: 60_000 });
}

function request(p: Http1Pool, opts: Partial<UpstreamDispatch> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    p.dispatch(
      { path: '/', method: 'GET', headers: ['host', 'svc'], ...opts },
      {
        onHeaders(s, raw) {
          status = s;
          for (let i = 0; i < raw.length; i += 2) headers[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
          return true;
        },
        onData(c) {
          chunks.push(Buffer.from(c));
          return true;
        },
        onComplete(t) {
          resolve({ status, headers, body: Buffer.concat(chunks).toString(), trailers: (t as string[] | null) ?? null });
        },
        onError: reject,
      },
    );
  });
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test('sequential requests reuse one kept-alive connection, and the request carries the given headers once', async () => {
  const heads: string[] = [];
  const srv = await rawServer((r, s) => {
    heads.push(r.head);
    s.write(ok(`n=${r.n}`));
  });
  const p = pool(srv.port);
  for (let i = 1; i <= 20; i++) assert.equal((await request(p, { path: `/x?i=${i}` })).body, `n=${i}`);
  assert.equal(srv.connections(), 1);
  assert.equal(p.stats.connected, 1);
  assert.match(heads[0], /^GET \/x\?i=1 HTTP\/1\.1\r\nhost: svc$/);
  await p.close();
  await srv.close();
});

test("a server's Keep-Alive: timeout=N hint retires idle connections before the server does", async () => {
  const srv = await rawServer((_r, s) => s.write(ok('hi', 'keep-alive: timeout=1\r\n')));
  const p = pool(srv.port);
  await request(p);
  // The hint is 1 s: we keep the connection for at most half of that, then open a new one.
  await new Promise((r) => setTimeout(r, 700));
  assert.equal((await request(p)).body, 'hi');
  assert.equal(srv.connections(), 2);
  await p.close();
  await srv.close();
});

test('a kept-alive connection the server closes as we reuse it: the request goes again on a fresh connection', async () => {
  const seen: string[] = [];
  const srv = await rawServer((r, s) => {
    seen.push(`${r.conn}:${r.n}:${r.body.toString()}`);
    // The second request on any connection finds the server gone (its idle timeout raced our reuse).
    if (r.n === 2) s.destroy();
    else s.write(ok(`conn ${r.conn}`));
  });
  const p = pool(srv.port);
  assert.equal((await request(p)).body, 'conn 1');
  const a = await request(p, { method: 'POST', body: Buffer.from('pay 10'), headers: ['host', 'svc', 'content-length', '6'] });
  assert.equal(a.body, 'conn 2');
  assert.deepEqual(seen, ['1:1:', '1:2:pay 10', '2:1:pay 10']);
  await p.close();
  await srv.close();
});

test('a connection that dies before answering its first request is an error, not a resend', async () => {
  const srv = await rawServer((_r, s) => s.destroy());
  const p = pool(srv.port);
  await assert.rejects(request(p), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
  assert.equal(srv.connections(), 1);
  await p.close();
  await srv.close();
});

test('chunked responses deliver their trailers; close-delimited ones end at the close', async () => {
  const srv = await rawServer((r, s) => {
    if (r.head.startsWith('GET /chunked')) s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: grpc-status\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\ngrpc-status: 0\r\n\r\n');
    else s.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end');
  });
  const p = pool(srv.port);
  const c = await request(p, { path: '/chunked' });
  assert.equal(c.body, 'hello world');
  assert.deepEqual(c.trailers, ['grpc-status', '0']);
  const d = await request(p, { path: '/close' });
  assert.equal(d.body, 'until the end');
  assert.equal(d.trailers, null);
  await p.close();
  await srv.close();
});

test('HEAD answers end at the head even with a content-length; 1xx answers are skipped', async () => {
  const srv = await rawServer((r, s) => {
    if (r.head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n');
    else s.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n${ok('final')}`);
  });
  const p = pool(srv.port);
  const h = await request(p, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '1234');
  assert.equal(h.body, '');
  const g = await request(p);
  assert.equal(g.status, 200);
  assert.equal(g.body, 'final');
  assert.equal(srv.connections(), 1, 'both went over one connection, framing intact');
  await p.close();
  await srv.close();
});

test('a streamed request body goes chunked without a length, as is with one', async () => {
  const got: string[] = [];
  const srv = await rawServer((r, s) => {
    got.push(`${/transfer-encoding: chunked/.test(r.head) ? 'chunked' : 'length'}:${r.body.toString()}`);
    s.write(ok('ok'));
  });
  const p = pool(srv.port);
  async function* parts() {
    yield Buffer.from('card=');
    await new Promise((r) => setTimeout(r, 20));
    yield Buffer.from('4242');
  }
  const sent: number[] = [];
  await new Promise<void>((resolve, reject) =>
    p.dispatch(
      { path: '/', method: 'POST', headers: ['host', 'svc'], body: parts() },
      { onBodySent: (c) => void sent.push(typeof c === 'number' ? c : c.length), onComplete: () => resolve(), onError: reject },
    ),
  );
  await request(p, { method: 'PUT', headers: ['host', 'svc', 'content-length', '9'], body: parts() });
  assert.deepEqual(got, ['chunked:card=4242', 'length:card=4242']);
  assert.deepEqual(sent, [5, 4]);
  await p.close();
  await srv.close();
});

test('a malformed response is an error that names it, and the pool keeps serving', async () => {
  const srv = await rawServer((r, s) => {
    if (r.head.startsWith('GET /bad')) s.write('HTTP/1.1 2x0 Nope\r\n\r\n');
    else s.write(ok('fine'));
  });
  const p = pool(srv.port);
  await assert.rejects(request(p, { path: '/bad' }), /malformed response/);
  assert.equal((await request(p)).body, 'fine');
  await p.close();
  await srv.close();
});

test('with max_connections 2, concurrent requests queue for the two connections and all complete in order', async () => {
  let inFlight = 0;
  let peak = 0;
  const srv = await rawServer((r, s) => {
    peak = Math.max(peak, ++inFlight);
    setTimeout(() => {
      inFlight--;
      s.write(ok(r.head.split(' ')[1]));
    }, 15);
  });
  const p = pool(srv.port, 2);
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => request(p, { path: `/${i}` })));
  assert.deepEqual(answers.map((a) => a.body), Array.from({ length: 10 }, (_, i) => `/${i}`));
  assert.equal(srv.connections(), 2);
  assert.equal(peak, 2);
  await p.close();
  await srv.close();
});

test('a refused connection fails its request with ECONNREFUSED, and close() resolves', async () => {
  const srv = await rawServer(() => {});
  const port = srv.port;
  await srv.close();
  const p = pool(port);
  let errors = 0;
  p.on('connectionError', () => errors++);
  await assert.rejects(request(p), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  assert.equal(errors, 1);
  await p.close();
  await assert.rejects(request(p), /closed/);
});

test('abort mid-response closes that connection; the next request gets a new one', async () => {
  const srv = await rawServer((r, s) => {
    if (r.head.startsWith('GET /slow')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
    else s.write(ok('next'));
  });
  const p = pool(srv.port);
  const errs: string[] = [];
  await new Promise<void>((resolve) => {
    let abort: (e?: Error) => void = () => {};
    p.dispatch(
      { path: '/slow', method: 'GET', headers: ['host', 'svc'] },
      {
        onConnect: (a) => void (abort = a),
        onData: () => {
          abort(new Error('router gave up'));
          return true;
        },
        onError: (e) => {
          errs.push(e.message);
          resolve();
        },
      },
    );
  });
  assert.deepEqual(errs, ['router gave up']);
  assert.equal((await request(p)).body, 'next');
  assert.equal(srv.connections(), 2);
  await p.close();
  await srv.close();
});
