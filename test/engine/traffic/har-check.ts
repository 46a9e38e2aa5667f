// HAR 1.2's required fields (http://www.softwareishard.com/blog/har-12-spec/), checked strictly:
// every object and field the spec marks required, with its type.

import assert from 'node:assert/strict';

type O = Record<string, any>;
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

function nameValues(list: unknown, where: string): void {
  assert.ok(Array.isArray(list), `${where} is a list`);
  for (const [i, h] of (list as O[]).entries()) assert.ok(typeof h.name === 'string' && typeof h.value === 'string', `${where}[${i}] is {name, value}`);
}

export function assertValidHar(doc: O): void {
  const log = doc.log;
  assert.equal(log.version, '1.2');
  assert.ok(typeof log.creator?.name === 'string' && typeof log.creator?.version === 'string', 'log.creator');
  assert.ok(Array.isArray(log.entries), 'log.entries');
  for (const [i, e] of (log.entries as O[]).entries()) {
    const at = `entries[${i}]`;
    assert.ok(!Number.isNaN(Date.parse(e.startedDateTime)) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(e.startedDateTime), `${at}.startedDateTime`);
    assert.ok(isNum(e.time) && e.time >= 0, `${at}.time`);
    const q = e.request;
    assert.ok(typeof q.method === 'string' && typeof q.url === 'string' && typeof q.httpVersion === 'string', `${at}.request`);
    nameValues(q.cookies, `${at}.request.cookies`);
    nameValues(q.headers, `${at}.request.headers`);
    nameValues(q.queryString, `${at}.request.queryString`);
    assert.ok(isNum(q.headersSize) && isNum(q.bodySize), `${at}.request sizes`);
    if (q.postData) assert.ok(typeof q.postData.mimeType === 'string', `${at}.request.postData.mimeType`);
    const r = e.response;
    assert.ok(isNum(r.status) && typeof r.statusText === 'string' && typeof r.httpVersion === 'string', `${at}.response`);
    nameValues(r.cookies, `${at}.response.cookies`);
    nameValues(r.headers, `${at}.response.headers`);
    assert.ok(isNum(r.content?.size) && typeof r.content?.mimeType === 'string', `${at}.response.content`);
    assert.ok(typeof r.redirectURL === 'string' && isNum(r.headersSize) && isNum(r.bodySize), `${at}.response fields`);
    assert.ok(e.cache && typeof e.cache === 'object', `${at}.cache`);
    assert.ok(isNum(e.timings?.send) && isNum(e.timings?.wait) && isNum(e.timings?.receive), `${at}.timings`);
    for (const k of Object.keys(e)) assert.ok(['pageref', 'startedDateTime', 'time', 'request', 'response', 'cache', 'timings', 'serverIPAddress', 'connection', 'comment'].includes(k) || k.startsWith('_'), `${at}: unknown field ${k}`);
  }
}
