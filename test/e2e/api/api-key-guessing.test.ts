import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { getFrom, startApiWithTenantKey, type TestApi } from '@test/support/api';

// Guessing API keys is a login path too: after LOGIN_MAX_FAILURES_PER_IP wrong keys from one
// address, that address is refused (429 with Retry-After) even with a right key, so a guesser
// cannot tell a hit from a miss, while every other address goes on as before.
describe('API keys guessed from one address', () => {
  let db: TestDatabase;
  let api: TestApi;
  let key: string;
  let path: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ api, key, path } = await startApiWithTenantKey(
      db,
      { LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_LOCK_MINUTES: '2' },
      { name: 'office', scopes: ['tenants:read'] },
    ));
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
  // The right prefix with the wrong secret, and a well-formed key whose prefix names no key.
  const guesses = () => [`${key.slice(0, -4)}zzzz`, `mr_000000000000_${'A'.repeat(43)}`, `${key.slice(0, -4)}yyyy`];

  it('answers each wrong key with 401, then refuses the address, right key included, and no other', async () => {
    expect((await getFrom(api, path, '127.0.0.5', bearer(key))).status).toBe(200);
    for (const guess of guesses()) {
      const wrong = await getFrom(api, path, '127.0.0.5', bearer(guess));
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.body)).toMatchObject({ detail: 'The API key is invalid, expired or revoked.' });
    }

    const locked = await getFrom(api, path, '127.0.0.5', bearer(key));
    expect(locked.status).toBe(429);
    expect(locked.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(locked.body)).toMatchObject({
      status: 429,
      detail: 'Too many failed attempts from this address; try again later.',
    });
    // The window is LOGIN_LOCK_MINUTES from the first failure: at most 120 s, at least most of it.
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(100);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect((await getFrom(api, path, '127.0.0.5', bearer(guesses()[0]!))).status).toBe(429);

    expect((await getFrom(api, path, '127.0.0.6', bearer(key))).status).toBe(200);
  });
});
