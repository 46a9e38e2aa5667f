// The shell's IPC handlers and lock-down with Electron injected (its binary cannot run here, so
// ipcMain, dialog, webContents and session are recording fakes): foreign senders refused, dialog
// results passed back, files read and written only where the user chose, navigation and new
// windows denied, permissions denied, the CSP added only where the engine set none.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserWindow } from 'electron';
import { CONSOLE_CSP } from '../../engine/admin/static';
import { CH, type Bootstrap } from '../../electron/channels';
import { ForeignSenderError, MAX_FILE_BYTES, registerIpc } from '../../electron/ipc';
import { lockDownContents, lockDownSession, webPreferences } from '../../electron/security';
import { FakeWebContents, fakeElectron, fakeEvent, ipcEvent } from './fake-electron';

const dir = mkdtempSync(join(tmpdir(), 'meshdeck-ipc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'http://127.0.0.1:41234';

function setup() {
  const fake = fakeElectron();
  const contents = new FakeWebContents();
  const win = { webContents: contents, isDestroyed: () => false } as unknown as BrowserWindow;
  const boot: Bootstrap = { adminUrl: ADMIN, token: 'tok', engineState: { state: 'ready', adminUrl: ADMIN, restarts: 0 } };
  const log: string[] = [];
  const ipc = registerIpc({ ipcMain: fake.electron.ipcMain as never, dialog: fake.electron.dialog as never, window: () => win, bootstrap: () => boot, log: (l) => log.push(l) });
  const console = ipcEvent(contents, `${ADMIN}/#/config`);
  return { fake, contents, console, log, ipc };
}

test('a sender that is not the console is refused on every channel', async () => {
  const { fake, contents, log } = setup();
  const foreign = [
    ['a foreign origin', ipcEvent(contents, 'https://evil.example/')],
    ['another port on loopback', ipcEvent(contents, 'http://127.0.0.1:1/')],
    ['a frame inside the console', ipcEvent(contents, `${ADMIN}/`, { subframe: true })],
    ['another window', ipcEvent(new FakeWebContents(), `${ADMIN}/`)],
    ['no frame', { sender: contents, senderFrame: null }],
  ] as const;
  for (const [what, ev] of foreign) {
    await assert.rejects(fake.ipcMain.invoke(CH.openFile, ev), ForeignSenderError, `open from ${what}`);
    await assert.rejects(fake.ipcMain.invoke(CH.saveFile, ev, 'text', { path: join(dir, 'x.yaml') }), ForeignSenderError, `save from ${what}`);
    assert.equal(fake.ipcMain.sendSync(CH.bootstrap, ev as never), null, `bootstrap from ${what}`);
  }
  assert.equal(fake.dialogCalls.length, 0, 'no dialog ever opened for them');
  assert.ok(log.some((l) => /refused meshdeck:open-file from https:\/\/evil\.example\/: not the Meshdeck console/.test(l)));
});

test('Open: the dialog (YAML/JSON filters, modal to the window) and the file it picked come back; cancel is null', async () => {
  const { fake, console } = setup();
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, 'static_resources: {}\n');
  fake.script.open.push({ canceled: false, filePaths: [file] });
  assert.deepEqual(await fake.ipcMain.invoke(CH.openFile, console), { path: file, name: 'gateway.yaml', text: 'static_resources: {}\n' });
  const call = fake.dialogCalls[0]!;
  assert.equal(call.kind, 'open');
  assert.equal(call.parent, true);
  assert.deepEqual((call.options.filters as { extensions: string[] }[])[0]!.extensions, ['yaml', 'yml', 'json']);

  fake.script.open.push({ canceled: true, filePaths: [] });
  assert.equal(await fake.ipcMain.invoke(CH.openFile, console), null);

  const big = join(dir, 'big.yaml');
  writeFileSync(big, Buffer.alloc(MAX_FILE_BYTES + 1, 0x61));
  fake.script.open.push({ canceled: false, filePaths: [big] });
  await assert.rejects(fake.ipcMain.invoke(CH.openFile, console), /big\.yaml is 5\.0 MB; an Envoy config over 5 MB is not opened/);
});

test('Save: through the dialog first, then straight to that path; a path the user never picked asks again', async () => {
  const { fake, console } = setup();
  const chosen = join(dir, 'saved.yaml');
  fake.script.save.push({ canceled: false, filePath: chosen });
  assert.deepEqual(await fake.ipcMain.invoke(CH.saveFile, console, 'v: 1\n', { suggestedName: 'envoy.yaml' }), { path: chosen, name: 'saved.yaml' });
  assert.equal(readFileSync(chosen, 'utf8'), 'v: 1\n');
  assert.match(String(fake.dialogCalls[0]!.options.defaultPath), /envoy\.yaml$/);

  // Save again: no dialog.
  assert.deepEqual(await fake.ipcMain.invoke(CH.saveFile, console, 'v: 2\n', { path: chosen }), { path: chosen, name: 'saved.yaml' });
  assert.equal(readFileSync(chosen, 'utf8'), 'v: 2\n');
  assert.equal(fake.dialogCalls.length, 1);

  // The page names a path nobody picked: the dialog opens (proposing that name); cancelled, nothing is written.
  const elsewhere = join(dir, 'not-chosen.yaml');
  assert.equal(await fake.ipcMain.invoke(CH.saveFile, console, 'evil', { path: elsewhere }), null);
  assert.equal(fake.dialogCalls.length, 2);
  assert.match(String(fake.dialogCalls[1]!.options.defaultPath), /not-chosen\.yaml$/);
  assert.throws(() => readFileSync(elsewhere), /ENOENT/);

  await assert.rejects(fake.ipcMain.invoke(CH.saveFile, console, { not: 'text' }), /text must be a string/);
});

test('window options: isolated, sandboxed, no Node, web security on', () => {
  const wp = webPreferences('/app/preload.cjs');
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.sandbox, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.nodeIntegrationInWorker, false);
  assert.equal(wp.nodeIntegrationInSubFrames, false);
  assert.equal(wp.webSecurity, true);
  assert.equal(wp.allowRunningInsecureContent, false);
  assert.equal(wp.webviewTag, false);
});

test('navigation stays on the admin origin; window.open is denied; web links go to the OS browser', () => {
  const contents = new FakeWebContents();
  const opened: string[] = [];
  lockDownContents(contents as never, () => ADMIN, (u) => opened.push(u));

  const away = fakeEvent('https://evil.example/phish');
  contents.emit('will-navigate', away, away.url);
  assert.equal(away.defaultPrevented, true);
  assert.deepEqual(opened, ['https://evil.example/phish']);

  const file = fakeEvent('file:///etc/passwd');
  contents.emit('will-navigate', file, file.url);
  assert.equal(file.defaultPrevented, true);
  assert.equal(opened.length, 1, 'not a web link: not opened anywhere');

  const inside = fakeEvent(`${ADMIN}/#/weights`);
  contents.emit('will-navigate', inside, inside.url);
  assert.equal(inside.defaultPrevented, false, 'the console itself may navigate');

  const redirect = fakeEvent('http://127.0.0.1:9999/');
  contents.emit('will-redirect', redirect, redirect.url);
  assert.equal(redirect.defaultPrevented, true);

  const webview = fakeEvent();
  contents.emit('will-attach-webview', webview);
  assert.equal(webview.defaultPrevented, true);

  assert.deepEqual(contents.openHandler!({ url: 'https://www.envoyproxy.io/docs' }), { action: 'deny' });
  assert.equal(opened.at(-1), 'https://www.envoyproxy.io/docs');
  assert.deepEqual(contents.openHandler!({ url: `${ADMIN}/#/logs` }), { action: 'deny' }, 'not even a second console window');
  assert.deepEqual(contents.openHandler!({ url: 'javascript:alert(1)' }), { action: 'deny' });
  assert.equal(opened.length, 2);
});

test('permissions denied (clipboard writing on the admin origin excepted); the CSP is added only where the engine set none', () => {
  const fake = fakeElectron();
  lockDownSession(fake.electron.session.defaultSession as never, () => ADMIN);
  const ask = (permission: string, url: string) => {
    let answer: boolean | undefined;
    fake.sessionHooks.permissionRequest!({ getURL: () => url }, permission, (ok) => (answer = ok), { requestingUrl: url });
    return answer;
  };
  for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fullscreen']) assert.equal(ask(p, `${ADMIN}/`), false, p);
  assert.equal(ask('clipboard-sanitized-write', `${ADMIN}/`), true);
  assert.equal(ask('clipboard-sanitized-write', 'https://evil.example/'), false);
  assert.equal(fake.sessionHooks.permissionCheck!(null, 'media', ADMIN), false);
  assert.equal(fake.sessionHooks.permissionCheck!(null, 'clipboard-sanitized-write', ADMIN), true);

  const headers = (url: string, responseHeaders: Record<string, string[]>, resourceType = 'mainFrame') => {
    let out: Record<string, string[]> | undefined;
    fake.sessionHooks.headersReceived!({ url, resourceType, responseHeaders }, (r) => (out = r.responseHeaders));
    return out;
  };
  assert.deepEqual(headers(`${ADMIN}/`, { 'content-type': ['text/html'] }), { 'content-type': ['text/html'], 'Content-Security-Policy': [CONSOLE_CSP] });
  const own = { 'content-security-policy': ["default-src 'self'"] };
  assert.deepEqual(headers(`${ADMIN}/`, own), own, 'the engine’s own policy is left alone (no second, conflicting one)');
  assert.deepEqual(headers(`${ADMIN}/api/v1/config`, {}, 'xhr'), {});
});
