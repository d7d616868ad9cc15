/**
 * The Management API as the console calls it: same origin, the operator's token as a bearer token,
 * and every failure turned into a sentence an operator can act on.
 */

const TOKEN_KEY = 'ulo.console.token';

/** Kept for this tab only (sessionStorage): closing the tab forgets it. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** A failed call, with the words to show and whether the token was refused. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** Listeners told when the token stops being accepted, so the console asks for a new one. */
const onUnauthorized = new Set<() => void>();
export function whenUnauthorized(listener: () => void): () => void {
  onUnauthorized.add(listener);
  return () => onUnauthorized.delete(listener);
}

function serverMessage(body: unknown): string | null {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const message = b.message ?? b.error_description ?? b.error;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return typeof body === 'string' && body.length > 0 && body.length < 300 ? body : null;
}

/** What an operator reads for a status the gateway answered. */
export function explain(status: number, body: unknown): string {
  const said = serverMessage(body);
  if (status === 401) return 'The gateway did not accept this token. Sign in again with a token listed in MANAGEMENT_API_TOKENS.';
  if (status === 403) return `This token may not do that${said ? `: ${said}` : '.'}`;
  if (status === 404) return said ?? 'Not found: it may have been deleted.';
  if (status === 409) return said ?? 'That conflicts with the current state; reload and try again.';
  if (status === 429) return 'Too many requests: the gateway asks to slow down. Try again in a moment.';
  if (status === 503) return `The gateway cannot reach its database right now${said ? ` (${said})` : ''}; it will recover on its own. Try again shortly.`;
  if (status >= 500) return `The gateway failed to answer (${status})${said ? `: ${said}` : ''}. Its logs say more.`;
  if (status >= 400) return said ?? `The gateway refused the request (${status}).`;
  return `Unexpected answer (${status}).`;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, token = tokenStore.get()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('The gateway could not be reached. Is it running? The console retries on its own.', 0);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (!res.ok) {
    const error = new ApiError(explain(res.status, parsed), res.status);
    if (error.unauthorized) for (const listener of onUnauthorized) listener();
    throw error;
  }
  return parsed as T;
}

/** A query string of the members that have a value. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
