// Console API for issue 7: each listener's HTTP filter chain with its counters, and the security
// kit (a local CA, certificates and JWT material for a simulation). Types in ../contract.ts.

import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KitRequest, KitResponse } from '../contract';
import { API_PREFIX } from '../contract';
import type { AdminRoute } from '../routes';
import { filterChainsView } from '../../filters/chain-view';
import { createKit, KitInputError } from '../../kit/kit';
import { HttpError, readJson, sendJson } from './http';

const strings = (v: unknown, name: string): string[] | undefined => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new HttpError(400, `'${name}' must be a list of strings`);
  return v as string[];
};
const optString = (v: unknown, name: string): string | undefined => {
  if (v !== undefined && typeof v !== 'string') throw new HttpError(400, `'${name}' must be a string`);
  return v as string | undefined;
};

export function securityRoutes(): Array<[string, AdminRoute]> {
  return [
    [
      `${API_PREFIX}/filters`,
      {
        method: 'GET',
        handle: ({ engine, res }) => sendJson(res, filterChainsView(engine.snapshot)),
      },
    ],
    [
      `${API_PREFIX}/kit`,
      {
        method: 'POST',
        handle: async ({ req, res }) => {
          try {
            const body = await readJson<KitRequest>(req, { emptyAsObject: true });
            const dir = optString(body.dir, 'dir') ?? mkdtempSync(join(tmpdir(), 'meshdeck-kit-'));
            const kit = await createKit({
              dir,
              issuer: optString(body.issuer, 'issuer'),
              audience: optString(body.audience, 'audience'),
              clients: strings(body.clients, 'clients'),
            });
            const sampleToken = (await readFile(kit.jwt.token, 'utf8')).trim();
            sendJson(res, { ...kit, sampleToken } satisfies KitResponse);
          } catch (e) {
            if (e instanceof HttpError) sendJson(res, { error: e.message }, e.status);
            else if (e instanceof KitInputError) sendJson(res, { error: e.message }, 400);
            else sendJson(res, { error: (e as Error).message }, 500);
          }
        },
      },
    ],
  ];
}
