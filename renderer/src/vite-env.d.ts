/// <reference types="vite/client" />
// window.meshdeck (Electron's preload) is declared with its type in api/native.ts.
