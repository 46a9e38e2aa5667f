// The capture tap on the connection manager. hcm.ts publishes each new stream on a diagnostics
// channel; with nobody subscribed that is one `hasSubscribers` check per request. A capture that
// subscribes copies the request and response bodies as they stream, up to its cap (the bytes
// beyond it are only counted), by wrapping this one request's push() and this one response's
// write()/end(): nothing in the proxy path changes, and the copy is bounded whatever the body.

import diagnostics_channel from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import type { HttpStream } from '../listener/stream';
import { formatResponseFlags } from '../observe/response-flags';
import type { RecordedBody, RecordedExchange } from './exchange';
import { headerValue } from './exchange';

/** Published by the connection manager with each new HttpStream, after its own finish hooks. */
export const streamStartChannel = diagnostics_channel.channel('meshdeck.hcm.stream_start');

class BodyCopy {
  private readonly chunks: Buffer[] = [];
  kept = 0;
  size = 0;
  constructor(private readonly cap: number) {}

  add(chunk: unknown, encoding?: unknown): void {
    if (chunk === null || chunk === undefined) return;
    if (typeof chunk === 'string') {
      const enc = (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding;
      if (this.kept < this.cap) this.keep(Buffer.from(chunk, enc));
      else this.size += Buffer.byteLength(chunk, enc);
      return;
    }
    if (chunk instanceof Uint8Array) {
      if (this.kept < this.cap) this.keep(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else this.size += chunk.byteLength;
    }
  }

  private keep(b: Buffer): void {
    this.size += b.length;
    const room = this.cap - this.kept;
    // Copied: the proxy may reuse or release its buffers once written.
    const part = b.length <= room ? Buffer.from(b) : Buffer.from(b.subarray(0, room));
    this.chunks.push(part);
    this.kept += part.length;
  }

  body(mimeType: string): RecordedBody | undefined {
    if (this.size === 0) return undefined;
    return { data: Buffer.concat(this.chunks, this.kept), size: this.size, truncated: this.size > this.kept, mimeType };
  }
}

/** Copies one exchange as it happens; `done` gets it once the response is over. */
export function attachCaptureTap(stream: HttpStream, bodyCap: number, done: (x: RecordedExchange) => void): void {
  const req = stream.req;
  const res = stream.res;
  const raw = req.rawHeaders;
  const requestHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) requestHeaders.push([raw[i], raw[i + 1]]);
  const reqCopy = new BodyCopy(bodyCap);
  const resCopy = new BodyCopy(bodyCap);

  // The parser hands body chunks to push(); wrapping this request's own push sees each one
  // without putting the stream into flowing mode or adding a reader.
  const push = req.push;
  req.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
    reqCopy.add(chunk, encoding);
    return push.call(this, chunk as Buffer, encoding);
  };
  const write = res.write;
  const end = res.end;
  (res as { write: unknown }).write = function (this: typeof res, chunk: unknown, ...rest: unknown[]): boolean {
    resCopy.add(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  (res as { end: unknown }).end = function (this: typeof res, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') resCopy.add(chunk, rest[0]);
    return (end as (...a: unknown[]) => unknown).call(this, chunk, ...rest);
  };

  const secure = (req.socket as TLSSocket).encrypted === true;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    const info = stream.info;
    const flat = info.responseHeaderList;
    const responseHeaders: Array<[string, string]> = [];
    if (flat) for (let i = 0; i + 1 < flat.length; i += 2) responseHeaders.push([flat[i], flat[i + 1]]);
    const end = info.lastDownstreamTxMono || performance.now();
    const authority = info.authority || headerValue(requestHeaders, ':authority') || 'unknown';
    done({
      index: 0,
      // timeOrigin + monotonic: sub-millisecond and in order, which replay schedules by.
      startedMs: performance.timeOrigin + info.startMono,
      method: info.method,
      url: `${secure ? 'https' : 'http'}://${authority}${info.originalPath}`,
      httpVersion: info.protocol,
      requestHeaders,
      requestBody: reqCopy.body(headerValue(requestHeaders, 'content-type') ?? ''),
      status: info.responseCode,
      statusText: '',
      responseHeaders,
      responseBody: resCopy.body(headerValue(responseHeaders, 'content-type') ?? ''),
      timeMs: Math.round((end - info.startMono) * 1000) / 1000,
      meshdeck: {
        listener: info.listenerName,
        route: info.routeName,
        cluster: info.clusterName,
        upstreamHost: info.upstreamHost,
        responseFlags: formatResponseFlags(info.responseFlags),
        responseCodeDetails: info.responseCodeDetails,
        requestId: info.requestId,
        attempts: info.attemptCount,
        upstreamServiceTimeMs: info.upstreamServiceTimeMs >= 0 ? Math.round(info.upstreamServiceTimeMs * 1000) / 1000 : -1,
      },
    });
  };
  res.once('finish', finish);
  res.once('close', finish);
}
