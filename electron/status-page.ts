// What the window shows before the console can: the engine starting, restarting in N s, or why it
// failed. A self-contained data: page (no script, its own CSP), so the window appears at once
// instead of staying hidden while the demo's services start.

import type { EngineState } from './channels';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function statusText(s: EngineState): { title: string; detail: string } {
  switch (s.state) {
    case 'starting':
      return { title: 'Starting the engine…', detail: s.attempt > 1 ? `Attempt ${s.attempt}.` : 'The console opens as soon as it is ready.' };
    case 'restarting':
      return { title: `The engine stopped; restarting in ${Math.ceil(s.inMs / 1000)} s (attempt ${s.attempt})`, detail: s.reason };
    case 'failed':
      return { title: 'The engine could not start', detail: `${s.reason}\n\nFile › Restart Engine tries again.` };
    case 'ready':
      return { title: 'The engine is ready', detail: s.adminUrl };
    case 'stopping':
    case 'stopped':
      return { title: 'The engine is stopping', detail: '' };
  }
}

export function statusPageUrl(s: EngineState): string {
  const { title, detail } = statusText(s);
  const html = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Meshdeck</title><style>
body{margin:0;height:100vh;display:flex;align-items:center;justify-content:center;font:15px system-ui,sans-serif;background:#0f172a;color:#e2e8f0}
main{max-width:46rem;padding:2rem}h1{font-size:1.2rem;font-weight:600}pre{white-space:pre-wrap;color:#94a3b8;font-size:12px}
</style></head><body><main><h1>${escape(title)}</h1><pre>${escape(detail)}</pre></main></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}
