import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { PASSWORD_HASH_OPTIONS, passwordNeedsRehash, withPasswordHashSlot } from './index';

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

  it('runs at most `limit` hashes at once, in arrival order, and frees a slot when one fails', async () => {
    let now = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      most = Math.max(most, ++now);
      await new Promise((resolve) => setTimeout(resolve, 5));
      now -= 1;
      if (i === 1) throw new Error('bad hash');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => withPasswordHashSlot(task(i), 2)));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    // Every slot came back: two more run at once again.
    most = 0;
    await Promise.all([5, 6].map((i) => withPasswordHashSlot(task(i), 2)));
    expect(most).toBe(2);
  });
});
