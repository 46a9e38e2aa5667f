// The config editor end to end: Debian's chromium (playwright-core) against the real engine (a
// child process) running the demo config (examples/payment-gateway.yaml, its endpoints pointed at
// real upstreams on free ports) with traffic flowing. What a user relies on: the schema marks a
// wrong enum value as they type, the engine's own message shows for an unknown field, a broken
// config is refused while traffic keeps being served, a weight changed elsewhere reaches the
// editor, shortcuts apply and save, and the page has no console errors or CSP violations.
// Screenshots go to test-results/screenshots/editor-*.png, figures to test-results/editor-figures.json.

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import type { ApplyResponse, ConfigResponse } from '../../engine/admin/contract';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { CHROMIUM, ensureConsoleBuilt, freePort, openBrowser, ROOT, startEngineProcess, TOKEN, Traffic, writeTempConfig, type Browsing, type EngineProc } from './harness';

const SHOTS = join(ROOT, 'test-results/screenshots');
const DEMO_PATHS = ['/v1/payments/authorize', '/v1/fraud/score', '/v1/vault/tokens', '/v1/ledger/entries', '/v1/psp/charge'];
const figures: Record<string, unknown> = {};

let mocks: Upstream[] = [];
let cfg: { path: string; cleanup: () => void };
let logDir: string;
let engine: EngineProc;
let traffic: Traffic;
let b: Browsing;
let page: Page;
/** Console errors a test provoked on purpose (Chromium logs every non-2xx fetch), each allowed once. */
const provoked: RegExp[] = [];
const failedResponses: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `editor-${name}.png`) });
}

async function api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await request(`${engine.admin}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.statusCode, body: (await r.body.json()) as T };
}

/** The demo exactly as shipped, with its placeholder ports replaced by live upstreams and a fixed admin port. */
async function demoOnFreePorts(adminPort: number): Promise<string> {
  let text = readFileSync(join(ROOT, 'examples/payment-gateway.yaml'), 'utf8');
  text = text.replace(/(admin:\n\s+address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: )0( \} \})/, `$1${adminPort}$2`);
  text = text.replace('port_value: 10000', 'port_value: 0');
  text = text.replace('/tmp/meshdeck-demo-access.log', join(logDir, 'access.log'));
  const ports = [...new Set([...text.matchAll(/port_value: (19\d\d\d)/g)].map((m) => m[1]!))];
  for (const p of ports) {
    const u = await startUpstream(`mock-${p}`);
    mocks.push(u);
    text = text.replaceAll(`port_value: ${p} `, `port_value: ${u.port} `);
  }
  assert.ok(ports.length >= 10, `only ${ports.length} endpoints in the demo`);
  assert.ok(text.includes(`port_value: ${adminPort} `));
  return text;
}

/** Problems as the panel lists them (schema markers from monaco-yaml, the engine's from its validation). */
async function problems(): Promise<Array<{ owner: string; severity: string; line: number; code: string; text: string }>> {
  return page.getByTestId('problem').evaluateAll((els) =>
    els.map((e) => ({
      owner: e.getAttribute('data-owner') ?? '',
      severity: e.getAttribute('data-severity') ?? '',
      line: Number(e.getAttribute('data-line')),
      code: e.getAttribute('data-code') ?? '',
      text: e.textContent ?? '',
    })),
  );
}

/** Waits until the problems panel lists one from `owner` on `line` whose text matches `re`. */
async function waitForProblem(owner: string, line: number, re: RegExp, timeout = 8000): Promise<void> {
  await page.waitForFunction(
    ([o, l, src, flags]) => {
      const d = (globalThis as unknown as { document: { querySelectorAll(s: string): Array<{ getAttribute(n: string): string | null; textContent: string | null }> } }).document;
      const match = new RegExp(src!, flags);
      return [...d.querySelectorAll('[data-testid=problem]')].some((e) => e.getAttribute('data-owner') === o && Number(e.getAttribute('data-line')) === Number(l) && match.test(e.textContent ?? ''));
    },
    [owner, String(line), re.source, re.flags] as const,
    { timeout },
  );
}

/** The Config screen with the editor ready (each test can run after a failed one). */
async function openEditor(): Promise<void> {
  if (!(await page.locator('[data-testid=config-yaml] .monaco-editor').count())) {
    await page.goto(`${engine.admin}/#/config`);
  }
  await page.locator('[data-testid=config-yaml] .view-line').first().waitFor({ timeout: 10_000 });
}

/** Selects `find` in the editor with Monaco's own find widget (Ctrl+F), then types `replacement` over it. */
async function replaceInEditor(find: string, replacement: string): Promise<void> {
  await page.locator('[data-testid=config-yaml] .view-lines').first().click();
  await page.keyboard.press('Control+f');
  const input = page.locator('.find-widget textarea, .find-widget input').first();
  await input.waitFor();
  await input.fill(find);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await page.keyboard.type(replacement, { delay: 5 });
  await page.keyboard.press('Escape'); // a completion list may be open
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set MESHDECK_CHROMIUM)`);
  ensureConsoleBuilt();
  mkdirSync(SHOTS, { recursive: true });
  logDir = mkdtempSync(join(tmpdir(), 'meshdeck-editor-e2e-'));
  // The engine serves a snapshot of the build: a rebuild of dist/renderer/ while this runs (another
  // test's ensureConsoleBuilt, a developer) would otherwise delete the workers the page still loads.
  const consoleCopy = join(logDir, 'console');
  cpSync(join(ROOT, 'dist/renderer'), consoleCopy, { recursive: true, filter: (src) => !src.endsWith('.map') });
  process.env.MESHDECK_CONSOLE_DIR = consoleCopy;
  cfg = writeTempConfig(await demoOnFreePorts(await freePort()));
  engine = await startEngineProcess(cfg.path);
  traffic = new Traffic(engine.gateway, 60, DEMO_PATHS).start();
  b = await openBrowser();
  page = b.page;
  // Chromium's console says only "status of 404"; keep the URL for the failure message.
  page.on('response', (r) => {
    if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
});

after(async () => {
  writeFileSync(join(ROOT, 'test-results/editor-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log('editor e2e figures:', JSON.stringify(figures));
  await b?.close();
  await traffic?.stop();
  await engine?.stop();
  for (const m of mocks) await m.close();
  cfg?.cleanup();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

test('the console opens on the demo without loading Monaco (time to interactive measured, target 2 s); the editor loads when Config opens', async () => {
  await page.goto(`${engine.admin}/#token=${TOKEN}`);
  await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 10_000 });
  await page.locator('nav a', { hasText: 'Config' }).waitFor();
  const t = (await page.evaluate(`(() => {
    const shown = performance.now();
    const blocking = window.__longTasks.filter((l) => l.start < shown);
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
    const monaco = performance.getEntriesByType('resource').filter((r) => /ConfigEditor|worker/.test(r.name)).map((r) => r.name);
    return { shown, fcp, interactive: Math.max(shown, ...blocking.map((l) => l.start + l.duration)), longTasks: blocking.map((l) => Math.round(l.duration)), monaco };
  })()`)) as { shown: number; fcp: number | null; interactive: number; longTasks: number[]; monaco: string[] };
  figures.consoleOpen = { firstContentfulPaintMs: t.fcp && Math.round(t.fcp), liveMs: Math.round(t.shown), timeToInteractiveMs: Math.round(t.interactive), longTasksBeforeMs: t.longTasks };
  assert.deepEqual(t.monaco, [], 'the editor was loaded by a screen that does not show it');
  // The target is 2 s (the figure is in editor-figures.json; console.test.ts holds the dashboard to
  // it). What this test guards is that Monaco stays out of the first load (asserted above, by the
  // resources fetched); the time bound is only a sanity check, loose because the test machines'
  // cores are shared and a busy minute doubles every figure.
  assert.ok(t.interactive < 6000, `the console was interactive after ${Math.round(t.interactive)} ms`);
  assert.ok(!page.url().includes('token'), page.url());

  // Now the editor: its chunk, the schema and Monaco's workers load on first use.
  const clicked = (await page.evaluate('performance.now()')) as number;
  await page.locator('nav a', { hasText: 'Config' }).click();
  await page.locator('[data-testid=config-yaml] .view-line').first().waitFor({ timeout: 10_000 });
  const e = (await page.evaluate(`(() => {
    const ready = performance.getEntriesByName('meshdeck:editor-ready')[0].startTime;
    const now = performance.now();
    const blocking = window.__longTasks.filter((l) => l.start >= ${clicked} && l.start < now);
    return { ready, interactive: Math.max(ready, ...blocking.map((l) => l.start + l.duration)), longTasks: blocking.map((l) => Math.round(l.duration)) };
  })()`)) as { ready: number; interactive: number; longTasks: number[] };
  figures.editorAfterClick = { readyMs: Math.round(e.ready - clicked), interactiveMs: Math.round(e.interactive - clicked), longTasksMs: e.longTasks };
  // Not a speed target (the machine is shared): a bound that catches a regression such as loading every Monaco language.
  assert.ok(e.interactive - clicked < 8000, `the editor took ${Math.round(e.interactive - clicked)} ms`);

  await page.getByText('No problems: the engine would run this config.').or(page.getByTestId('problem').first()).waitFor({ timeout: 10_000 });
  // The demo runs on Meshdeck as it is: the engine has nothing to say about it, nor has the schema.
  const listed = await problems();
  assert.deepEqual(listed.filter((p) => p.severity === 'error'), [], JSON.stringify(listed));
  assert.match((await page.locator('[data-testid=config-yaml] .view-lines').innerText()).replace(/\u00a0/g, ' '), /payment gateway in front of a small payment stack/);
  assert.equal(await page.getByTestId('config-version').getAttribute('data-version'), '1');
  await shot('open');
});

test('as you type: the schema marks a wrong enum value and completes the right ones; the engine says which it meant; hover shows Envoy’s docs', async () => {
  await openEditor();
  const running = (await api<ConfigResponse>('/config')).body.yaml;
  const line = lineOf(running, 'lb_policy: LEAST_REQUEST');
  assert.ok(line > 0);
  await replaceInEditor('lb_policy: LEAST_REQUEST', 'lb_policy: LEAST_CONN');
  // monaco-yaml's marker, from the schema's enum (its worker runs, the model URI matches fileMatch).
  await waitForProblem('yaml', line, /LEAST_REQUEST/);
  // The engine's own validation: Envoy's wording and a suggestion.
  await waitForProblem('meshdeck', line, /invalid value "LEAST_CONN"[\s\S]*did you mean "LEAST_REQUEST"\?/);
  await page.locator('[data-testid=config-yaml] .squiggly-warning, [data-testid=config-yaml] .squiggly-error').first().waitFor();
  await page.getByTestId('dirty').waitFor();
  await shot('enum-marker');

  // Hover over the key: the proto comment of Cluster.lb_policy.
  const row = page.locator('[data-testid=config-yaml] .view-line', { hasText: 'LEAST_CONN' });
  await row.locator('span', { hasText: /^lb_policy$/ }).first().hover();
  await page.locator('.monaco-hover', { hasText: 'The load balancer type to use when picking a host in the cluster' }).first().waitFor({ timeout: 8000 });
  await shot('hover');
  await page.mouse.move(5, 5);

  // Completion of the value: the enum's names, filtered by what is typed.
  await page.keyboard.press('Control+f');
  await page.locator('.find-widget textarea, .find-widget input').first().fill('LEAST_CONN');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('LEAST', { delay: 20 });
  const suggest = page.locator('.suggest-widget');
  await suggest.getByText('LEAST_REQUEST', { exact: true }).waitFor({ timeout: 8000 });
  // Filtered by what was typed (LEAST), not every value of the enum.
  assert.equal(await suggest.getByText('ROUND_ROBIN', { exact: true }).count(), 0);
  await shot('completion');
  await page.keyboard.press('Escape');
  await page.keyboard.type('_REQUEST');
  await page.keyboard.press('Escape');
  // Fixed: no problem left on that line, and the text is the running one again.
  await page.waitForFunction((l) => {
    const d = (globalThis as unknown as { document: { querySelectorAll(s: string): Array<{ getAttribute(n: string): string | null }> } }).document;
    return ![...d.querySelectorAll('[data-testid=problem]')].some((e) => Number(e.getAttribute('data-line')) === l);
  }, line, { timeout: 8000 });
  await page.getByTestId('dirty').waitFor({ state: 'detached' });

  // Inside a typed_config, completion knows the message its "@type" names (the HTTP connection manager).
  await replaceInEditor('stat_prefix: gateway', 'stat_prefix: gateway');
  // A suggestion popup for the value just typed may open late (the YAML worker answers
  // asynchronously) and would take the Enter below: let it come, close it, make sure it is gone.
  await sleep(600);
  await page.keyboard.press('Escape');
  await page.locator('.suggest-widget.visible').waitFor({ state: 'hidden', timeout: 3000 });
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('codec_t', { delay: 20 });
  // Quick suggestions may not open on a busy machine before typing stops; ask for them as a user would.
  const codecType = suggest.getByText('codec_type', { exact: true });
  for (let attempt = 1; ; attempt++) {
    try {
      await codecType.waitFor({ timeout: 4000 });
      break;
    } catch (e) {
      if (attempt === 4) {
        await shot('completion-typed-config-missing');
        throw e;
      }
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Space');
    }
  }
  await shot('completion-typed-config');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Revert' }).click();
  await page.getByTestId('dirty').waitFor({ state: 'detached' });
});

test('an unknown field from an opened file: the engine’s message; applying it is refused and traffic keeps being served', async () => {
  await openEditor();
  const before = (await api<ConfigResponse>('/config')).body;
  // A typo, and a valid Envoy field Meshdeck does not run (a warning, not an error).
  const bad = before.yaml
    .replace('connect_timeout: 0.25s', 'connect_timeuot: 0.25s')
    .replace('- name: ledger\n    connect_timeout: 0.25s', '- name: ledger\n    connect_timeout: 0.25s\n    upstream_connection_options: { tcp_keepalive: {} }');
  assert.match(bad, /upstream_connection_options/);
  const line = lineOf(bad, 'connect_timeuot');
  await page.getByTestId('file-input').setInputFiles({ name: 'broken.yaml', mimeType: 'application/yaml', buffer: Buffer.from(bad) });
  await page.getByTestId('editor-info').getByText('Opened broken.yaml').waitFor();
  await waitForProblem('meshdeck', line, /unknown field "connect_timeuot" in envoy\.config\.cluster\.v3\.Cluster[\s\S]*did you mean "connect_timeout"\?/);
  await waitForProblem('meshdeck', lineOf(bad, 'upstream_connection_options'), /not run by Meshdeck: upstream socket options/);
  assert.equal((await problems()).find((p) => p.code === 'not_supported')?.severity, 'warning');
  await shot('unknown-field');

  const served = traffic.done;
  const failed = traffic.failed;
  provoked.push(/status of 422/);
  await page.getByTestId('apply').click();
  const refused = page.getByTestId('apply-refused');
  await refused.waitFor({ timeout: 8000 });
  assert.match((await refused.textContent()) ?? '', new RegExp(`refused this config \\(1 error, marked in the text\\)[\\s\\S]*running config \\(version ${before.version}\\) keeps serving`));
  await shot('apply-refused');
  // The running config did not change, and requests through the listener are still answered.
  assert.equal((await api<ConfigResponse>('/config')).body.version, before.version);
  for (let i = 0; i < 10; i++) {
    const r = await request(`${engine.gateway}/v1/fraud/score`);
    assert.equal(r.statusCode, 200);
    await r.body.dump();
  }
  await sleep(500);
  assert.ok(traffic.done > served + 10, `background traffic stalled: ${traffic.done - served} answered`);
  assert.equal(traffic.failed, failed, 'requests failed while the broken config was refused');

  // Revert: back to what runs.
  await page.getByRole('button', { name: 'Revert' }).click();
  await page.getByTestId('dirty').waitFor({ state: 'detached' });
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('[data-testid=problem]').length === 0, undefined, { timeout: 8000 });
});

test('a diff against the running config, and Ctrl+Enter applies (hot reload)', async () => {
  await openEditor();
  const before = (await api<ConfigResponse>('/config')).body;
  await replaceInEditor('route: { cluster: fraud_score, timeout: 0.5s }', 'route: { cluster: fraud_score, timeout: 0.75s }');
  await page.getByTestId('diff-toggle').click();
  await page.locator('[data-testid=config-yaml] .monaco-diff-editor').waitFor();
  await page.locator('[data-testid=config-yaml] .char-insert, [data-testid=config-yaml] .line-insert').first().waitFor({ timeout: 8000 });
  await shot('diff');
  // Focus the edited side and apply with the keyboard.
  await page.locator('[data-testid=config-yaml] .modified .view-lines').first().click();
  await page.keyboard.press('Control+Enter');
  await page.getByTestId('apply-ok').getByText(`the engine now runs version ${before.version + 1}`).waitFor({ timeout: 8000 });
  const now = (await api<ConfigResponse>('/config')).body;
  assert.equal(now.version, before.version + 1);
  assert.match(now.yaml, /route: \{ cluster: fraud_score, timeout: 0\.75s \}/);
  await page.getByTestId('dirty').waitFor({ state: 'detached' });
  await page.getByTestId('diff-toggle').click();
  await page.locator('[data-testid=config-yaml] .monaco-diff-editor').waitFor({ state: 'detached' });
});

/** Ctrl+S in the editor: the browser downloads the edited text. */
async function downloadViaShortcut(): Promise<string> {
  await page.locator('[data-testid=config-yaml] .view-lines').first().click();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Control+s')]);
  const path = await dl.path();
  assert.ok(path);
  assert.equal(dl.suggestedFilename(), 'envoy.yaml');
  return readFileSync(path, 'utf8');
}

test('a weight changed elsewhere: taken as is without edits; with edits, Merge, Compare or Reload', async () => {
  await openEditor();
  const port = mocks[1]!.port; // payments_v1's second endpoint
  const weightLine = (w: number) => new RegExp(`port_value: ${port} \\} \\} \\}\\n\\s+load_balancing_weight: ${w}\\n`);
  const setWeight = async (weight: number) => {
    const v = (await api<ConfigResponse>('/config')).body.version;
    const r = await api<ApplyResponse>('/weights', { edits: [{ kind: 'endpoint', cluster: 'payments_v1', endpoint: `127.0.0.1:${port}`, weight }], baseVersion: v });
    assert.equal(r.status, 200);
    return v + 1;
  };
  const notice = page.getByTestId('underneath');

  // No edits in the editor: it simply takes the new text.
  let v = await setWeight(5);
  await page.getByTestId('editor-info').getByText(`now version ${v}`).waitFor({ timeout: 8000 });
  await page.locator(`[data-testid=config-version][data-version="${v}"]`).waitFor();
  assert.match(await downloadViaShortcut(), weightLine(5));

  // Edits on other lines: the editor says so; Merge keeps both, and Apply runs both.
  await replaceInEditor('timeout: 2s', 'timeout: 2.5s');
  v = await setWeight(7);
  await notice.waitFor({ timeout: 8000 });
  assert.equal(await notice.getAttribute('data-version'), String(v));
  await shot('underneath');
  await notice.getByTestId('underneath-merge').click();
  await page.getByTestId('editor-info').getByText(`on top of version ${v}`).waitFor();
  const merged = await downloadViaShortcut();
  assert.match(merged, weightLine(7));
  assert.match(merged, /timeout: 2\.5s/);
  await page.getByTestId('apply').click();
  await page.getByTestId('apply-ok').getByText(`now runs version ${v + 1}`).waitFor({ timeout: 8000 });
  const applied = (await api<ConfigResponse>('/config')).body.yaml;
  assert.match(applied, weightLine(7));
  assert.match(applied, /timeout: 2\.5s/);

  // Edits on the same line as the change: no merge offered; Compare shows both sides.
  await replaceInEditor('load_balancing_weight: 7', 'load_balancing_weight: 8');
  v = await setWeight(3);
  await notice.waitFor({ timeout: 8000 });
  assert.equal(await notice.getByTestId('underneath-merge').count(), 0);
  await notice.getByTestId('underneath-compare').click();
  await page.locator('[data-testid=config-yaml] .monaco-diff-editor').waitFor();
  await page.locator('[data-testid=config-yaml] .original .view-line', { hasText: 'load_balancing_weight: 3' }).first().waitFor({ timeout: 8000 });
  await page.locator('[data-testid=config-yaml] .modified .view-line', { hasText: 'load_balancing_weight: 8' }).first().waitFor({ timeout: 8000 });
  await page.getByTestId('dirty').waitFor();
  await shot('compare');
  await page.getByTestId('diff-toggle').click();

  // Once more, and Reload: the edits go, the running text comes in.
  v = await setWeight(4);
  await notice.waitFor({ timeout: 8000 });
  await notice.getByTestId('underneath-reload').click();
  await page.getByTestId('dirty').waitFor({ state: 'detached' });
  const text = await downloadViaShortcut();
  assert.equal(text, (await api<ConfigResponse>('/config')).body.yaml);
  assert.match(text, weightLine(4));
});

test('the editor follows the OS theme (dark)', async () => {
  await openEditor();
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.locator('[data-testid=config-yaml] .monaco-editor.vs-dark').first().waitFor({ timeout: 5000 });
  await shot('dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.locator('[data-testid=config-yaml] .monaco-editor.vs').first().waitFor({ timeout: 5000 });
});

test('under Electron the native bridge is used: Open and Save go through window.meshdeck, and the File menu’s commands work', async () => {
  // The preload's contract (renderer/src/api/native.ts), recorded instead of showing dialogs; the
  // Electron side of it is tested with Electron injected (test/electron/).
  const p2 = await b.browser.newPage();
  const errors: string[] = [];
  p2.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  p2.on('pageerror', (e) => errors.push(e.message));
  const opened = (await api<ConfigResponse>('/config')).body.yaml.replace('timeout: 1s', 'timeout: 1.25s');
  // A string, not a function: tsx's keepNames would wrap the arrows in a __name the page lacks.
  await p2.addInitScript(`(() => {
    const adminUrl = ${JSON.stringify(engine.admin)};
    const text = ${JSON.stringify(opened)};
    const calls = [];
    const menu = [];
    window.__bridgeCalls = calls;
    window.__menu = (c) => menu.forEach((l) => l(c));
    window.meshdeck = {
      adminUrl,
      token: ${JSON.stringify(TOKEN)},
      openFile: async () => (calls.push(['openFile']), { path: '/home/me/gateway.yaml', name: 'gateway.yaml', text }),
      saveFile: async (t, o) => (calls.push(['saveFile', t.length, o?.path ?? null, o?.suggestedName ?? null]), { path: o?.path ?? '/home/me/saved-as.yaml', name: 'saved.yaml' }),
      onEngineState: (l) => (l({ state: 'ready', adminUrl, restarts: 0 }), () => {}),
      onMenuCommand: (l) => (menu.push(l), () => menu.splice(menu.indexOf(l), 1)),
    };
  })()`);
  await p2.goto(`${engine.admin}/#/config`);
  await p2.locator('[data-testid=config-yaml] .view-line').first().waitFor({ timeout: 10_000 });
  assert.equal(await p2.getByTestId('save').textContent(), 'Save');
  await p2.getByTestId('open').click();
  await p2.getByTestId('editor-info').getByText('Opened /home/me/gateway.yaml').waitFor();
  await p2.getByTestId('dirty').waitFor();
  // Ctrl+S saves back to the opened file; the menu's Save As asks for a new place.
  await p2.locator('[data-testid=config-yaml] .view-lines').first().click();
  await p2.keyboard.press('Control+s');
  await p2.getByTestId('editor-info').getByText('Saved to /home/me/gateway.yaml').waitFor();
  await p2.evaluate(`window.__menu({ type: 'save-as' })`);
  await p2.getByTestId('editor-info').getByText('Saved to /home/me/saved-as.yaml').waitFor();
  const calls = (await p2.evaluate('window.__bridgeCalls')) as unknown[];
  assert.deepEqual(calls, [
    ['openFile'],
    ['saveFile', opened.length, '/home/me/gateway.yaml', 'gateway.yaml'],
    ['saveFile', opened.length, null, 'saved.yaml'],
  ]);
  assert.deepEqual(errors, []);
  await p2.close();
});

test('no console errors, page errors or CSP violations', async () => {
  const csp = (await page.evaluate('window.__csp')) as string[];
  assert.deepEqual(csp, []);
  const unexpected = b.problems.filter((p) => {
    const i = p.kind === 'console.error' ? provoked.findIndex((re) => re.test(p.text)) : -1;
    if (i >= 0) {
      provoked.splice(i, 1);
      return false;
    }
    return true;
  });
  figures.consoleProblems = { total: b.problems.length, provoked: b.problems.length - unexpected.length };
  assert.deepEqual(unexpected, [], `failed responses: ${failedResponses.join(', ')}`);
});
