// Resilience in the console, end to end: Debian's chromium against the real engine (a child
// process) running a simulation. The user breaks a host from the dashboard ("break this host":
// the instance behind it goes down), outlier detection ejects it, and the dashboard shows the
// host as ejected with a red span on the health timeline under the latency chart and the
// ejection in the event list; 3 s later it is back in rotation.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import type { SimStartResponse } from '../../engine/admin/contract';
import { ensureConsoleBuilt, freePort, openBrowser, ROOT, startEngineProcess, TOKEN, writeTempConfig, type Browsing, type EngineProc } from './harness';

const SHOTS = join(ROOT, 'test-results/screenshots');

function config(adminPort: number): string {
  return `admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } } }
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: / }
                route: { cluster: psp, retry_policy: { retry_on: 5xx, num_retries: 2 } }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: psp
    type: STATIC
    connect_timeout: 0.25s
    outlier_detection: { consecutive_5xx: 5, interval: 0.5s, base_ejection_time: 3s, max_ejection_percent: 50 }
    load_assignment:
      cluster_name: psp
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 2 } } }
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 3 } } }
`;
}

const SCENARIO = `name: break a PSP host
seed: 3
clusters: { psp: psp }
services:
  psp: { instances: 3, latency: { model: lognormal, p50_ms: 5, p99_ms: 20 } }
load:
  target: { listener: ingress }
  rate: 60
  mix:
    - { name: charge, weight: 1, method: POST, path: /v1/psp/charge, body: { amount: "{{amount 100 5000}}" } }
`;

let cfg: { path: string; cleanup: () => void };
let engine: EngineProc;
let b: Browsing;
let page: Page;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ensureConsoleBuilt();
  cfg = writeTempConfig(config(await freePort()));
  engine = await startEngineProcess(cfg.path);
  b = await openBrowser();
  page = b.page;
});

after(async () => {
  await b?.close();
  await engine?.stop();
  cfg?.cleanup();
});

test('break this host: the instance goes down, outlier detection ejects it, the dashboard shows the ejection on its timeline', async () => {
  const r = await request(`${engine.admin}/api/v1/sim/start`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ yaml: SCENARIO, sourceName: 'break.yaml' }),
  });
  const started = (await r.body.json()) as SimStartResponse;
  assert.ok(started.ok && started.run, JSON.stringify(started.diagnostics));
  const victim = started.run.instances.find((i) => i.index === 1)!.address;

  await page.goto(`${engine.admin}/#token=${TOKEN}`);
  await page.getByTestId('cluster-card-psp').click();
  const row = page.getByTestId('host-row').filter({ hasText: victim });
  await row.getByTestId('host-health').filter({ hasText: 'healthy' }).waitFor({ timeout: 10_000 });
  await row.getByLabel(`How to break ${victim}`).selectOption('down');
  await row.getByRole('button', { name: 'Break for 30 s' }).click();

  // Connection refusals count as 5xx: five in a row eject it.
  await row.getByTestId('host-health').filter({ hasText: /ejected · ejected 1×/ }).waitFor({ timeout: 10_000 });
  await row.getByTestId('break-active').filter({ hasText: 'down' }).waitFor({ timeout: 5000 });
  const lane = page.locator(`[data-testid="health-lane"][data-host="${victim}"]`);
  await lane.getByTestId('span-ejected').first().waitFor({ state: 'attached', timeout: 5000 });
  await page.getByTestId('health-events').getByText(`${victim} ejected by outlier detection (consecutive 5xx) for 3 s`).waitFor({ timeout: 5000 });
  await page.screenshot({ path: join(SHOTS, 'resilience-ejected.png') });

  // Still down after 3 s: it comes back, fails again, and is ejected for longer (6 s) — the
  // timeline shows two spans.
  await page.getByTestId('health-events').getByText(`${victim} back in rotation`).first().waitFor({ timeout: 10_000 });
  await page.getByTestId('health-events').getByText(`${victim} ejected by outlier detection (consecutive 5xx) for 6 s`).waitFor({ timeout: 10_000 });
  await lane.getByTestId('span-ejected').nth(1).waitFor({ state: 'attached', timeout: 3000 });
  assert.equal(await lane.getByTestId('span-ejected').count(), 2);
  // The other hosts were never ejected.
  for (const other of started.run.instances.filter((i) => i.index !== 1)) {
    assert.equal(await page.locator(`[data-testid="health-lane"][data-host="${other.address}"]`).getByTestId('span-ejected').count(), 0);
  }
  await page.screenshot({ path: join(SHOTS, 'resilience-ejected-twice.png') });
  assert.deepEqual(b.problems.filter((p) => p.kind !== 'console.error'), []);
});
