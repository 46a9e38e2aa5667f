// The desktop app, with Electron passed in (main.ts passes the real module; tests pass fakes, as
// Electron's binary cannot run on the development machines). One window; the engine supervised in
// the background; the window shows the console served by the engine's admin server over http
// (a file:// page could not start Monaco's workers) and follows it when a restarted engine comes
// back on another port.

import type * as Electron from 'electron';
import { CH, type Bootstrap, type EngineState, type MenuCommand } from './channels';
import { registerIpc } from './ipc';
import { MENU_SCREENS, menuTemplate } from './menu';
import { lockDownContents, lockDownSession, webPreferences } from './security';
import { statusPageUrl } from './status-page';
import { EngineSupervisor, type SupervisorOptions } from './supervisor';

export type ElectronApi = Pick<typeof Electron, 'app' | 'BrowserWindow' | 'ipcMain' | 'dialog' | 'Menu' | 'shell' | 'session'>;

export interface AppOptions {
  electron: ElectronApi;
  supervisor: Omit<SupervisorOptions, 'log'>;
  preload: string;
  icon?: string;
  isDev: boolean;
  log?: (line: string) => void;
}

export interface RunningApp {
  supervisor: EngineSupervisor;
  window: () => Electron.BrowserWindow | undefined;
  /** Resolves once the app has stopped the engine on quit. */
  quitted: Promise<void>;
}

export function consoleUrl(adminUrl: string, token: string): string {
  return `${adminUrl}/#token=${encodeURIComponent(token)}`;
}

export function runApp(o: AppOptions): RunningApp | undefined {
  const { app, BrowserWindow, ipcMain, dialog, Menu, shell, session } = o.electron;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));

  // A second launch focuses the first window instead of starting a second engine.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }

  const supervisor = new EngineSupervisor({ ...o.supervisor, log });
  let win: Electron.BrowserWindow | undefined;
  let loadedOrigin: string | undefined;
  const origin = () => supervisor.ready?.admin;
  const openExternal = (url: string) => void shell.openExternal(url).catch((e: Error) => log(`meshdeck: could not open ${url}: ${e.message}`));

  const bootstrap = (): Bootstrap | undefined => {
    const r = supervisor.ready;
    return r ? { adminUrl: r.admin, token: supervisor.token, engineState: supervisor.state } : undefined;
  };

  const focus = () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };
  app.on('second-instance', focus);

  // Every webContents the app ever creates gets the same lock-down, including any devtools or popups.
  app.on('web-contents-created', (_e, contents) => lockDownContents(contents, origin, openExternal));

  const send = (channel: string, payload: EngineState | MenuCommand) => {
    if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
  };

  const showConsole = (adminUrl: string) => {
    if (!win || win.isDestroyed()) createWindow();
    // Same origin: the console reconnects by itself. A new port (a restart picked another free one): reload there.
    if (loadedOrigin === adminUrl) return;
    loadedOrigin = adminUrl;
    void win!.loadURL(consoleUrl(adminUrl, supervisor.token)).catch((e: Error) => log(`meshdeck: loading the console failed: ${e.message}`));
  };

  function createWindow(): void {
    win = new BrowserWindow({
      width: 1400,
      height: 900,
      minWidth: 900,
      minHeight: 600,
      title: 'Meshdeck',
      show: false,
      backgroundColor: '#0f172a',
      icon: o.icon,
      webPreferences: webPreferences(o.preload),
    });
    win.once('ready-to-show', () => win?.show());
    win.on('closed', () => {
      win = undefined;
      loadedOrigin = undefined;
    });
  }

  // The console's screens live in the URL fragment (renderer/src/app/route.ts): setting it switches
  // screens without a reload, whether or not the page listens to menu commands.
  const showScreen = (id: string) => {
    if (!win || win.isDestroyed() || !loadedOrigin || !MENU_SCREENS.some((s) => s.id === id)) return;
    void win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(`#/${id}`)}`).catch(() => {});
  };

  let failureShown = false;
  supervisor.on('state', (s: EngineState) => {
    send(CH.engineState, s);
    if (s.state === 'ready') {
      failureShown = false;
      showConsole(s.adminUrl);
      return;
    }
    // Until the console is up, the window says what the engine is doing (the console itself shows
    // a lost engine as reconnecting, and reloads here when it is back on another port).
    if (!loadedOrigin && win && !win.isDestroyed() && (s.state === 'starting' || s.state === 'restarting' || s.state === 'failed')) {
      void win.loadURL(statusPageUrl(s)).catch(() => {});
    }
    if (s.state === 'failed' && !failureShown) {
      // Say why in a dialog, and offer to try again.
      failureShown = true;
      void dialog
        .showMessageBox({ type: 'error', title: 'Meshdeck', message: 'The engine could not start.', detail: s.reason, buttons: ['Try Again', 'Quit'], defaultId: 0, cancelId: 1 })
        .then((r) => (r.response === 0 ? supervisor.start() : app.quit()));
    }
  });

  let resolveQuit!: () => void;
  const quitted = new Promise<void>((r) => (resolveQuit = r));
  let engineStopped = false;
  app.on('before-quit', (event) => {
    if (engineStopped) return;
    // Hold the quit until the engine has drained (bounded by the supervisor's stop timeout).
    event.preventDefault();
    if (supervisor.state.state === 'stopping') return;
    void supervisor.stop().finally(() => {
      engineStopped = true;
      resolveQuit();
      app.quit();
    });
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(() => {
    lockDownSession(session.defaultSession, origin);
    registerIpc({
      ipcMain,
      dialog,
      window: () => (win && !win.isDestroyed() ? win : undefined),
      bootstrap,
      log,
      defaultDir: () => {
        try {
          return app.getPath('documents');
        } catch {
          return undefined;
        }
      },
    });
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate({
          platform: process.platform,
          isDev: o.isDev,
          // The editor lives on the Config screen: show it, then hand it the command (the preload
          // holds a command until the editor has subscribed).
          send: (c) => {
            showScreen('config');
            send(CH.menu, c);
          },
          showScreen,
          restartEngine: () => supervisor.restart(),
          openExternal,
          about: () =>
            void dialog.showMessageBox({ type: 'info', title: 'About Meshdeck', message: `Meshdeck ${app.getVersion()}`, detail: `A desktop bench for Envoy configs.\nEngine: ${supervisor.ready?.admin ?? supervisor.state.state}`, buttons: ['OK'] }),
          quit: () => app.quit(),
        }),
      ),
    );
    createWindow();
    supervisor.start();
  });

  return { supervisor, window: () => win, quitted };
}
