// The desktop app (electron/app.ts) with Electron injected: Electron's binary cannot be downloaded
// or run on these machines, so app, BrowserWindow, ipcMain, dialog, Menu, shell and session are the
// recording fakes of fake-electron.ts. The engine is real: forked from bin/meshdeck.mjs.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MenuItemConstructorOptions } from 'electron';
import { runApp, type RunningApp } from '../../electron/app';
import { CH } from '../../electron/channels';
import { forkLauncher } from '../../electron/launchers';
import type { EngineLauncher, EngineState } from '../../electron/supervisor';
import { fakeElectron, fakeEvent, ipcEvent, waitFor } from './fake-electron';
import { bootstrap } from '../helpers/engine';

const BIN = fileURLToPath(new URL('../../bin/meshdeck.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'meshdeck-shell-'));
const apps: RunningApp[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.supervisor.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const configFile = join(dir, 'envoy.yaml');
// One listener answering 200 itself; the admin endpoint on a free loopback port.
writeFileSync(configFile, bootstrap({ routes: `- match: { prefix: "/" }\n  direct_response: { status: 200 }`, clusters: '' }));

function menuItem(template: MenuItemConstructorOptions[], top: string, label: string): MenuItemConstructorOptions | undefined {
  const m = template.find((t) => t.label === top || t.role === top);
  return (m?.submenu as MenuItemConstructorOptions[] | undefined)?.find((i) => i.label === label || i.role === label);
}

test('the app: engine started with a session token, the window loads the console over http with it, follows a restarted engine, and drains it on quit', async () => {
  const fake = fakeElectron();
  const exits: { code: number | null; signal: string | null }[] = [];
  const base = forkLauncher(BIN);
  const launch: EngineLauncher = (args, env) => {
    assert.equal(env.MESHDECK_ADMIN_TOKEN?.length, 43, 'the token goes to the engine in its environment');
    const c = base(args, env);
    return { ...c, get pid() { return c.pid; }, stdout: c.stdout, stderr: c.stderr, kill: (s) => c.kill(s), onExit: (l) => c.onExit((code, signal) => { exits.push({ code, signal }); l(code, signal); }) };
  };
  const log: string[] = [];
  const running = runApp({
    electron: fake.api,
    preload: '/app/dist/electron/preload.cjs',
    isDev: false,
    log: (l) => log.push(l),
    supervisor: { launch, args: ['-c', configFile, '--drain-time-s', '1'], backoff: { initialMs: 100 } },
  })!;
  apps.push(running);
  const sup = running.supervisor;

  // The window, hidden until the console has loaded, locked down.
  const loaded1 = await new Promise<string>((resolve) => {
    const check = () => {
      const url = fake.windows[0]?.loaded.find((u) => u.startsWith('http:'));
      if (url) resolve(url);
      else setTimeout(check, 20);
    };
    check();
  });
  const win = fake.windows[0]!;
  // Before the engine was ready the window showed a self-contained status page.
  assert.match(win.loaded[0]!, /^data:text\/html/);
  assert.match(decodeURIComponent(win.loaded[0]!), /Starting the engine…/);
  assert.match(decodeURIComponent(win.loaded[0]!), /Content-Security-Policy" content="default-src 'none'/);
  assert.equal(win.loaded.length, 2);
  const wp = win.options.webPreferences!;
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.sandbox, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.webSecurity, true);
  assert.equal(wp.webviewTag, false);
  assert.equal(wp.preload, '/app/dist/electron/preload.cjs');
  assert.equal(win.options.show, false);
  const admin1 = sup.ready!.admin;
  assert.equal(loaded1, `${admin1}/#token=${encodeURIComponent(sup.token)}`, 'http from the engine, the token in the fragment');
  assert.match(admin1, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${admin1}/server_info`, { headers: { authorization: `Bearer ${sup.token}` } });
  assert.equal(res.status, 200, 'the URL the window loads answers with the token');
  await res.arrayBuffer();

  // The renderer heard the engine's states.
  const states = () => win.webContents.sent.filter((m) => m.channel === CH.engineState).map((m) => (m.payload as EngineState).state);
  assert.deepEqual(states(), ['starting', 'ready']);

  // The preload's bootstrap: the console's frame gets the URL and token; any other origin nothing.
  const boot = fake.ipcMain.sendSync(CH.bootstrap, ipcEvent(win.webContents, `${admin1}/#/dashboard`)) as { adminUrl: string; token: string; engineState: EngineState };
  assert.deepEqual(boot, { adminUrl: admin1, token: sup.token, engineState: { state: 'ready', adminUrl: admin1, restarts: 0 } });
  assert.equal(fake.ipcMain.sendSync(CH.bootstrap, ipcEvent(win.webContents, 'https://evil.example/')), null);
  assert.equal(fake.ipcMain.sendSync(CH.bootstrap, ipcEvent(win.webContents, `${admin1}/`, { subframe: true })), null);

  // The native menu: File > Open… shows the Config screen and hands its editor the command;
  // View > Weights switches screens through the URL fragment; no devtools outside development.
  const template = fake.menu()!.template as MenuItemConstructorOptions[];
  (menuItem(template, 'File', 'Open…')!.click as () => void)();
  (menuItem(template, 'View', 'Weights')!.click as () => void)();
  assert.deepEqual(
    win.webContents.sent.filter((m) => m.channel === CH.menu).map((m) => m.payload),
    [{ type: 'open' }],
  );
  assert.deepEqual(win.webContents.scripts, ['location.hash = "#/config"', 'location.hash = "#/weights"']);
  assert.equal(menuItem(template, 'View', 'toggleDevTools'), undefined);
  for (const label of ['Open…', 'Save', 'Save As…']) assert.ok(menuItem(template, 'File', label), `File > ${label}`);

  // kill -9: the renderer is told it is restarting, then ready again; a new port means a reload there.
  const restarted = waitFor<EngineState>(sup, 'state', (s) => s.state === 'ready', 30_000);
  process.kill(sup.pid!, 'SIGKILL');
  await restarted;
  assert.deepEqual(states(), ['starting', 'ready', 'restarting', 'starting', 'ready']);
  const restarting = win.webContents.sent.find((m) => (m.payload as EngineState).state === 'restarting')!.payload as Extract<EngineState, { state: 'restarting' }>;
  assert.equal(restarting.inMs, 100);
  const admin2 = sup.ready!.admin;
  const consoleLoads = win.loaded.filter((u) => !u.startsWith('data:'));
  assert.equal(win.loaded.length, consoleLoads.length + 1, 'no status page once the console is up');
  if (admin2 !== admin1) assert.deepEqual(consoleLoads, [loaded1, `${admin2}/#token=${encodeURIComponent(sup.token)}`]);
  else assert.deepEqual(consoleLoads, [loaded1], 'same origin: the console reconnects by itself, no reload');
  // The IPC check follows the new origin.
  assert.equal((fake.ipcMain.sendSync(CH.bootstrap, ipcEvent(win.webContents, `${admin2}/`)) as { adminUrl: string }).adminUrl, admin2);
  if (admin2 !== admin1) assert.equal(fake.ipcMain.sendSync(CH.bootstrap, ipcEvent(win.webContents, `${admin1}/`)), null);

  // Quit: held until the engine has drained after SIGTERM, then the app quits for real.
  const r2 = await fetch(`${admin2}/server_info`, { headers: { authorization: `Bearer ${sup.token}` } });
  assert.equal(r2.status, 200);
  await r2.arrayBuffer();
  fake.app.quit();
  assert.equal(fake.app.quitted, false, 'quit waits for the engine');
  await running.quitted;
  assert.equal(fake.app.quitted, true);
  assert.deepEqual(exits.at(-1), { code: 0, signal: null }, 'the engine exited cleanly after SIGTERM');
  assert.equal(sup.state.state, 'stopped');
});

test('single instance: a second launch quits at once and starts no engine; the first focuses its window', async () => {
  const second = fakeElectron({ singleInstance: false });
  let launched = 0;
  const r = runApp({ electron: second.api, preload: '/p.cjs', isDev: false, log: () => {}, supervisor: { launch: () => { launched++; throw new Error('must not start'); }, args: [] } });
  assert.equal(r, undefined);
  assert.equal(second.app.quitCalls, 1);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(launched, 0);
  assert.equal(second.windows.length, 0);

  // The first instance: a window exists (the engine is still starting) and gets focus.
  const first = fakeElectron();
  const running = runApp({ electron: first.api, preload: '/p.cjs', isDev: true, log: () => {}, supervisor: { launch: forkLauncher(BIN), args: ['-c', configFile] } })!;
  apps.push(running);
  await new Promise((res) => setTimeout(res, 50));
  const win = first.windows[0]!;
  first.app.emit('second-instance', fakeEvent(), ['meshdeck']);
  assert.equal(win.focused, 1);
  assert.ok(win.shown >= 1);
  // Development builds get the devtools item.
  const template = first.menu()!.template as MenuItemConstructorOptions[];
  assert.ok(menuItem(template, 'View', 'toggleDevTools'));
  await running.supervisor.stop();
});

test('an engine that cannot start: a dialog says why and offers to try again', async () => {
  const fake = fakeElectron();
  fake.script.messageBox.push({ response: 1 }); // Quit
  const running = runApp({
    electron: fake.api,
    preload: '/p.cjs',
    isDev: false,
    log: () => {},
    supervisor: { launch: forkLauncher(BIN), args: ['-c', join(dir, 'missing.yaml')], backoff: { initialMs: 20, maxAttempts: 1 } },
  })!;
  apps.push(running);
  await waitFor<EngineState>(running.supervisor, 'state', (s) => s.state === 'failed', 30_000);
  await new Promise((res) => setTimeout(res, 50));
  const box = fake.dialogCalls.find((c) => c.kind === 'messageBox')!;
  assert.equal(box.options.message, 'The engine could not start.');
  assert.match(String(box.options.detail), /cannot read config '.*missing\.yaml': no such file/);
  assert.deepEqual(box.options.buttons, ['Try Again', 'Quit']);
  assert.ok(fake.app.quitCalls >= 1, 'Quit was chosen');
  const page = decodeURIComponent(fake.windows[0]!.loaded.at(-1)!);
  assert.match(page, /The engine could not start/);
  assert.match(page, /missing\.yaml/, 'the window says why, too');
});
