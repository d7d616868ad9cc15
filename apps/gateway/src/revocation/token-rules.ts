import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { invalidToken } from './gtr.exception';

export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
export const REGISTERED_ALGS = new Set([...ASYMMETRIC_ALGS, 'none', 'HS256', 'HS384', 'HS512', 'ES256K']);
const MAX_LIFETIME_SECONDS = 15 * 60;

export interface Expectations {
  issuer: string;
  subject: string;
  audience: string;
  clockSkewSeconds: number;
  nowSeconds: number;
}

type HeaderRule = (h: ProtectedHeaderParameters) => void;
type ClaimRule = (p: JWTPayload, e: Expectations) => void;

// GTR draft §3.3 / SPEC §2.1: typ, when present, is global-token-revocation+jwt (or plain JWT).
// Header values are the caller's text: descriptions never quote them (they may reach a header).
const typIsRevocationJwt: HeaderRule = (h) => {
  if (h.typ === undefined) return;
  if (typeof h.typ !== 'string') throw invalidToken('unexpected typ');
  const typ = h.typ.toLowerCase().replace(/^application\//, '');
  if (typ !== 'global-token-revocation+jwt' && typ !== 'jwt') throw invalidToken('unexpected typ');
};

// SPEC §2.1: only asymmetric algorithms; `none` and HS* can be forged with public material.
// Only a registered algorithm name (RFC 7518 §3.1) is quoted back.
const algIsAsymmetric: HeaderRule = (h) => {
  const alg: unknown = h.alg;
  if (typeof alg === 'string' && ASYMMETRIC_ALGS.includes(alg)) return;
  throw invalidToken(typeof alg === 'string' && REGISTERED_ALGS.has(alg) ? `alg "${alg}" is not allowed` : 'alg is not allowed');
};

// RFC 7515 §4.1.4: kid is a string; ours are looked up in a key set, so it is short printable ASCII.
const kidIsPrintable: HeaderRule = (h) => {
  const kid: unknown = h.kid;
  if (kid === undefined) return;
  if (typeof kid !== 'string' || !/^[\x20-\x7e]{1,256}$/.test(kid)) throw invalidToken('kid is malformed');
};

const headerRules: HeaderRule[] = [typIsRevocationJwt, algIsAsymmetric, kidIsPrintable];

// SPEC §2.2: iss equals the connection's expected issuer.
const issMatches: ClaimRule = (p, e) => {
  if (p.iss !== e.issuer) throw invalidToken('iss does not match the connection');
};

// SPEC §2.2: sub equals the connection's expected subject (Okta's client id for this app).
const subMatches: ClaimRule = (p, e) => {
  if (p.sub !== e.subject) throw invalidToken('sub does not match the connection');
};

// GTR draft §3.5 / SPEC §2.3: aud MUST equal the endpoint URL (a string, or an array containing it).
const audIsEndpoint: ClaimRule = (p, e) => {
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes(e.audience)) throw invalidToken('aud is not this endpoint');
};

// SPEC §2.4: exp present and not passed (± skew).
const notExpired: ClaimRule = (p, e) => {
  if (typeof p.exp !== 'number') throw invalidToken('exp is required');
  if (p.exp + e.clockSkewSeconds <= e.nowSeconds) throw invalidToken('token expired');
};

// SPEC §2.4: iat present and not in the future (± skew).
const issuedInThePast: ClaimRule = (p, e) => {
  if (typeof p.iat !== 'number') throw invalidToken('iat is required');
  if (p.iat - e.clockSkewSeconds > e.nowSeconds) throw invalidToken('iat is in the future');
};

// SPEC §2.4: nbf, when present, not in the future (± skew).
const notBeforeHonoured: ClaimRule = (p, e) => {
  if (p.nbf === undefined) return;
  if (typeof p.nbf !== 'number') throw invalidToken('nbf must be a number');
  if (p.nbf - e.clockSkewSeconds > e.nowSeconds) throw invalidToken('token not yet valid (nbf)');
};

// SPEC §2.4: exp - iat at most 15 minutes, so a replay cache bounded by exp is enough.
const lifetimeCapped: ClaimRule = (p) => {
  if ((p.exp as number) - (p.iat as number) > MAX_LIFETIME_SECONDS) throw invalidToken('token lifetime exceeds 15 minutes');
};

// SPEC §2.5: jti present (its uniqueness is checked when the request is recorded); it is stored,
// so it is text PostgreSQL accepts (no NUL) and short.
const hasJti: ClaimRule = (p) => {
  if (typeof p.jti !== 'string' || p.jti.length === 0) throw invalidToken('jti is required');
  if (p.jti.length > 256 || /[\u0000-\u001f\u007f]/.test(p.jti)) throw invalidToken('jti is malformed');
};

const claimRules: ClaimRule[] = [
  issMatches,
  subMatches,
  audIsEndpoint,
  notExpired,
  issuedInThePast,
  notBeforeHonoured,
  lifetimeCapped,
  hasJti,
];

export function checkHeader(header: ProtectedHeaderParameters): void {
  for (const rule of headerRules) rule(header);
}

export function checkClaims(payload: JWTPayload, expectations: Expectations): void {
  for (const rule of claimRules) rule(payload, expectations);
}
