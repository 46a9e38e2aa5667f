import { useEffect } from 'react';
import { useConnection, type ConnectionState } from '../api/connection';
import { ConfigScreen } from '../features/config/ConfigScreen';
import { Dashboard } from '../features/dashboard/Dashboard';
import { AccessLog } from '../features/access-log/AccessLog';
import { FilterChains } from '../features/filters/FilterChains';
import { Traffic } from '../features/traffic/Traffic';
import { Weights } from '../features/weights/Weights';
import { go, SCREENS, useScreen } from './route';

function ConnectionBadge({ state }: { state: ConnectionState }) {
  const [cls, text] =
    state.kind === 'live'
      ? ['ok', 'Live']
      : state.kind === 'connecting'
        ? ['wait', 'Connecting…']
        : state.kind === 'reconnecting'
          ? ['bad', 'Reconnecting…']
          : ['bad', 'Not signed in'];
  return (
    <span className={`conn conn-${cls}`} data-testid="connection" data-state={state.kind}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function Banner({ state }: { state: ConnectionState }) {
  if (state.kind === 'reconnecting') {
    return (
      <div className="banner banner-warn" role="status" data-testid="banner-reconnecting">
        <strong>Lost the connection to the engine — reconnecting…</strong> Charts and the log pause until it is back; nothing
        you see is lost. If you stopped the engine, start it again: this page picks it up by itself.
      </div>
    );
  }
  if (state.kind === 'unauthorized') {
    return (
      <div className="banner banner-error" role="alert">
        <strong>The engine refused this console’s token.</strong> It probably restarted with a new one: open the admin URL it
        printed (it ends in <code>#token=…</code>).
      </div>
    );
  }
  if (state.kind === 'no-token') {
    return (
      <div className="banner banner-error" role="alert">
        <strong>No access token.</strong> Open the console with the URL the engine printed when it started, e.g.{' '}
        <code>http://127.0.0.1:9901/#token=…</code> (the token is in the ready line, or in <code>MESHDECK_ADMIN_TOKEN</code>).
      </div>
    );
  }
  return null;
}

export function App() {
  const screen = useScreen();
  const conn = useConnection();

  useEffect(() => {
    // Alt+1…4 switch screens.
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const n = Number(e.key);
      const s = SCREENS[n - 1];
      if (s) {
        e.preventDefault();
        go(s.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    document.title = `${SCREENS.find((s) => s.id === screen)?.label ?? ''} · Meshdeck`;
  }, [screen]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">◆</span> Meshdeck
        </div>
        <nav aria-label="Screens">
          {SCREENS.map((s, i) => (
            <a key={s.id} href={`#/${s.id}`} className={s.id === screen ? 'active' : ''} aria-current={s.id === screen ? 'page' : undefined} title={`${s.hint} (Alt+${i + 1})`}>
              {s.label}
            </a>
          ))}
        </nav>
        <ConnectionBadge state={conn} />
      </header>
      <Banner state={conn} />
      <main className="content" data-screen={screen}>
        {screen === 'dashboard' && <Dashboard />}
        {screen === 'weights' && <Weights />}
        {screen === 'logs' && <AccessLog />}
        {screen === 'traffic' && <Traffic />}
        {screen === 'filters' && <FilterChains />}
        {screen === 'config' && <ConfigScreen />}
      </main>
    </div>
  );
}
