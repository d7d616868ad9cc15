/** How times and counts read in the console: local wall-clock time, durations from a start. */

export function clock(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function after(startIso: string, iso: string | null | undefined): string {
  if (!iso) return '';
  const ms = new Date(iso).getTime() - new Date(startIso).getTime();
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 120_000) return `+${(ms / 1000).toFixed(1)} s`;
  return `+${Math.round(ms / 60_000)} min`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The subject as received, in one line: `email`, `iss_sub` or `opaque`. */
export function subjectLine(subject: Record<string, unknown> | null): string {
  if (!subject) return '—';
  if (typeof subject.email === 'string') return subject.email;
  if (typeof subject.sub === 'string') return subject.sub;
  if (typeof subject.id === 'string') return subject.id;
  return JSON.stringify(subject);
}
