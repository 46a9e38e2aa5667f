import type { ReactNode } from 'react';
import { ApiRequestError } from '../api/client';

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <h3>{title}</h3>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="empty loading" role="status" aria-busy="true">
      Loading {what}…
    </div>
  );
}

/** An error that says what happened and what to do about it. */
export function ErrorState({ error, what, onRetry }: { error: unknown; what: string; onRetry?: () => void }) {
  const status = error instanceof ApiRequestError ? error.status : -1;
  const advice =
    status === 0
      ? 'The engine is not answering. If you stopped it, start it again (npm start); this page reconnects by itself.'
      : status === 401
        ? 'The engine refused the token. Open the console with the URL the engine printed when it started (it ends in #token=…).'
        : status === 403
          ? 'The engine refused this page’s address. Open the console at http://127.0.0.1:PORT exactly as the engine printed it.'
          : 'Try again; if it keeps failing, the engine’s log says why.';
  return (
    <div className="empty error" role="alert">
      <h3>Could not load {what}</h3>
      <p className="mono">{error instanceof Error ? error.message : String(error)}</p>
      <p>{advice}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
