import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { getFrom, startApiWithTenantKey, type TestApi } from '@test/support/api';

// TRUST_PROXY as a list (here the one proxy 127.0.0.2): X-Forwarded-For is believed from it
// and from no other peer, so a client reaching the API directly cannot pick its own address.
describe('API behind a proxy named in TRUST_PROXY', () => {
  let db: TestDatabase;
  let api: TestApi;
  let key: string;
  let path: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ api, key, path } = await startApiWithTenantKey(
      db,
      { TRUST_PROXY: '127.0.0.2' },
      { name: 'office', scopes: ['tenants:read'], ipAllowlist: ['203.0.113.0/24'] },
    ));
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('takes the client address from X-Forwarded-For sent by the trusted proxy', async () => {
    const res = await getFrom(api, path, '127.0.0.2', {
      authorization: `Bearer ${key}`,
      'x-forwarded-for': '203.0.113.9',
    });
    expect(res.status).toBe(200);
  });

  it('ignores X-Forwarded-For from any other peer', async () => {
    const res = await getFrom(api, path, '127.0.0.3', {
      authorization: `Bearer ${key}`,
      'x-forwarded-for': '203.0.113.9',
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ detail: 'This API key may not be used from 127.0.0.3.' });
  });
});
