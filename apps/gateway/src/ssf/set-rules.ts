import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { ASYMMETRIC_ALGS, REGISTERED_ALGS } from '../revocation/token-rules';
import { setAudienceInvalid, setInvalid, setIssuerInvalid, setKeyInvalid } from './ssf.exception';

/** SPEC §9: a SET older than this (by its iat, ± the skew) is stale, so a replay marker needs to live no longer. */
export const SET_MAX_AGE_SECONDS = 15 * 60;

export interface SetExpectations {
  /** `options.ssf.issuer` */
  issuer: string;
  /** `options.ssf.audience` */
  audience: string;
  clockSkewSeconds: number;
  nowSeconds: number;
}

/** A SET whose claims passed these rules. */
export type VerifiedSet = JWTPayload & { iss: string; iat: number; jti: string };

type HeaderRule = (h: ProtectedHeaderParameters) => void;
type ClaimRule = (p: JWTPayload, e: SetExpectations) => void;

// Header values are the caller's text: descriptions never quote them (they are logged and answered).

// RFC 7516 §4.1.2: a header with `enc` is an encrypted SET (a JWE); this receiver accepts signed SETs only.
const notEncrypted: HeaderRule = (h) => {
  if ((h as { enc?: unknown }).enc !== undefined) throw setInvalid('encrypted SETs are not accepted');
};

// RFC 8417 §2.3, SSF 1.0 SET profile, SPEC §9: typ, when present, is secevent+jwt (the media type
// application/secevent+jwt, in its short form or in full).
const typIsSecevent: HeaderRule = (h) => {
  if (h.typ === undefined) return;
  if (typeof h.typ !== 'string' || h.typ.toLowerCase().replace(/^application\//, '') !== 'secevent+jwt') {
    throw setInvalid('typ must be secevent+jwt');
  }
};

// SPEC §9 (verified like a GTR token, §2.1): only asymmetric algorithms; `none` and HS* sign with
// nothing or with public material, an unacceptable key (RFC 8935 §2.4 invalid_key).
const algIsAsymmetric: HeaderRule = (h) => {
  const alg: unknown = h.alg;
  if (typeof alg === 'string' && ASYMMETRIC_ALGS.includes(alg)) return;
  throw setKeyInvalid(typeof alg === 'string' && REGISTERED_ALGS.has(alg) ? `alg "${alg}" is not allowed` : 'alg is not allowed');
};

// RFC 7515 §4.1.4: kid is a string, looked up in the transmitter's key set: short printable ASCII.
const kidIsPrintable: HeaderRule = (h) => {
  const kid: unknown = h.kid;
  if (kid === undefined) return;
  if (typeof kid !== 'string' || !/^[\x20-\x7e]{1,256}$/.test(kid)) throw setKeyInvalid('kid is malformed');
};

const headerRules: HeaderRule[] = [notEncrypted, typIsSecevent, algIsAsymmetric, kidIsPrintable];

// SPEC §9, RFC 8417 §2.2: iss equals the connection's `options.ssf.issuer`.
const issMatches: ClaimRule = (p, e) => {
  if (p.iss !== e.issuer) throw setIssuerInvalid('iss is not the issuer of this connection');
};

// SPEC §9, RFC 8417 §2.2: aud (a string, or an array) holds the connection's `options.ssf.audience`.
const audIsOurs: ClaimRule = (p, e) => {
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes(e.audience)) throw setAudienceInvalid('aud is not the audience of this connection');
};

// RFC 8417 §2.2: iat is required; SPEC §9: not in the future (± skew).
const issuedInThePast: ClaimRule = (p, e) => {
  if (typeof p.iat !== 'number' || !Number.isFinite(p.iat)) throw setInvalid('iat is required');
  if (p.iat - e.clockSkewSeconds > e.nowSeconds) throw setInvalid('iat is in the future');
};

// SPEC §9: not older than 15 minutes (± skew): a stale SET is refused, so its jti need not be kept longer.
const notStale: ClaimRule = (p, e) => {
  if ((p.iat as number) + SET_MAX_AGE_SECONDS + e.clockSkewSeconds < e.nowSeconds) throw setInvalid('the SET is older than 15 minutes (iat)');
};

// RFC 8417 §2.2: jti is required; SPEC §9: used once per connection. It is stored: text
// PostgreSQL accepts (no control characters) and short.
const hasJti: ClaimRule = (p) => {
  if (typeof p.jti !== 'string' || p.jti.length === 0) throw setInvalid('jti is required');
  if (p.jti.length > 256 || /[\u0000-\u001f\u007f]/.test(p.jti)) throw setInvalid('jti is malformed');
};

const claimRules: ClaimRule[] = [issMatches, audIsOurs, issuedInThePast, notStale, hasJti];

/** The SET header, before any key is looked up. */
export function checkSetHeader(header: ProtectedHeaderParameters): void {
  for (const rule of headerRules) rule(header);
}

/** The claims of a SET whose signature verified. */
export function checkSetClaims(payload: JWTPayload, expectations: SetExpectations): VerifiedSet {
  for (const rule of claimRules) rule(payload, expectations);
  return payload as VerifiedSet;
}
