// The native menu. File items send the console a MenuCommand (its editor owns the text and which
// file it came from); View's screens set the console's URL fragment, where its screens live; the
// rest are Electron roles. Developer tools only in development.

import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from './channels';

/** The console's screens (renderer/src/app/route.ts SCREENS), in its order. */
export const MENU_SCREENS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'weights', label: 'Weights' },
  { id: 'logs', label: 'Access Log' },
  { id: 'config', label: 'Config' },
] as const;

export interface MenuDeps {
  platform: NodeJS.Platform;
  isDev: boolean;
  /** File items: the console's editor acts on them (app.ts shows the Config screen first). */
  send: (command: MenuCommand) => void;
  /** View > a screen (an id of MENU_SCREENS). */
  showScreen: (id: string) => void;
  /** File > Restart Engine: drains the running engine and starts a new one (or starts it again after it failed). */
  restartEngine: () => void;
  openExternal: (url: string) => void;
  about: () => void;
  quit: () => void;
}

export function menuTemplate(d: MenuDeps): MenuItemConstructorOptions[] {
  const mac = d.platform === 'darwin';
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      // The console's keys (Ctrl/Cmd+O, +S; Alt+1…4 for screens) work in a browser too, so the
      // menu shows them without registering them: both would act on one key press.
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', registerAccelerator: false, click: () => d.send({ type: 'open' }) },
      { label: 'Save', accelerator: 'CmdOrCtrl+S', registerAccelerator: false, click: () => d.send({ type: 'save' }) },
      { label: 'Save As…', click: () => d.send({ type: 'save-as' }) },
      { type: 'separator' },
      { label: 'Restart Engine', click: () => d.restartEngine() },
      ...(mac ? [] : [{ type: 'separator' as const }, { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => d.quit() }]),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...MENU_SCREENS.map((s, i): MenuItemConstructorOptions => ({ label: s.label, accelerator: `Alt+${i + 1}`, registerAccelerator: false, click: () => d.showScreen(s.id) })),
      { type: 'separator' },
      { role: 'reload' },
      ...(d.isDev ? [{ role: 'toggleDevTools' as const }] : []),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      { label: 'Envoy Configuration Reference', click: () => d.openExternal('https://www.envoyproxy.io/docs/envoy/latest/configuration/configuration') },
      ...(mac ? [] : [{ type: 'separator' as const }, { label: 'About Meshdeck', click: () => d.about() }]),
    ],
  };
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    file,
    { role: 'editMenu' },
    view,
    ...(mac ? [{ role: 'windowMenu' as const }] : []),
    help,
  ];
}
