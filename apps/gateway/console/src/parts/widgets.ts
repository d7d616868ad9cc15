import { useState } from 'preact/hooks';
import { html } from '../html';

/** A state in words and colour; the words carry the meaning, the colour only repeats it. */
export function Badge({ state, label }: { state: string; label?: string }) {
  return html`<span class=${`badge badge-${state.replace(/[^a-z_]/g, '')}`}>${label ?? state.replace(/_/g, ' ')}</span>`;
}

/** An error in plain words, announced to screen readers. */
export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error}</p>`;
}

/** A read-only value with a button that copies it. */
export function CopyField({ label, value }: { label: string; value: string }) {
  const [said, setSaid] = useState('');
  const id = `copy-${label.replace(/\W+/g, '-').toLowerCase()}`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setSaid('Copied');
    } catch {
      const input = document.getElementById(id) as HTMLInputElement | null;
      input?.select();
      setSaid('Selected: press Ctrl+C to copy');
    }
  };
  return html`<div class="copy-field">
    <label for=${id}>${label}</label>
    <div class="copy-row">
      <input id=${id} readonly value=${value} onFocus=${(e: Event) => (e.target as HTMLInputElement).select()} />
      <button type="button" onClick=${() => void copy()}>Copy</button>
      <span class="copy-said" aria-live="polite">${said}</span>
    </div>
  </div>`;
}

type Outcome = { ok: boolean; text: string } | null;

/** Runs an action once at a time and keeps what came of it, in words, for the button beside it. */
function useOutcome(action: () => Promise<string>, onDone?: () => void): { busy: boolean; outcome: Outcome; run: () => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const run = async () => {
    setBusy(true);
    try {
      setOutcome({ ok: true, text: await action() });
      onDone?.();
    } catch (e) {
      setOutcome({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, run };
}

function OutcomeNote({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return html`<span class=${outcome.ok ? 'ok' : 'error'} role=${outcome.ok ? 'status' : 'alert'}>${outcome.text}</span>`;
}

/**
 * A button that asks once more before acting, inline (no browser dialog), and shows what came of it.
 */
export function ConfirmButton({ label, question, action, onDone }: { label: string; question: string; action: () => Promise<string>; onDone?: () => void }) {
  const [asking, setAsking] = useState(false);
  const { busy, outcome, run } = useOutcome(action, onDone);
  const go = async () => {
    await run();
    setAsking(false);
  };
  return html`<span class="confirm">
    ${asking
      ? html`<span role="group" aria-label=${question}>
          <span class="question">${question}</span>
          <button type="button" class="danger" disabled=${busy} onClick=${() => void go()}>Yes, ${label[0].toLowerCase()}${label.slice(1)}</button>
          <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
        </span>`
      : html`<button type="button" onClick=${() => setAsking(true)}>${label}</button>`}
    <${OutcomeNote} outcome=${outcome} />
  </span>`;
}

/** A button that acts at once (reversible actions: pause, resume, replay) and shows the outcome. */
export function ActionButton({ label, action, onDone }: { label: string; action: () => Promise<string>; onDone?: () => void }) {
  const { busy, outcome, run } = useOutcome(action, onDone);
  return html`<span class="action">
    <button type="button" disabled=${busy} onClick=${() => void run()}>${label}</button>
    <${OutcomeNote} outcome=${outcome} />
  </span>`;
}
