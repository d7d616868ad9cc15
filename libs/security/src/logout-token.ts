import { randomUUID } from 'node:crypto';
import { KeyLike, SignJWT } from 'jose';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
export const LOGOUT_TOKEN_LIFETIME_SECONDS = 120;

export interface LogoutTokenInput {
  /** PUBLIC_BASE_URL + "/": express-openid-connect compares it exactly with the discovery issuer. */
  issuer: string;
  clientId: string;
  userId: string;
  /** null: a `sub`-only token, which asks the application to end every session of the user. */
  sessionId: string | null;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.4 logout token: iss, aud, sub, sid (unless `sub`-only),
 * iat, exp, a unique jti and the back-channel logout event; never a nonce (§2.4 forbids it). A
 * fresh token per attempt, so a receiver that records jti before acting does not take a retry for
 * a replay. The key's algorithm (RS256, ES256 or EdDSA) is the header's `alg`.
 */
export async function signLogoutToken(
  input: LogoutTokenInput,
  key: { kid: string; alg: string; privateKey: KeyLike },
  now = new Date(),
): Promise<{ token: string; jti: string }> {
  const iat = Math.floor(now.getTime() / 1000);
  const jti = randomUUID();
  const token = await new SignJWT({
    ...(input.sessionId === null ? {} : { sid: input.sessionId }),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
    .setIssuer(input.issuer)
    .setAudience(input.clientId)
    .setSubject(input.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGOUT_TOKEN_LIFETIME_SECONDS)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, jti };
}
