// Small pieces of Envoy config that several HTTP filters read the same way (jwt_authn, rbac,
// local_ratelimit): fractional percents, header options, request-header views.

import type { HttpStream } from '../listener/stream';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

/** type.v3.FractionalPercent → a probability in [0, 1] (denominator defaults to HUNDRED). */
export function fractionOf(fp: Obj): number {
  const n = typeof fp.numerator === 'number' ? fp.numerator : 0;
  const d = DENOMINATORS[typeof fp.denominator === 'string' ? fp.denominator : 'HUNDRED'] ?? 100;
  return Math.min(1, n / d);
}

export interface HeaderToAdd {
  key: string;
  value: string;
  /** Replace an existing value instead of appending to it. */
  overwrite: boolean;
  addIfAbsent: boolean;
}

/** core.v3.HeaderValueOption[] → what to set (append_action, or the deprecated `append`). */
export function headerOptions(list: unknown): HeaderToAdd[] {
  if (!Array.isArray(list)) return [];
  return list.map((o) => {
    const h = obj(obj(o).header);
    const action = obj(o).append_action;
    const appendFlag = obj(o).append;
    return {
      key: String(h.key ?? '').toLowerCase(),
      value: typeof h.value === 'string' ? h.value : typeof h.raw_value === 'string' ? Buffer.from(h.raw_value, 'base64').toString('utf8') : '',
      overwrite: action === 'OVERWRITE_IF_EXISTS_OR_ADD' || action === 'OVERWRITE_IF_EXISTS' || appendFlag === false,
      addIfAbsent: action === 'ADD_IF_ABSENT',
    };
  });
}

/** Apply header options to a node request's headers. */
export function setHeaders(headers: Record<string, string | string[] | undefined>, adds: readonly HeaderToAdd[]): void {
  for (const a of adds) {
    const cur = headers[a.key];
    if (cur === undefined || a.overwrite) headers[a.key] = a.value;
    else if (!a.addIfAbsent) headers[a.key] = Array.isArray(cur) ? [...cur, a.value] : `${cur},${a.value}`;
  }
}

/**
 * The request headers as Envoy's matchers see them: node's lower-case headers plus the pseudo
 * headers :method, :path, :authority and :scheme.
 */
export function requestHeaderView(stream: HttpStream): Record<string, string | string[] | undefined> {
  const req = stream.req;
  return {
    ...req.headers,
    ':method': req.method ?? 'GET',
    ':path': req.url ?? '/',
    ':authority': req.headers.host ?? '',
    ':scheme': (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
  };
}
