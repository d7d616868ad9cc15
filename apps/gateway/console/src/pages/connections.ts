import { api } from '../api';
import { html } from '../html';
import type { Client, Connection, Page, SigningKey } from '../resources';
import { clock } from '../parts/format';
import { usePolling } from '../parts/use-polling';
import { Badge, ConfirmButton, CopyField, ErrorNote } from '../parts/widgets';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** The issuer whose tokens the connection accepts (SPEC §2: samlp names it in its GTR options). */
function issuerOf(c: Connection): string {
  const o = c.options;
  const issuer = o.global_token_revocation_jwt_iss ?? o.issuer ?? o.oidc_metadata_issuer;
  return typeof issuer === 'string' ? issuer : '—';
}

function ConnectionsSection() {
  const { data, error } = usePolling(() => api<Page<'connections', Connection>>('GET', '/connections?take=100'), 30_000, 'connections');
  const list = data?.connections ?? [];
  return html`<section aria-labelledby="h-connections">
    <h2 id="h-connections">Connections</h2>
    <p class="note">Give the IdP the revocation endpoint of its connection (in Okta: the Universal Logout endpoint of the app integration).</p>
    <${ErrorNote} error=${error} />
    ${data && list.length === 0 ? html`<p class="empty">No connections yet. Create one with POST /api/v2/connections.</p>` : null}
    <div class="cards cards-wide">
      ${list.map(
        (c) => html`<article class="card" key=${c.id} aria-labelledby=${`con-${c.id}`}>
          <h3 id=${`con-${c.id}`}>${c.name} <span class="tag">${c.strategy}</span></h3>
          <dl class="facts"><dt>Issuer</dt><dd class="mono">${issuerOf(c)}</dd><dt>Id</dt><dd class="mono">${c.id}</dd></dl>
          <${CopyField} label=${`Revocation endpoint of ${c.name}`} value=${c.revocation_endpoint_url} />
        </article>`,
      )}
    </div>
  </section>`;
}

function initiatorsOf(c: Client): string {
  const i = c.oidc_logout?.backchannel_logout_initiators;
  if (!i) return '—';
  return i.mode === 'all' ? 'every initiator' : i.selected_initiators.join(', ') || 'none';
}

function ApplicationsSection() {
  const { data, error } = usePolling(() => api<Page<'clients', Client>>('GET', '/clients?take=100'), 30_000, 'clients');
  const list = data?.clients ?? [];
  return html`<section aria-labelledby="h-apps">
    <h2 id="h-apps">Applications</h2>
    <${ErrorNote} error=${error} />
    <table>
      <caption class="sr-only">Applications and their back-channel logout settings</caption>
      <thead><tr><th scope="col">Application</th><th scope="col">Back-channel logout URL</th><th scope="col">Initiators</th><th scope="col">Token</th></tr></thead>
      <tbody>
        ${data && list.length === 0 ? html`<tr><td colspan="4" class="empty">No applications yet.</td></tr>` : null}
        ${list.map(
          (c) => html`<tr key=${c.client_id}>
            <td>${c.name}<br /><small class="mono">${c.client_id}</small></td>
            <td class="mono">${c.oidc_logout?.backchannel_logout_urls[0] ?? html`<em>none: not told of logouts</em>`}</td>
            <td>${initiatorsOf(c)}</td>
            <td>${c.oidc_logout ? `${c.oidc_logout.backchannel_logout_signing_alg}, ${c.oidc_logout.backchannel_logout_session_required ? 'one per session (sid)' : 'one per user (sub) when all sessions end'}` : '—'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function KeysSection() {
  const { data, error, refresh } = usePolling(() => api<SigningKey[]>('GET', '/keys/signing'), 30_000, 'keys');
  const rotate = (alg?: string) => () =>
    api<SigningKey[]>('POST', '/keys/signing/rotate', alg ? { alg } : {}).then((keys) => `New ${keys.map((k) => k.alg).join(', ')} key${keys.length > 1 ? 's' : ''} current; the previous stays published`);
  const keys = [...(data ?? [])].sort((a, b) => a.alg.localeCompare(b.alg) || (a.status === 'current' ? -1 : 1));
  return html`<section aria-labelledby="h-keys">
    <h2 id="h-keys">Signing keys</h2>
    <p class="note">The keys that sign back-channel logout tokens, as the JWKS publishes them at /.well-known/jwks.json.</p>
    <${ErrorNote} error=${error} />
    <table>
      <caption class="sr-only">Back-channel signing keys</caption>
      <thead><tr><th scope="col">Algorithm</th><th scope="col">Key id</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Rotated</th></tr></thead>
      <tbody>
        ${keys.map(
          (k) => html`<tr key=${k.kid}><td>${k.alg}</td><td class="mono">${k.kid}</td><td><${Badge} state=${k.status} /></td><td>${clock(k.created_at)}</td><td>${clock(k.rotated_at)}</td></tr>`,
        )}
      </tbody>
    </table>
    <div class="actions">
      ${ALGORITHMS.map((alg) => html`<${ConfirmButton} key=${alg} label=${`Rotate ${alg}`} question=${`Make a new ${alg} key current?`} action=${rotate(alg)} onDone=${refresh} />`)}
      <${ConfirmButton} label="Rotate all" question="Make a new key current for every algorithm?" action=${rotate()} onDone=${refresh} />
    </div>
  </section>`;
}

/** Where Okta sends logouts, which applications hear of them, and the keys their tokens are signed with. */
export function ConnectionsPage() {
  return html`<div>
    <h1>Connections, applications and keys</h1>
    <${ConnectionsSection} />
    <${ApplicationsSection} />
    <${KeysSection} />
  </div>`;
}
