// IPC channel names and payloads shared by main (ipc.ts, app.ts) and the preload. One place, so a
// rename cannot split them. What the console sees is renderer/src/api/native.ts (MeshdeckNative);
// the payload types here are its, restated without the DOM so main-process code (and its tests,
// type-checked without DOM types) can use them. bridge-check.ts fails the electron type-check if
// the two ever differ.

export const CH = {
  /** preload → main, synchronous: Bootstrap for this page (null for any page but the console). */
  bootstrap: 'meshdeck:bootstrap',
  /** preload → main (invoke): the Open dialog. */
  openFile: 'meshdeck:open-file',
  /** preload → main (invoke): save, with or without the Save dialog. */
  saveFile: 'meshdeck:save-file',
  /** main → renderer: an EngineState. */
  engineState: 'meshdeck:engine-state',
  /** main → renderer: a MenuCommand. */
  menu: 'meshdeck:menu',
} as const;

/** The engine process as the supervisor sees it (supervisor.ts). */
export type EngineState =
  | { state: 'stopped' }
  | { state: 'stopping' }
  | { state: 'starting'; attempt: number }
  | { state: 'ready'; adminUrl: string; restarts: number }
  /** The engine died; the next start is at `at` (epoch ms), `inMs` after this state was sent. */
  | { state: 'restarting'; attempt: number; inMs: number; at: number; reason: string }
  /** Gave up after repeated failures; `reason` says why, with the engine's last log lines. */
  | { state: 'failed'; reason: string };

export type MenuCommand = { type: 'open' } | { type: 'save' } | { type: 'save-as' } | { type: 'screen'; screen: string };

export interface OpenedFile {
  path: string;
  name: string;
  text: string;
}

export interface SavedFile {
  path: string;
  name: string;
}

export interface SaveOptions {
  path?: string;
  suggestedName?: string;
}

export interface Bootstrap {
  adminUrl: string;
  token: string;
  engineState: EngineState;
}
