import { normalizeEmail } from './normalized-email';

describe('normalizeEmail: NFC, locale-free lower case, the domain in ASCII by IDNA', () => {
  it.each([
    ['an ASCII address, upper-cased', 'Jane.Doe@Example.COM', 'jane.doe@example.com'],
    ['an IDN domain in Unicode', 'Jane@Bücher.example', 'jane@xn--bcher-kva.example'],
    ['the same domain in punycode', 'jane@xn--bcher-kva.example', 'jane@xn--bcher-kva.example'],
    ['punycode upper-cased', 'JANE@XN--BCHER-KVA.EXAMPLE', 'jane@xn--bcher-kva.example'],
    ['an IDN domain in NFD (u + combining diaeresis)', 'Jane@Bu\u0308cher.example', 'jane@xn--bcher-kva.example'],
    ['a local part in NFD', 'Jose\u0301@example.com', 'jos\u00e9@example.com'],
    ['a local part in NFC, upper-cased', 'JOS\u00c9@example.com', 'jos\u00e9@example.com'],
    // Unicode's own mapping, whatever the locale: dotted capital I keeps its dot, dotless i stays.
    ['a Turkish dotted capital I', '\u0130nci@example.com', 'i\u0307nci@example.com'],
    ['a Turkish dotless small i', '\u0131nci@example.com', '\u0131nci@example.com'],
    ['a dotted capital I in the domain', 'jane@\u0130stanbul.example', 'jane@xn--istanbul-o0e.example'],
    ['a capital sharp s', '\u1e9e@example.com', '\u00df@example.com'],
    ['an ideographic full stop between labels (UTS #46 maps it)', 'jane@m\u00fcnchen\u3002de', 'jane@xn--mnchen-3ya.de'],
    ['fullwidth letters in the domain (UTS #46 maps them)', 'jane@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com', 'jane@example.com'],
    ['a quoted local part holding "@"', '"a@b"@Example.com', '"a@b"@example.com'],
  ])('%s: %j → %j', (_name, input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it('gives the Turkish dotted I no match with a plain i (no locale-specific folding)', () => {
    expect(normalizeEmail('\u0130NCI@example.com')).not.toBe(normalizeEmail('inci@example.com'));
  });

  it.each([
    ['no @', 'jane.example.com'],
    ['an empty local part', '@example.com'],
    ['an empty domain', 'jane@'],
    ['punycode that does not decode', 'jane@xn--a.example'],
    ['a zero-width joiner in the domain (IDNA refuses it)', 'jane@a\u200db.com'],
    ['percent-encoding in the domain (never decoded)', 'jane@ex%41mple.com'],
    ['fullwidth percent-encoding in the domain', 'jane@ex\uff05\uff14\uff11mple.com'],
    ['an IPv4 address', 'jane@127.0.0.1'],
    ['a hexadecimal host that a URL parser reads as IPv4', 'jane@0x7f.1'],
    ['an IP literal', 'jane@[127.0.0.1]'],
    ['an underscore in the domain', 'jane@exa_mple.com'],
    ['an empty label', 'jane@a..example'],
    ['a trailing dot', 'jane@example.com.'],
    ['a space', 'ja ne@exa mple.com'],
    ['NUL', 'ja\u0000ne@example.com'],
    ['a lone surrogate', 'ja\ud800ne@example.com'],
    ['more than 320 characters', `${'a'.repeat(320)}@example.com`],
  ])('cannot normalise %s, so it matches nothing: %j', (_name, input) => {
    expect(normalizeEmail(input)).toBeNull();
  });

  it('is idempotent', () => {
    for (const input of ['Jane@Bücher.example', '\u0130nci@example.com', 'Jose\u0301@EXAMPLE.com']) {
      const once = normalizeEmail(input)!;
      expect(normalizeEmail(once)).toBe(once);
    }
  });
});
