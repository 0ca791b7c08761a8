import { createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';
import type { AccessService } from './access-types';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** 16 lower-case letters, as shown (4 groups of 4) or typed without the spaces. */
const SHAPE = /^[a-z]{16}$/;

export interface NewAppPassword {
  /** Shown once, as `abcd efgh ijkl mnop`. */
  password: string;
  /** Stored: HMAC-SHA256 of the 16 letters, hex. */
  secretHash: string;
}

/** The key app passwords are hashed with, derived from MASTER_KEY (one secret to manage). */
export function appPasswordKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mailroom app-password v1', 32));
}

/**
 * A new app password: 16 random letters (75 bits), shown in groups of four as Google does. The
 * secret is random, so a keyed fast hash is right (as for API keys): nothing to guess, and a
 * login finds it with one indexed lookup instead of an argon2 run per app password.
 */
export function generateAppPassword(key: Buffer): NewAppPassword {
  let letters = '';
  for (let i = 0; i < 16; i++) letters += LETTERS[randomInt(26)];
  const password = letters.match(/.{4}/g)!.join(' ');
  return { password, secretHash: hashAppPassword(key, letters) };
}

/** The 16 letters of what a client sent, spaces and case ignored; null when it cannot be one. */
export function appPasswordLetters(typed: string): string | null {
  const letters = typed.replace(/[\s-]/g, '').toLowerCase();
  return SHAPE.test(letters) ? letters : null;
}

export function hashAppPassword(key: Buffer, letters: string): string {
  return createHmac('sha256', key).update(letters, 'utf8').digest('hex');
}

export function appPasswordMatches(key: Buffer, letters: string, storedHash: string): boolean {
  const a = Buffer.from(hashAppPassword(key, letters), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export const APP_PASSWORD_PROTOCOLS: readonly AccessService[] = ['imap', 'pop3', 'smtp'];
