// Stand-ins for the parts of Electron the shell uses. Electron's binary cannot be downloaded on
// these machines (and tests must never require('electron')), so the shell takes Electron as a
// parameter and these fakes record what it asked for: windows and their options, loaded URLs,
// messages sent to the page, IPC handlers, dialogs, menus, session hooks. The engine behind them
// is real (forked from bin/meshdeck.mjs).

import { EventEmitter } from 'node:events';
import type { ElectronApi } from '../../electron/app';

export interface FakeEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
  url?: string;
}

export function fakeEvent(url?: string): FakeEvent {
  return {
    defaultPrevented: false,
    url,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

let nextId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly sent: { channel: string; payload: unknown }[] = [];
  openHandler: ((d: { url: string }) => { action: 'allow' | 'deny' }) | undefined;
  url = '';
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
    this.emit('sent', channel, payload);
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'allow' | 'deny' }): void {
    this.openHandler = h;
  }
  getURL(): string {
    return this.url;
  }
  readonly scripts: string[] = [];
  executeJavaScript(code: string): Promise<unknown> {
    this.scripts.push(code);
    return Promise.resolve(undefined);
  }
}

export interface DialogScript {
  open: { canceled: boolean; filePaths: string[] }[];
  save: { canceled: boolean; filePath?: string }[];
  messageBox: { response: number }[];
}

export function fakeElectron(opts: { singleInstance?: boolean } = {}) {
  const app = new (class extends EventEmitter {
    quitCalls = 0;
    quitted = false;
    requestSingleInstanceLock() {
      return opts.singleInstance ?? true;
    }
    whenReady() {
      return Promise.resolve();
    }
    getPath() {
      return '/tmp';
    }
    getVersion() {
      return '0.0.0-test';
    }
    quit() {
      this.quitCalls += 1;
      const ev = fakeEvent();
      this.emit('before-quit', ev);
      if (!ev.defaultPrevented) {
        this.quitted = true;
        this.emit('quit');
      }
    }
  })();

  const windows: FakeWindow[] = [];
  class FakeWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    shown = 0;
    focused = 0;
    constructor(readonly options: { webPreferences?: Record<string, unknown> } & Record<string, unknown>) {
      super();
      windows.push(this);
      app.emit('web-contents-created', fakeEvent(), this.webContents);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      this.webContents.url = url;
      this.emit('loaded', url);
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    restore() {}
    show() {
      this.shown += 1;
    }
    focus() {
      this.focused += 1;
    }
  }

  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const listeners = new Map<string, (event: { returnValue?: unknown } & Record<string, unknown>) => void>();
  const ipcMain = {
    handle(channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) {
      handlers.set(channel, fn);
    },
    on(channel: string, fn: (event: { returnValue?: unknown } & Record<string, unknown>) => void) {
      listeners.set(channel, fn);
    },
    /** What ipcRenderer.invoke would get back. */
    async invoke(channel: string, event: unknown, ...args: unknown[]) {
      const h = handlers.get(channel);
      if (!h) throw new Error(`no handler for ${channel}`);
      return h(event, ...args);
    },
    /** What ipcRenderer.sendSync would get back. */
    sendSync(channel: string, event: Record<string, unknown>) {
      const l = listeners.get(channel);
      if (!l) throw new Error(`no listener for ${channel}`);
      const e = { ...event, returnValue: undefined as unknown };
      l(e);
      return e.returnValue;
    },
  };

  const script: DialogScript = { open: [], save: [], messageBox: [] };
  const dialogCalls: { kind: string; options: Record<string, unknown>; parent: boolean }[] = [];
  const twoArgs = (a: unknown, b: unknown) => (b === undefined ? { parent: false, options: a as Record<string, unknown> } : { parent: true, options: b as Record<string, unknown> });
  const dialog = {
    async showOpenDialog(a: unknown, b?: unknown) {
      const { parent, options } = twoArgs(a, b);
      dialogCalls.push({ kind: 'open', options, parent });
      return script.open.shift() ?? { canceled: true, filePaths: [] };
    },
    async showSaveDialog(a: unknown, b?: unknown) {
      const { parent, options } = twoArgs(a, b);
      dialogCalls.push({ kind: 'save', options, parent });
      return script.save.shift() ?? { canceled: true };
    },
    async showMessageBox(a: unknown, b?: unknown) {
      const { parent, options } = twoArgs(a, b);
      dialogCalls.push({ kind: 'messageBox', options, parent });
      return script.messageBox.shift() ?? { response: 1 };
    },
  };

  let appMenu: { template: unknown[] } | undefined;
  const Menu = {
    buildFromTemplate: (template: unknown[]) => ({ template }),
    setApplicationMenu: (m: { template: unknown[] }) => {
      appMenu = m;
    },
  };

  const opened: string[] = [];
  const shell = {
    openExternal: async (url: string) => {
      opened.push(url);
    },
  };

  const sessionHooks: {
    permissionRequest?: (wc: unknown, permission: string, cb: (ok: boolean) => void, details: { requestingUrl?: string }) => void;
    permissionCheck?: (wc: unknown, permission: string, origin: string) => boolean;
    headersReceived?: (details: { url: string; resourceType: string; responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void;
  } = {};
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (h: typeof sessionHooks.permissionRequest) => (sessionHooks.permissionRequest = h),
      setPermissionCheckHandler: (h: typeof sessionHooks.permissionCheck) => (sessionHooks.permissionCheck = h),
      webRequest: { onHeadersReceived: (h: typeof sessionHooks.headersReceived) => (sessionHooks.headersReceived = h) },
    },
  };

  const electron = { app, BrowserWindow: FakeWindow, ipcMain, dialog, Menu, shell, session };
  return {
    electron,
    /** The same object, typed as what the shell expects. */
    api: electron as unknown as ElectronApi,
    app,
    windows,
    ipcMain,
    script,
    dialogCalls,
    menu: () => appMenu,
    opened,
    sessionHooks,
  };
}

/** An IPC event as Electron builds it: the sending contents and frame. */
export function ipcEvent(contents: { id: number }, url: string, opts: { subframe?: boolean } = {}) {
  return { sender: contents, senderFrame: { url, parent: opts.subframe ? {} : null } };
}

/** Resolves when `pred` holds for a value `emitter` emits on `event` (or already holds via `now`). */
export function waitFor<T>(emitter: EventEmitter, event: string, pred: (v: T) => boolean, timeoutMs = 20_000, label = event): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}
