import { describe, expect, it } from 'vitest';
import {
  looksLikeTotpCode,
  newRecoveryCodes,
  newTotpSecret,
  normaliseRecoveryCode,
  RecoveryCodeHasher,
  totpCode,
  totpStep,
  totpUri,
} from './second-factor';

// RFC 6238 Appendix B's SHA-1 secret ("12345678901234567890") in base32, and its test vectors
// truncated to the 6 digits apps show.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: [number, string][] = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
];

describe('TOTP', () => {
  it.each(RFC_VECTORS)('at %i s the code is %s (RFC 6238 Appendix B)', (seconds, code) => {
    expect(totpCode(RFC_SECRET, seconds * 1000)).toBe(code);
    expect(totpStep(RFC_SECRET, code, seconds * 1000)).toBe(Math.floor(seconds / 30));
  });

  it('accepts one step of clock drift either side and answers the step the code belongs to', () => {
    const now = 1_700_000_000_000;
    const step = Math.floor(now / 30_000);
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, now - 30_000), now)).toBe(step - 1);
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, now + 30_000), now)).toBe(step + 1);
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, now + 60_000), now)).toBeNull();
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, now - 60_000), now)).toBeNull();
  });

  it.each([
    ['287 082', true],
    ['287082', true],
    ['28708', false],
    ['2870821', false],
    ['abcd-efgh-jkmn', false],
  ])('reads %j as a TOTP code: %s', (input, expected) => {
    expect(looksLikeTotpCode(input)).toBe(expected);
  });

  it('makes 160-bit secrets and an otpauth URI that names the account', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    expect(totpUri(secret, 'ops@example.com')).toBe(
      `otpauth://totp/Mailroom:ops%40example.com?issuer=Mailroom&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
  });
});

describe('recovery codes', () => {
  it('makes ten different codes of 12 Crockford base32 characters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
  });

  it.each([
    ['ab12-cd34-ef56', 'ab12cd34ef56'],
    ['AB12 CD34 EF56', 'ab12cd34ef56'],
    ['oo1i-l000-0000', '00111000' + '0000'],
  ])('reads %j as %j', (typed, stored) => {
    expect(normaliseRecoveryCode(typed)).toBe(stored);
  });

  it('hashes with a key: the same code under another MASTER_KEY hashes differently', () => {
    const a = new RecoveryCodeHasher(Buffer.alloc(32, 1));
    const b = new RecoveryCodeHasher(Buffer.alloc(32, 2));
    expect(a.hash('ab12-cd34-ef56')).toBe(a.hash('AB12CD34EF56'));
    expect(a.hash('ab12-cd34-ef56')).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash('ab12-cd34-ef56')).not.toBe(b.hash('ab12-cd34-ef56'));
  });
});
