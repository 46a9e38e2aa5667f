/// <reference types="vite/client" />

interface Window {
  /** Set by Electron's preload (later): the admin URL and token, instead of the URL fragment. */
  meshdeck?: { adminUrl: string; token: string };
}
