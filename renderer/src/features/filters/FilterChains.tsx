// Each listener's HTTP filter chain in the order requests go through it, with every filter's
// counters under Envoy's names; a refusal counter opens the access log filtered by that filter.
// Below, the security kit: a local CA, certificates and JWT material to try mTLS and JWT.

import { useQuery } from '@tanstack/react-query';
import type { CounterView, FilterChainView, HttpFilterView, KitResponse } from '../../../../engine/admin/contract';
import { setLogFilter } from '../../api/log-filter';
import { go } from '../../app/route';
import { Empty, ErrorState, Loading } from '../../components/states';
import { filterChainsQuery, useCreateKit } from './api';

/** What each filter does, in a line, for readers who do not know Envoy's names yet. */
const ROLE: Record<string, string> = {
  'envoy.filters.http.jwt_authn': 'checks the JWT (signature, issuer, audience, expiry)',
  'envoy.filters.http.rbac': 'allows or denies by policy (who, what, from where)',
  'envoy.filters.http.local_ratelimit': 'token bucket: refuses bursts with 429',
  'envoy.filters.http.fault': 'injects delays and aborts',
  'envoy.filters.http.router': 'sends the request to the upstream cluster',
};

/** Counters that count refusals: a click shows those requests in the log. */
const REFUSALS = /\.(denied|enforced)$/;

const short = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/** The stat name without the prefix every counter of this filter shares. */
function label(c: CounterView, all: CounterView[]): string {
  if (all.length < 2) return c.name;
  let p = all[0].name;
  for (const x of all) while (!x.name.startsWith(p)) p = p.slice(0, -1);
  p = p.slice(0, p.lastIndexOf('.') + 1);
  return c.name.slice(p.length);
}

function FilterCard({ f, index }: { f: HttpFilterView; index: number }) {
  const showRefused = () => {
    setLogFilter({ filter: f.name });
    go('logs');
  };
  return (
    <li className={`filter-card filter-${f.state}`} data-testid="filter-card" data-filter={f.name}>
      <div className="filter-head">
        <span className="filter-step" aria-hidden="true">
          {index + 1}
        </span>
        <span className="mono name" title={f.typeUrl}>
          {short(f.name)}
        </span>
        <span className={`pill ${f.state === 'running' ? 'pill-ok' : 'pill-idle'}`}>{f.state === 'terminal' ? 'router' : f.state}</span>
      </div>
      <div className="muted filter-role">{ROLE[f.name] ?? f.name}</div>
      {f.counters.length ? (
        <table className="filter-counters">
          <tbody>
            {f.counters.map((c) => (
              <tr key={c.name} title={c.name} data-stat={c.name}>
                <td className="mono">{label(c, f.counters)}</td>
                <td className="num mono">
                  {REFUSALS.test(c.name) && c.value > 0 ? (
                    <button type="button" className="link" onClick={showRefused} title="Show these requests in the access log">
                      {c.value}
                    </button>
                  ) : (
                    c.value
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </li>
  );
}

function Chain({ c }: { c: FilterChainView }) {
  return (
    <section className="filter-chain" aria-label={`Listener ${c.listener}`} data-testid="filter-chain" data-listener={c.listener}>
      <h2>
        <span className="mono">{c.listener}</span>
        {c.chain > 0 ? <span className="muted"> · chain {c.chain + 1}</span> : null}
        <span className="muted"> · http.{c.statPrefix}</span>
        {c.tls ? <span className="pill pill-ok">TLS{c.serverNames.length ? ` · ${c.serverNames.join(', ')}` : ''}</span> : <span className="pill">plain text</span>}
      </h2>
      <p className="muted">
        {c.requests.map((r) => `${short(r.name).replace('downstream_rq_', '')} ${r.value}`).join(' · ')} requests
      </p>
      <ol className="filter-list">
        {c.filters.map((f, i) => (
          <FilterCard key={`${f.name}:${i}`} f={f} index={i} />
        ))}
      </ol>
    </section>
  );
}

function Kit() {
  const kit = useCreateKit();
  const k: KitResponse | undefined = kit.data;
  return (
    <section className="kit" aria-label="Security kit" data-testid="kit">
      <h2>Security kit</h2>
      <p className="muted">
        A local CA, a server certificate for localhost, client certificates and a JWT signing key with sample tokens — everything to
        try mTLS, JWT and RBAC against this engine in a minute. For simulations only.
      </p>
      <button type="button" className="primary" disabled={kit.isPending} onClick={() => kit.mutate({})} data-testid="kit-create">
        {kit.isPending ? 'Generating…' : 'Generate a security kit'}
      </button>
      {kit.isError ? <p className="error">{kit.error instanceof Error ? kit.error.message : String(kit.error)}</p> : null}
      {k ? (
        <div className="kit-result" data-testid="kit-result">
          <p>
            Written to <code>{k.dir}</code>. Load <code>{k.envoyConfig}</code> (mTLS + jwt_authn + rbac on 127.0.0.1:10443), then:
          </p>
          <pre className="mono">
            {`curl --cacert ${k.caCert} \\\n     --cert ${k.clients[0]?.cert} --key ${k.clients[0]?.key} \\\n     -H "Authorization: Bearer $(cat ${k.jwt.token})" https://127.0.0.1:10443/`}
          </pre>
          <ul>
            <li>
              CA: <code>{k.caCert}</code>
            </li>
            {k.clients.map((c) => (
              <li key={c.name}>
                client <code>{c.cert}</code> — principal <code>{c.uri}</code>
              </li>
            ))}
            <li>
              JWKS: <code>{k.jwt.jwks}</code> (issuer <code>{k.jwt.issuer}</code>, audience <code>{k.jwt.audience}</code>)
            </li>
            <li>
              tokens: <code>{k.jwt.token}</code>, expired: <code>{k.jwt.expiredToken}</code>
            </li>
          </ul>
        </div>
      ) : null}
    </section>
  );
}

export function FilterChains() {
  const q = useQuery(filterChainsQuery());
  if (q.isError && !q.data) return <ErrorState error={q.error} what="the filter chains" onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading what="the filter chains" />;
  const chains = q.data.chains;
  return (
    <div className="filters-screen" data-testid="filters-screen">
      <div className="screen-head">
        <div>
          <h1>Filters</h1>
          <p className="muted">
            Every request runs through its listener’s HTTP filters in this order; a filter may answer it itself (401, 403, 429) before the
            router sends it upstream. Counters carry Envoy’s stat names.
          </p>
        </div>
      </div>
      {chains.length === 0 ? (
        <Empty title="No HTTP listeners in the running config">
          Add a listener with an <code>envoy.filters.network.http_connection_manager</code> and its <code>http_filters</code>.
        </Empty>
      ) : (
        chains.map((c) => <Chain key={`${c.listener}:${c.chain}`} c={c} />)
      )}
      <Kit />
    </div>
  );
}
