import { useState } from 'preact/hooks';
import { api } from '../api';
import { html } from '../html';
import { ErrorNote } from '../parts/widgets';

/** The operator pastes a Management API token; it is checked once and kept for this tab only. */
export function SignInPage({ onSignedIn, reason }: { onSignedIn: (token: string) => void; reason: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const candidate = token.trim();
    if (!candidate) return setError('Paste a Management API token first.');
    setBusy(true);
    try {
      await api('GET', '/connections?take=1', undefined, candidate);
      onSignedIn(candidate);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="sign-in">
    <h1>universal-logout console</h1>
    <form onSubmit=${(e: Event) => void submit(e)} aria-describedby="token-help">
      <label for="token">Management API token</label>
      <input id="token" type="password" autocomplete="off" spellcheck="false" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      <p id="token-help" class="note">One of MANAGEMENT_API_TOKENS. <code>npm start</code> prints the one it accepts. The console keeps it for this tab only.</p>
      <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
      <${ErrorNote} error=${error} />
    </form>
  </main>`;
}
