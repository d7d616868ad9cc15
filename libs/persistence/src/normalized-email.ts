import { domainToASCII } from 'node:url';

/** Longer input is no address we store (the Management API caps `email` at 320 characters). */
const MAX_LENGTH = 320;

// Before IDNA: ASCII other than letters, digits, '-' and '.' is refused, so that the WHATWG host
// parser behind domainToASCII never percent-decodes ('ex%41.com') or reads bracketed IP literals.
const FORBIDDEN_ASCII_IN_DOMAIN = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;
// Control characters (NUL included) and lone surrogates: no stored address holds them.
const UNSTORABLE = /[\p{Cc}\p{Cs}]/u;
const ASCII_LABEL = /^[a-z0-9-]{1,63}$/;

/**
 * The form in which email addresses are stored for matching and compared with equality (GTR
 * `email` subjects, SPEC §2): Unicode NFC, then lower-cased by the locale-independent Unicode
 * mapping (`toLowerCase`: 'İ' becomes 'i̇', never 'i'), the domain converted to ASCII by IDNA
 * (UTS #46, `xn--` labels), the local part otherwise unchanged. `null` when the address cannot be
 * normalised (no '@', a domain IDNA refuses, an empty label, a numeric last label that a host
 * parser would read as an IPv4 address, control characters): such an address matches nothing.
 */
export function normalizeEmail(address: string): string | null {
  if (typeof address !== 'string' || address.length > MAX_LENGTH || UNSTORABLE.test(address)) return null;
  const composed = address.normalize('NFC');
  // The domain cannot hold '@'; a quoted local part can.
  const at = composed.lastIndexOf('@');
  if (at <= 0 || at === composed.length - 1) return null;
  const local = composed.slice(0, at).toLowerCase().normalize('NFC');
  const domain = asciiDomain(composed.slice(at + 1));
  return domain === null ? null : `${local}@${domain}`;
}

function asciiDomain(domain: string): string | null {
  if (FORBIDDEN_ASCII_IN_DOMAIN.test(domain)) return null;
  const ascii = domainToASCII(domain);
  if (ascii === '') return null;
  const labels = ascii.split('.');
  if (!labels.every((l) => ASCII_LABEL.test(l))) return null;
  // WHATWG hosts ending in a number are IPv4 addresses ('0x7f.1' becomes '127.0.0.1').
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return null;
  return ascii;
}
