// The only bridge between the console (an isolated, sandboxed web page) and the main process:
// window.meshdeck, typed by renderer/src/api/native.ts (MeshdeckNative). It hands over plain data
// and functions, never ipcRenderer itself. Built by esbuild into one CommonJS file (a sandboxed
// preload can require only 'electron').

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { MeshdeckNative } from '../renderer/src/api/native';
import { CH, type Bootstrap, type EngineState, type MenuCommand, type OpenedFile, type SavedFile } from './channels';

// Main answers only the console's own origin; any other page gets null and no API.
const boot = ipcRenderer.sendSync(CH.bootstrap) as Bootstrap | null;
const PENDING_MS = 5_000;

if (boot) {
  let engineState: EngineState = boot.engineState;
  const stateListeners = new Set<(s: EngineState) => void>();
  const menuListeners = new Set<(c: MenuCommand) => void>();
  // Subscribed before the console's code runs, so no state change is missed in between.
  ipcRenderer.on(CH.engineState, (_e: IpcRendererEvent, s: EngineState) => {
    engineState = s;
    for (const l of stateListeners) l(s);
  });
  // A File command arrives while main switches to the Config screen, before its editor has
  // subscribed: hold the latest one briefly and hand it to the first subscriber.
  let pending: { command: MenuCommand; at: number } | undefined;
  ipcRenderer.on(CH.menu, (_e: IpcRendererEvent, c: MenuCommand) => {
    if (menuListeners.size === 0) pending = { command: c, at: Date.now() };
    for (const l of menuListeners) l(c);
  });

  const api: MeshdeckNative = {
    adminUrl: boot.adminUrl,
    token: boot.token,
    openFile: () => ipcRenderer.invoke(CH.openFile) as Promise<OpenedFile | null>,
    // Only plain strings cross to main, whatever object the page passed.
    saveFile: (text, options) =>
      ipcRenderer.invoke(CH.saveFile, String(text), {
        path: options?.path === undefined ? undefined : String(options.path),
        suggestedName: options?.suggestedName === undefined ? undefined : String(options.suggestedName),
      }) as Promise<SavedFile | null>,
    onEngineState(listener) {
      stateListeners.add(listener);
      listener(engineState);
      return () => void stateListeners.delete(listener);
    },
    onMenuCommand(listener) {
      menuListeners.add(listener);
      const held = pending;
      pending = undefined;
      if (held && Date.now() - held.at < PENDING_MS) queueMicrotask(() => listener(held.command));
      return () => void menuListeners.delete(listener);
    },
  };
  contextBridge.exposeInMainWorld('meshdeck', api);
}
