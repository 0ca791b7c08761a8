import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238's defaults, the only ones every authenticator app reads: SHA-1, 6 digits, 30 s. */
const PERIOD_SECONDS = 30;
const ISSUER = 'Mailroom';

function totp(secretBase32: string, label = ''): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new TOTP secret: 160 random bits (RFC 4226 §4 recommends 160), in base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app scans (Key Uri Format, as Google Authenticator reads it). */
export function totpUri(secretBase32: string, account: string): string {
  return totp(secretBase32, account).toString();
}

/** True for something shaped like a TOTP code (six digits, spaces allowed). */
export function looksLikeTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code.replace(/\s+/g, ''));
}

/**
 * The time step a code is good for, or null. One step either side is accepted for clock drift
 * (RFC 6238 §5.2); the caller must refuse a step at or below the last one it accepted, so a code
 * seen once (shoulder-surfed, phished, replayed) is spent.
 */
export function totpStep(secretBase32: string, code: string, now = Date.now()): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totp(secretBase32).validate({ token, timestamp: now, window: 1 });
  if (delta === null) return null;
  return Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}

/** The current code of a secret (tests and the seed's demo admin only). */
export function totpCode(secretBase32: string, now = Date.now()): string {
  return totp(secretBase32).generate({ timestamp: now });
}

// Crockford's base32 without I, L, O, U: nothing to misread when typed from paper.
const CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_COUNT = 10;

/** Ten new recovery codes, `xxxx-xxxx-xxxx`: 60 random bits each. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: 12 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
  });
}

/** A typed recovery code as stored: lower case, no dashes or spaces, o→0 and i/l→1 as Crockford reads them. */
export function normaliseRecoveryCode(code: string): string {
  return code
    .toLowerCase()
    .replace(/[\s-]+/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
}

/**
 * The stored form of a recovery code: HMAC-SHA256 under a key derived from MASTER_KEY. A keyed
 * hash, not argon2: the codes are 60 random bits (nothing to guess offline without the key, unlike
 * a password), guesses online are throttled like passwords, and a keyed hash is found with one
 * indexed lookup instead of ten argon2 verifications per attempt.
 */
export class RecoveryCodeHasher {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mailroom mfa recovery v1', 32));
  }

  hash(code: string): string {
    return createHmac('sha256', this.key).update(normaliseRecoveryCode(code), 'utf8').digest('hex');
  }
}
