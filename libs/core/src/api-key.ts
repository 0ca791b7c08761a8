import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `mr_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole key proves it. */
export const API_KEY_PATTERN = /^mr_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: string;
}

/**
 * Makes a key with 256 random bits. A fast hash is right here (unlike passwords): the secret is
 * random, so there is nothing to guess, and every request checks it.
 */
export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const key = `mr_${prefix}_${secret}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The prefix of a well-formed key, or null. */
export function apiKeyPrefix(key: string): string | null {
  return API_KEY_PATTERN.exec(key)?.[1] ?? null;
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
