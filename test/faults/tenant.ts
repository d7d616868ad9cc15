import type { FakeIdp } from '@ulo/testing';

export const CONNECTION = 'faults-okta';
export const CLIENT_ID = 'faults-app';
export const GTR_PATH = `/oauth/global-token-revocation/connection/${CONNECTION}`;

/** A seeded user: two sessions at the application and one refresh token. */
export interface SeededUser {
  userId: string;
  providerUserId: string;
  email: string;
  sessionIds: string[];
  refreshTokenId: string;
}

export const SESSIONS_PER_USER = 2;

/** A Management API call (SPEC §6); anything but the expected status fails the setup. */
export class ManagementApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async post(path: string, body: unknown, expected = 201): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`POST ${path} answered ${res.status} (expected ${expected}): ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  }
}

/** Runs `work` over `items` with at most `parallel` calls in flight. */
async function inParallel<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * What a platform sets up before any logout, through the Management API: the okta connection
 * trusting the fake IdP, one application with a back-channel logout URL, and each user with an
 * identity at the connection, two sessions at the application and one refresh token, registered
 * as the login side registers what it issued.
 */
export async function seedTenant(
  apis: ManagementApi[],
  idp: FakeIdp,
  receiverUrl: string,
  groups: { group: string; count: number }[],
): Promise<Map<string, SeededUser[]>> {
  const [api] = apis;
  await api.post('/api/v2/connections', { name: CONNECTION, strategy: 'okta', options: { issuer: idp.issuer, client_id: idp.clientId } });
  await api.post('/api/v2/clients', {
    client_id: CLIENT_ID,
    name: 'Fault test application',
    oidc_logout: { backchannel_logout_urls: [receiverUrl] },
  });
  const out = new Map<string, SeededUser[]>();
  for (const { group, count } of groups) {
    const users: SeededUser[] = Array.from({ length: count }, (_, i) => {
      const n = i + 1;
      const userId = `faults|${group}|${n}`;
      return {
        userId,
        providerUserId: `00u${group}${n}`,
        email: `${group}.${n}@faults.example`,
        sessionIds: Array.from({ length: SESSIONS_PER_USER }, (_, k) => `ses-${group}-${n}-${k + 1}`),
        refreshTokenId: `rt-${group}-${n}`,
      };
    });
    // Spread over every gateway: the writes are CPU-bound, and each gateway is a process of its own.
    await inParallel(users, 16, async (u) => {
      const api = apis[Number(/\d+$/.exec(u.userId)![0]) % apis.length];
      await api.post('/api/v2/users', {
        user_id: u.userId,
        email: u.email,
        identities: [{ connection: CONNECTION, provider_user_id: u.providerUserId, issuer: idp.issuer }],
      });
      for (const id of u.sessionIds) await api.post('/api/v2/sessions', { id, user_id: u.userId, clients: [{ client_id: CLIENT_ID }] });
      await api.post('/api/v2/refresh-tokens', { id: u.refreshTokenId, user_id: u.userId, client_id: CLIENT_ID, session_id: u.sessionIds[0] });
    });
    out.set(group, users);
  }
  return out;
}
