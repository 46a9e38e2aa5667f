// The shell's security rules in one place. The console is a web page served by the engine's admin
// server on http://127.0.0.1:PORT; the only privileged thing it can reach is the preload's small
// API. So: an isolated, sandboxed renderer without Node; no navigation away from the admin origin
// and no new windows (http(s) links open in the OS browser instead); IPC accepted only from the
// admin origin's top frame; every permission denied except writing to the clipboard (the access
// log's "copy as curl"); and the console's CSP added where a response from the engine lacks one.

import type { Event, Session, WebContents, WebPreferences } from 'electron';
import { CONSOLE_CSP } from '../engine/admin/static';

export function webPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** The admin origin the console is served from right now (it changes when a restarted engine gets a new port). */
export type OriginSource = () => string | undefined;

export function sameOrigin(url: string | undefined, origin: string | undefined): boolean {
  if (!url || !origin) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

function isWebLink(url: string): boolean {
  try {
    const p = new URL(url).protocol;
    return p === 'http:' || p === 'https:';
  } catch {
    return false;
  }
}

/** The sender of an IPC message: the frame that sent it, and the contents it lives in. */
export interface IpcSender {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown | null } | null;
}

/**
 * True when an IPC message comes from the console: the top frame of the shell's own window, on
 * the admin origin. A frame the console might embed, a page navigated elsewhere, or another
 * window cannot call the native actions.
 */
export function isTrustedSender(event: IpcSender, origin: string | undefined, windowContentsId: number | undefined): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent) return false;
  if (windowContentsId !== undefined && event.sender.id !== windowContentsId) return false;
  return sameOrigin(frame.url, origin);
}

type Contents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * Locks a webContents down: navigation only within the admin origin, no new windows, no
 * <webview>. http(s) links leaving the console go to the OS browser.
 */
export function lockDownContents(contents: Contents, origin: OriginSource, openExternal: (url: string) => void): void {
  const guard = (event: Event, url: string) => {
    if (sameOrigin(url, origin())) return;
    event.preventDefault();
    if (isWebLink(url)) openExternal(url);
  };
  // details.url is the current API; the positional url is the deprecated one (kept for older Electron).
  contents.on('will-navigate', (event: Event & { url?: string }, url?: string) => guard(event, event.url ?? url ?? ''));
  contents.on('will-redirect', (event: Event & { url?: string }, url?: string) => {
    const to = event.url ?? url ?? '';
    if (!sameOrigin(to, origin())) event.preventDefault();
  });
  contents.on('will-attach-webview', (event: Event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isWebLink(url) && !sameOrigin(url, origin())) openExternal(url);
    return { action: 'deny' };
  });
}

/** Permissions the console may have, and only on the admin origin. */
const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onHeadersReceived'>;
};

export function lockDownSession(session: SessionLike, origin: OriginSource): void {
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && sameOrigin(details?.requestingUrl ?? contents?.getURL(), origin()));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => ALLOWED_PERMISSIONS.has(permission) && requestingOrigin === origin());
  // The engine sets the console's CSP on its HTML; a response from the admin origin without one
  // (an error page, an older engine) gets the same policy. Never a second, different policy.
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = details.responseHeaders ?? {};
    const hasCsp = Object.keys(headers).some((k) => k.toLowerCase() === 'content-security-policy');
    if (hasCsp || !sameOrigin(details.url, origin()) || details.resourceType !== 'mainFrame') {
      callback({ responseHeaders: headers });
      return;
    }
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [CONSOLE_CSP] } });
  });
}
