// Meshdeck's HTTP/1.1 codec on real sockets: framing, pipelining, bodies, limits and the ways
// clients misbehave. Responses are read as raw bytes so the framing itself is what is checked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Http1Server } from '../../../engine/listener/http1/server';
import type { Http1Options } from '../../../engine/listener/http1/connection';
import type { Http1Request } from '../../../engine/listener/http1/request';
import type { Http1Response } from '../../../engine/listener/http1/response';

type Handler = (req: Http1Request, res: Http1Response) => void;

async function serve(handler: Handler, opts: Partial<Http1Options> = {}) {
  const errors: string[] = [];
  const server = new Http1Server(
    { maxHeaderSize: 8 * 1024, idleTimeoutMs: 0, requestTimeoutMs: 0, ...opts },
    handler,
    (err, sock) => {
      errors.push(err.code ?? err.message);
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      sock.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    },
  );
  server.net.listen(0, '127.0.0.1');
  await once(server.net, 'listening');
  const port = (server.net.address() as { port: number }).port;
  return {
    port,
    errors,
    server,
    close: () => {
      server.destroyAll();
      return new Promise<void>((r) => server.net.close(() => r()));
    },
  };
}

/** Send raw bytes, collect everything until the server closes or `until` matches. */
async function exchange(port: number, data: string | Buffer | (string | Buffer)[], until?: (s: string) => boolean, sock?: Socket): Promise<string> {
  const s = sock ?? connect(port, '127.0.0.1');
  let out = '';
  const done = new Promise<string>((resolve) => {
    const finish = () => resolve(out);
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (until?.(out)) finish();
    });
    s.on('close', finish);
    s.on('error', finish);
  });
  for (const part of Array.isArray(data) ? data : [data]) {
    s.write(part);
    if (Array.isArray(data)) await new Promise((r) => setTimeout(r, 15));
  }
  const r = await done;
  if (!sock) s.destroy();
  return r;
}

const echo: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, ['x-method', req.method, 'x-url', req.url, 'x-len', String(body.length)]);
    res.end(body);
  });
};

const count = (s: string, needle: string) => s.split(needle).length - 1;

test('a small response is framed with Content-Length and the connection stays open', async () => {
  const srv = await serve(echo);
  try {
    const s = connect(srv.port, '127.0.0.1');
    const r1 = await exchange(srv.port, 'GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n', (o) => o.endsWith('\r\n\r\n'), s);
    assert.match(r1, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r1, /\r\nx-url: \/a\?b=1\r\n/);
    assert.match(r1, /\r\ncontent-length: 0\r\n/);
    assert.match(r1, /\r\ndate: \w{3}, \d\d \w{3} \d{4} /);
    assert.doesNotMatch(r1, /connection: close/i);
    const r2 = await exchange(srv.port, 'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', (o) => o.endsWith('hello'), s);
    assert.match(r2, /x-len: 5\r\n/);
    s.destroy();
  } finally {
    await srv.close();
  }
});

test('pipelined requests are answered in order, one at a time', async () => {
  let active = 0;
  let maxActive = 0;
  const srv = await serve((req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    // The first answers last if they were concurrent: order must still hold.
    const delay = req.url === '/1' ? 40 : 1;
    req.resume();
    setTimeout(() => {
      active--;
      res.writeHead(200, ['content-length', String(req.url.length)]);
      res.end(req.url);
    }, delay);
  });
  try {
    const reqs = ['/1', '/2', '/3'].map((u) => `GET ${u} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const out = await exchange(srv.port, reqs, (o) => count(o, 'HTTP/1.1 200') === 3 && o.endsWith('/3'));
    const bodies = out.split('HTTP/1.1 200 OK').slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(bodies, ['/1', '/2', '/3']);
    assert.equal(maxActive, 1);
  } finally {
    await srv.close();
  }
});

test('a chunked request body is decoded; a response without length is sent chunked', async () => {
  const srv = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, ['content-type', 'text/plain']);
      res.write(Buffer.from('got '));
      res.write(Buffer.concat(chunks));
      res.end();
    });
  });
  try {
    const out = await exchange(
      srv.port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
      (o) => o.endsWith('0\r\n\r\n'),
    );
    assert.match(out, /transfer-encoding: chunked\r\n/);
    assert.ok(out.endsWith('\r\n\r\n4\r\ngot \r\n7\r\nabcdefg\r\n0\r\n\r\n'), JSON.stringify(out));
  } finally {
    await srv.close();
  }
});

test('binary bodies pass byte for byte both ways, including large ones', async () => {
  const srv = await serve(echo);
  try {
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
    const res = await fetch(`http://127.0.0.1:${srv.port}/bin`, { method: 'POST', body });
    const got = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200);
    assert.equal(got.length, body.length);
    assert.ok(got.equals(body));
  } finally {
    await srv.close();
  }
});

test('a request body can be read as an async iterable (how the router streams it upstream)', async () => {
  const srv = await serve(async (req, res) => {
    let n = 0;
    for await (const c of req) n += (c as Buffer).length;
    res.writeHead(200, ['content-length', String(String(n).length)]);
    res.end(String(n));
  });
  try {
    const out = await exchange(
      srv.port,
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n', '01234', '56789'],
      (o) => o.endsWith('10'),
    );
    assert.match(out, /^HTTP\/1\.1 200 OK/);
    assert.ok(out.endsWith('\r\n\r\n10'));
  } finally {
    await srv.close();
  }
});

test('Expect: 100-continue gets an interim 100 before the body is sent', async () => {
  const srv = await serve(echo);
  try {
    const s = connect(srv.port, '127.0.0.1');
    const interim = await exchange(srv.port, 'PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', (o) => o.includes('100 Continue\r\n\r\n'), s);
    assert.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n');
    const final = await exchange(srv.port, 'ok', (o) => o.endsWith('ok'), s);
    assert.match(final, /^HTTP\/1\.1 200 OK/);
    s.destroy();
  } finally {
    await srv.close();
  }
});

test('HEAD and 204 carry no body; HTTP/1.0 without length is close-delimited', async () => {
  const srv = await serve((req, res) => {
    req.resume();
    if (req.url === '/204') {
      res.writeHead(204, []);
      res.end();
      return;
    }
    res.writeHead(200, req.method === 'HEAD' ? ['content-length', '5'] : []);
    if (req.method !== 'HEAD') res.write(Buffer.from('hello'));
    res.end();
  });
  try {
    const head = await exchange(srv.port, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', (o) => o.endsWith('\r\n\r\n'));
    assert.match(head, /content-length: 5\r\n/);
    assert.ok(head.endsWith('\r\n\r\n'));
    const nc = await exchange(srv.port, 'GET /204 HTTP/1.1\r\nHost: x\r\n\r\n', (o) => o.endsWith('\r\n\r\n'));
    assert.match(nc, /^HTTP\/1\.1 204 No Content/);
    assert.doesNotMatch(nc, /transfer-encoding|content-length/);
    const old = await exchange(srv.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.match(old, /connection: close\r\n/);
    assert.ok(old.endsWith('\r\n\r\nhello'), JSON.stringify(old));
    assert.doesNotMatch(old, /transfer-encoding/);
  } finally {
    await srv.close();
  }
});

test('malformed requests reach the protocol-error handler; the server keeps serving others', async () => {
  const srv = await serve(echo);
  try {
    const bad = await exchange(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400/);
    const junk = await exchange(srv.port, 'HELLO THERE\r\n\r\n');
    assert.match(junk, /^HTTP\/1\.1 400/);
    const big = await exchange(srv.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431/);
    assert.ok(srv.errors.includes('HPE_HEADER_OVERFLOW'));
    const ok = await fetch(`http://127.0.0.1:${srv.port}/still`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-url'), '/still');
  } finally {
    await srv.close();
  }
});

test('headers split across many packets and repeated fields are joined as node:http joins them', async () => {
  let seen: Http1Request['headers'] = {};
  const srv = await serve((req, res) => {
    seen = req.headers;
    req.resume();
    res.end();
  });
  try {
    const head = 'GET /slow HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n';
    const parts = head.match(/.{1,7}/gs)!;
    const out = await exchange(srv.port, parts, (o) => o.includes('\r\n\r\n'));
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.equal(seen['x-a'], '1, 2');
    assert.equal(seen.cookie, 'a=1; b=2');
    assert.equal(seen.host, 'x');
  } finally {
    await srv.close();
  }
});

test("a client that goes away mid-response fires the response's close without finish", async () => {
  let resolveClosed!: (v: { finished: boolean }) => void;
  const closed = new Promise<{ finished: boolean }>((r) => (resolveClosed = r));
  const srv = await serve((req, res) => {
    req.resume();
    res.writeHead(200, []);
    res.write(Buffer.from('partial'));
    let finished = false;
    res.once('finish', () => (finished = true));
    res.once('close', () => resolveClosed({ finished }));
  });
  try {
    const s = connect(srv.port, '127.0.0.1');
    await exchange(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', (o) => o.includes('partial'), s);
    s.destroy();
    assert.deepEqual(await closed, { finished: false });
  } finally {
    await srv.close();
  }
});

test('a client that half-closes with a request in flight resets it, as Envoy does on HTTP/1', async () => {
  let resolveClosed!: (v: { finished: boolean; aborted: boolean }) => void;
  const closed = new Promise<{ finished: boolean; aborted: boolean }>((r) => (resolveClosed = r));
  const srv = await serve((req, res) => {
    let aborted = false;
    req.on('aborted', () => (aborted = true));
    req.on('error', () => {});
    req.resume();
    const t = setTimeout(() => res.end('late answer'), 2000);
    res.once('close', () => {
      clearTimeout(t);
      resolveClosed({ finished: res.writableFinished, aborted });
    });
  });
  try {
    const s = connect(srv.port, '127.0.0.1');
    s.end('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab');
    assert.deepEqual(await closed, { finished: false, aborted: true });
    s.destroy();
  } finally {
    await srv.close();
  }
});

test('idle connections close after the idle timeout, busy ones do not', async () => {
  const srv = await serve(
    (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow'), 250);
    },
    { idleTimeoutMs: 100 },
  );
  try {
    const idle = connect(srv.port, '127.0.0.1');
    const t0 = Date.now();
    await once(idle, 'close');
    assert.ok(Date.now() - t0 >= 90);
    const busy = await exchange(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', (o) => o.endsWith('slow'));
    assert.ok(busy.endsWith('slow'), 'a request longer than the idle timeout is answered');
  } finally {
    await srv.close();
  }
});

test('the request timeout answers 408 when a body never completes', async () => {
  const srv = await serve(echo, { requestTimeoutMs: 100 });
  try {
    const out = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    assert.match(out, /^HTTP\/1\.1 408 Request Timeout/);
    assert.ok(out.endsWith('request timeout'));
  } finally {
    await srv.close();
  }
});

test('backpressure: write returns false on a full socket and drain follows', async () => {
  let sawBackpressure = false;
  let drained = false;
  const srv = await serve((req, res) => {
    req.resume();
    res.writeHead(200, ['content-length', String(64 * 1024 * 64)]);
    let i = 0;
    const chunk = Buffer.alloc(64 * 1024, 120);
    const pump = () => {
      while (i < 64) {
        i++;
        if (!res.write(chunk)) {
          sawBackpressure = true;
          res.once('drain', () => {
            drained = true;
            pump();
          });
          return;
        }
      }
      res.end();
    };
    pump();
  });
  try {
    const r = await fetch(`http://127.0.0.1:${srv.port}/`);
    const buf = Buffer.from(await r.arrayBuffer());
    assert.equal(buf.length, 64 * 1024 * 64);
    assert.ok(sawBackpressure && drained);
  } finally {
    await srv.close();
  }
});
