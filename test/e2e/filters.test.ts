// The Filters screen end to end: Debian's chromium against the real engine (a child process) —
// a listener's HTTP filters in order with their live counters, a refusal counter that opens the
// access log filtered by the refusing filter, and the security kit generated from the console.

import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { ensureConsoleBuilt, freePort, openBrowser, ROOT, startEngineProcess, TOKEN, writeTempConfig, type Browsing, type EngineProc } from './harness';

let app: Upstream;
let cfg: { path: string; cleanup: () => void };
let engine: EngineProc;
let b: Browsing;

before(async () => {
  ensureConsoleBuilt();
  app = await startUpstream('app');
  const adminPort = await freePort();
  cfg = writeTempConfig(`
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:
  - name: edge
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: edge
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{ match: { prefix: "/" }, route: { cluster: app } }]
          http_filters:
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: edge_rl
              token_bucket: { max_tokens: 6, tokens_per_fill: 1, fill_interval: 60s }
              filter_enabled: { runtime_key: e, default_value: { numerator: 100 } }
              filter_enforced: { runtime_key: f, default_value: { numerator: 100 } }
          - name: envoy.filters.http.rbac
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
              rules:
                action: DENY
                policies:
                  no-admin: { permissions: [{ url_path: { path: { prefix: /admin } } }], principals: [{ any: true }] }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: app
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${app.port} } } }
`);
  engine = await startEngineProcess(cfg.path);
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  await engine?.stop();
  await app?.close();
  cfg?.cleanup();
});

test('the Filters screen shows the chain in order with counters, links refusals to the log, and makes a security kit', async () => {
  const statuses: number[] = [];
  for (const path of ['/a', '/admin', '/b', '/admin/users', '/c', '/d', '/e', '/f']) {
    const r = await request(engine.gateway + path);
    await r.body.text();
    statuses.push(r.statusCode);
  }
  assert.deepEqual(statuses, [200, 403, 200, 403, 200, 200, 429, 429]);

  const page = b.page;
  await page.goto(`${engine.admin}/#token=${TOKEN}`);
  await page.goto(`${engine.admin}/#/filters`);
  const chain = page.locator('[data-testid=filter-chain][data-listener=edge]');
  await chain.waitFor();
  assert.deepEqual(await chain.locator('[data-testid=filter-card]').evaluateAll((els) => els.map((e) => e.getAttribute('data-filter'))), [
    'envoy.filters.http.local_ratelimit',
    'envoy.filters.http.rbac',
    'envoy.filters.http.router',
  ]);
  const stat = (name: string) => chain.locator(`tr[data-stat="${name}"] td.num`).innerText();
  assert.equal(await stat('edge_rl.http_local_rate_limit.rate_limited'), '2');
  assert.equal(await stat('http.edge.rbac.denied'), '2');
  assert.equal(await stat('http.edge.rbac.allowed'), '4');
  mkdirSync(join(ROOT, 'test-results/screenshots'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'test-results/screenshots/filters.png') });

  // The refusals counter opens the access log, filtered to what RBAC refused.
  await chain.locator('tr[data-stat="http.edge.rbac.denied"] button').click();
  await page.waitForURL(/#\/logs/);
  const rows = page.locator('[data-testid=log-row]');
  await rows.first().waitFor();
  await page.waitForFunction("document.querySelectorAll('[data-testid=log-row]').length === 2");
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-path'), e.getAttribute('data-status'), e.getAttribute('data-refused-by')])), [
    ['/admin/users', '403', 'envoy.filters.http.rbac'],
    ['/admin', '403', 'envoy.filters.http.rbac'],
  ]);
  assert.equal(await page.locator('[data-testid=filter-refused-by]').inputValue(), 'envoy.filters.http.rbac');
  await page.locator('[data-testid=filter-refused-by]').selectOption('envoy.filters.http.local_ratelimit');
  await page.waitForFunction("[...document.querySelectorAll('[data-testid=log-row]')].every((e) => e.getAttribute('data-status') === '429')");

  // The security kit, from the console.
  await page.goto(`${engine.admin}/#/filters`);
  await page.locator('[data-testid=kit-create]').click();
  const result = page.locator('[data-testid=kit-result]');
  await result.waitFor({ timeout: 15_000 });
  const text = await result.innerText();
  assert.match(text, /ca\.crt/);
  assert.match(text, /spiffe:\/\/meshdeck\.local\/merchant-a/);
  const dir = /Written to (\S+)\./.exec(text)?.[1];
  assert.ok(dir && dir.includes('meshdeck-kit-'), text);
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(b.problems, []);
});
