// The main-process side of the preload's API. Every handler first checks that the message comes
// from the console (security.ts: the shell window's top frame on the admin origin); anything else is
// refused and logged. Files: YAML/JSON through the native dialogs, bounded in size, and a "Save"
// without a dialog only to a path the user picked in a dialog during this session.

import { basename, join } from 'node:path';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { BrowserWindow, Dialog, IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { CH, type Bootstrap, type OpenedFile, type SavedFile, type SaveOptions } from './channels';
import { isTrustedSender, type IpcSender } from './security';

/** Envoy configs are small; a multi-megabyte pick is a mistake (a log, a binary). */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

export const FILE_FILTERS = [
  { name: 'Envoy config (YAML or JSON)', extensions: ['yaml', 'yml', 'json'] },
  { name: 'All files', extensions: ['*'] },
];

export interface IpcDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'on'>;
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  /** The shell's window (dialogs are modal to it; only its contents may call). */
  window: () => BrowserWindow | undefined;
  /** Where the console is served from right now, and what it needs to start. */
  bootstrap: () => Bootstrap | undefined;
  log?: (line: string) => void;
  /** Defaults to the user's documents folder, through the dialog's own default. */
  defaultDir?: () => string | undefined;
}

export class ForeignSenderError extends Error {
  constructor(channel: string, url: string | undefined) {
    // (A data: URL, like the status page's, can be kilobytes long.)
    const where = url === undefined ? 'an unknown frame' : url.length > 80 ? `${url.slice(0, 80)}…` : url;
    super(`refused ${channel} from ${where}: not the Meshdeck console`);
    this.name = 'ForeignSenderError';
  }
}

export function registerIpc(deps: IpcDeps): { pathsChosen: Set<string> } {
  const log = deps.log ?? (() => {});
  const pathsChosen = new Set<string>();

  const check = (channel: string, event: IpcSender) => {
    const origin = deps.bootstrap()?.adminUrl;
    const wc = deps.window()?.webContents;
    if (!isTrustedSender(event, origin, wc?.id)) {
      const err = new ForeignSenderError(channel, event.senderFrame?.url);
      log(`meshdeck: ${err.message}`);
      throw err;
    }
  };

  deps.ipcMain.on(CH.bootstrap, (event: IpcMainEvent) => {
    try {
      check(CH.bootstrap, event);
      event.returnValue = deps.bootstrap() ?? null;
    } catch {
      event.returnValue = null;
    }
  });

  deps.ipcMain.handle(CH.openFile, async (event: IpcMainInvokeEvent): Promise<OpenedFile | null> => {
    check(CH.openFile, event);
    const win = deps.window();
    const opts = { title: 'Open an Envoy config', properties: ['openFile' as const], filters: FILE_FILTERS, defaultPath: deps.defaultDir?.() };
    const r = win ? await deps.dialog.showOpenDialog(win, opts) : await deps.dialog.showOpenDialog(opts);
    const path = r.canceled ? undefined : r.filePaths[0];
    if (!path) return null;
    const st = await stat(path);
    if (st.size > MAX_FILE_BYTES) throw new Error(`${basename(path)} is ${(st.size / 1048576).toFixed(1)} MB; an Envoy config over ${MAX_FILE_BYTES / 1048576} MB is not opened`);
    const text = await readFile(path, 'utf8');
    pathsChosen.add(path);
    return { path, name: basename(path), text };
  });

  deps.ipcMain.handle(CH.saveFile, async (event: IpcMainInvokeEvent, text: unknown, options?: SaveOptions): Promise<SavedFile | null> => {
    check(CH.saveFile, event);
    if (typeof text !== 'string') throw new TypeError('saveFile: the text must be a string');
    // Only a path the user picked in a dialog is written without asking: the page cannot choose where files go.
    if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new Error(`saveFile: over ${MAX_FILE_BYTES / 1048576} MB`);
    let path = typeof options?.path === 'string' && pathsChosen.has(options.path) ? options.path : undefined;
    if (!path) {
      const win = deps.window();
      const suggested = typeof options?.suggestedName === 'string' ? basename(options.suggestedName) : typeof options?.path === 'string' ? basename(options.path) : 'envoy.yaml';
      const dir = deps.defaultDir?.();
      const opts = { title: 'Save the Envoy config', filters: FILE_FILTERS, defaultPath: dir ? join(dir, suggested) : suggested };
      const r = win ? await deps.dialog.showSaveDialog(win, opts) : await deps.dialog.showSaveDialog(opts);
      if (r.canceled || !r.filePath) return null;
      path = r.filePath;
    }
    await writeFile(path, text, 'utf8');
    pathsChosen.add(path);
    return { path, name: basename(path) };
  });

  return { pathsChosen };
}
