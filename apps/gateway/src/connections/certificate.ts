import { X509Certificate } from 'node:crypto';

/** A SAML signing certificate (SPEC §2.2): PEM, or base64 DER without the armour, as SAML metadata carries it. */
export function parseCertificate(value: string): X509Certificate {
  const body = value.includes('-----BEGIN')
    ? value
    : `-----BEGIN CERTIFICATE-----\n${value.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----`;
  return new X509Certificate(body);
}
