import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { invalidToken } from './gtr.exception';

export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
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
const typIsRevocationJwt: HeaderRule = (h) => {
  if (h.typ === undefined) return;
  const typ = h.typ.toLowerCase().replace(/^application\//, '');
  if (typ !== 'global-token-revocation+jwt' && typ !== 'jwt') throw invalidToken(`unexpected typ "${h.typ}"`);
};

// SPEC §2.1: only asymmetric algorithms; `none` and HS* can be forged with public material.
const algIsAsymmetric: HeaderRule = (h) => {
  if (!ASYMMETRIC_ALGS.includes(h.alg ?? '')) throw invalidToken(`alg "${h.alg}" is not allowed`);
};

const headerRules: HeaderRule[] = [typIsRevocationJwt, algIsAsymmetric];

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

// SPEC §2.5: jti present (its uniqueness is checked when the request is recorded).
const hasJti: ClaimRule = (p) => {
  if (typeof p.jti !== 'string' || p.jti.length === 0 || p.jti.length > 256) throw invalidToken('jti is required');
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
