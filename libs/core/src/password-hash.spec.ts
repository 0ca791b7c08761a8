import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { PASSWORD_HASH_OPTIONS, passwordNeedsRehash } from './index';

describe('password hashes', () => {
  it('writes argon2id at OWASP parameters and keeps them', async () => {
    const hash = await argon2.hash('a password long enough', PASSWORD_HASH_OPTIONS);
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(argon2.needsRehash(hash, PASSWORD_HASH_OPTIONS)).toBe(false);
    expect(passwordNeedsRehash(hash)).toBe(false);
    expect(await argon2.verify(hash, 'a password long enough')).toBe(true);
  });

  it('asks to rehash argon2 defaults, other variants and anything that is not a PHC string', async () => {
    const old = await argon2.hash('a password long enough', { type: argon2.argon2id });
    expect(argon2.needsRehash(old, PASSWORD_HASH_OPTIONS)).toBe(true);
    expect(passwordNeedsRehash(old)).toBe(true);
    const argon2i = await argon2.hash('a password long enough', { ...PASSWORD_HASH_OPTIONS, type: argon2.argon2i });
    expect(passwordNeedsRehash(argon2i)).toBe(true);
    expect(passwordNeedsRehash('')).toBe(true);
    expect(passwordNeedsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
  });
});
