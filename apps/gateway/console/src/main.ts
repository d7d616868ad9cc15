import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { tokenStore, whenUnauthorized } from './api';
import { html } from './html';
import { ConnectionsPage } from './pages/connections';
import { DeliveriesPage } from './pages/deliveries';
import { LogStreamsPage } from './pages/log-streams';
import { LogoutsPage } from './pages/logouts';
import { SignInPage } from './pages/sign-in';
import { TimelinePage } from './pages/timeline';

/** The pages, by the hash of the URL: `#/logouts`, `#/logouts/{id}`, `#/deliveries`, `#/log-streams`, `#/connections`. */
const PAGES = [
  { path: 'logouts', title: 'Logouts' },
  { path: 'deliveries', title: 'Deliveries' },
  { path: 'log-streams', title: 'Log streams' },
  { path: 'connections', title: 'Connections' },
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function page(parts: string[]) {
  const [section, id] = parts;
  switch (section) {
    case 'deliveries':
      return html`<${DeliveriesPage} />`;
    case 'log-streams':
      return html`<${LogStreamsPage} />`;
    case 'connections':
      return html`<${ConnectionsPage} />`;
    default:
      return id ? html`<${TimelinePage} key=${id} id=${decodeURIComponent(id)} />` : html`<${LogoutsPage} />`;
  }
}

function Console() {
  const [token, setToken] = useState(tokenStore.get());
  const [reason, setReason] = useState<string | null>(null);
  const hash = useHash();
  useEffect(
    () =>
      whenUnauthorized(() => {
        tokenStore.clear();
        setReason('The gateway no longer accepts that token. Sign in again.');
        setToken(null);
      }),
    [],
  );
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const section = PAGES.find((p) => p.path === parts[0]) ?? PAGES[0];
  useEffect(() => {
    document.title = token ? `${section.title} · universal-logout` : 'Sign in · universal-logout';
  }, [section, token]);

  if (!token)
    return html`<${SignInPage}
      reason=${reason}
      onSignedIn=${(t: string) => {
        tokenStore.set(t);
        setReason(null);
        setToken(t);
      }}
    />`;
  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(e: Event) => (e.preventDefault(), document.getElementById('main')?.focus())}>Skip to content</a>
    <header class="top">
      <span class="brand">universal-logout</span>
      <nav aria-label="Console">
        <ul>
          ${PAGES.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${p === section ? 'page' : undefined}>${p.title}</a></li>`)}
        </ul>
      </nav>
      <button type="button" class="sign-out" onClick=${() => (tokenStore.clear(), setToken(null))}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">${page(parts)}</main>
  </div>`;
}

render(html`<${Console} />`, document.getElementById('console')!);
