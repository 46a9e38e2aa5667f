// The one seam between the console and Electron. Electron's preload (electron/preload.ts) exposes
// `window.meshdeck` through contextBridge: the admin URL and token (client.ts reads them), the
// engine's state as the main process supervises it, menu commands, and native open/save dialogs.
// In a browser there is no bridge and the same actions fall back to a file input and a download.
// The renderer never imports Electron.
//
// Shared with the Electron side: electron/ imports these types, and electron/bridge-check.ts
// fails the type-check if the preload and this contract drift apart.

/** A file the user picked in the native Open dialog. */
export interface OpenedFile {
  /** Absolute path: Save writes back there without asking. */
  path: string;
  /** Its base name, for display. */
  name: string;
  text: string;
}

/** Where Save wrote. */
export interface SavedFile {
  path: string;
  name: string;
}

export interface SaveOptions {
  /** A path opened or saved in a dialog this session: written without asking. */
  path?: string;
  /** The name a Save dialog proposes, e.g. "envoy.yaml". */
  suggestedName?: string;
}

/** What the File and View menus ask the console to do. */
export type MenuCommand = { type: 'open' } | { type: 'save' } | { type: 'save-as' } | { type: 'screen'; screen: string };

/** The engine process as Electron's main process supervises it (electron/supervisor.ts). */
export type EngineState =
  | { state: 'stopped' }
  | { state: 'stopping' }
  | { state: 'starting'; attempt: number }
  | { state: 'ready'; adminUrl: string; restarts: number }
  | { state: 'restarting'; attempt: number; inMs: number; at: number; reason: string }
  | { state: 'failed'; reason: string };

/** window.meshdeck under Electron. */
export interface MeshdeckNative {
  adminUrl: string;
  token: string;
  /** The native Open dialog; null when the user cancelled. */
  openFile(): Promise<OpenedFile | null>;
  /** Writes the text: to `options.path` when it was chosen in a dialog this session, else through the Save dialog; null when cancelled. */
  saveFile(text: string, options?: SaveOptions): Promise<SavedFile | null>;
  /** Calls the listener with the current state at once, then on every change; returns the unsubscribe function. */
  onEngineState(listener: (state: EngineState) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}

declare global {
  interface Window {
    meshdeck?: MeshdeckNative;
  }
}

/** The bridge when running inside Electron, else undefined (a browser). */
export function nativeBridge(): MeshdeckNative | undefined {
  const b = typeof window === 'undefined' ? undefined : window.meshdeck;
  return b && typeof b.openFile === 'function' && typeof b.saveFile === 'function' ? b : undefined;
}

/** Subscribes to native menu commands when there is a bridge; a no-op in a browser. */
export function onMenuCommand(listener: (command: MenuCommand) => void): () => void {
  const b = nativeBridge();
  return typeof b?.onMenuCommand === 'function' ? b.onMenuCommand(listener) : () => {};
}

/** The browser's Save: the text as a downloaded file. */
export function downloadText(text: string, name: string, type = 'application/yaml'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The last path segment of a file name or path, for display and download names. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
