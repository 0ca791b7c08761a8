import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Client, Session, startApi, type TestApi } from '@test/support/api';

describe('API conventions', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  describe('Idempotency-Key', () => {
    it('two concurrent POSTs with one key create one object and both get its response', async () => {
      const headers = { 'Idempotency-Key': 'create-acme-1' };
      const [a, b] = await Promise.all([
        reseller.admin.post('/v1/tenants', { name: 'Once Only' }, headers),
        reseller.admin.post('/v1/tenants', { name: 'Once Only' }, headers),
      ]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.id).toBe(b.body.id);
      expect(await db.prisma.tenant.count({ where: { name: 'Once Only' } })).toBe(1);
      const replay = await reseller.admin.post('/v1/tenants', { name: 'Once Only' }, headers);
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(a.body);
      expect(replay.headers.get('idempotency-replayed')).toBe('true');
    });

    it('refuses the same key for a different request, and keys are per credential', async () => {
      await reseller.admin.post('/v1/tenants', { name: 'First' }, { 'Idempotency-Key': 'k2' });
      const other = await reseller.admin.post('/v1/tenants', { name: 'Second' }, { 'Idempotency-Key': 'k2' });
      expect(other.status).toBe(422);
      expect(other.body.errors[0].field).toBe('Idempotency-Key');
      const anotherReseller = await sut.newReseller();
      const theirs = await anotherReseller.admin.post('/v1/tenants', { name: 'First' }, { 'Idempotency-Key': 'k2' });
      expect(theirs.status).toBe(201);
      expect(theirs.body.resellerId).toBe(anotherReseller.id);
    });

    it('keeps the first response sealed: a key shown once is not in the table in clear', async () => {
      const tenant = await sut.newTenant(reseller);
      const headers = { 'Idempotency-Key': 'key-once' };
      const created = await tenant.admin.post(
        `/v1/tenants/${tenant.id}/api-keys`,
        { name: 'once', scopes: ['tenants:read'] },
        headers,
      );
      const replay = await tenant.admin.post(
        `/v1/tenants/${tenant.id}/api-keys`,
        { name: 'once', scopes: ['tenants:read'] },
        headers,
      );
      expect(replay.body.key).toBe(created.body.key);
      const rows = await db.prisma.$queryRaw<
        { body: string }[]
      >`SELECT response_body::text AS body FROM idempotency_keys WHERE key = 'key-once'`;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.body).not.toContain(created.body.key.slice('mr_'.length + 12 + 1));
    });

    it('does not keep a failed request, so it can be retried', async () => {
      const bad = await reseller.admin.post('/v1/tenants', { name: '' }, { 'Idempotency-Key': 'k3' });
      expect(bad.status).toBe(422);
      const good = await reseller.admin.post('/v1/tenants', { name: 'Fixed' }, { 'Idempotency-Key': 'k3' });
      expect(good.status).toBe(201);
    });
  });

  describe('rate limits per credential', () => {
    it('answers 429 with RateLimit headers and Retry-After past the limit', async () => {
      // Same MASTER_KEY, so the first app's access tokens are valid here too.
      const limited = await startApi(db, {
        API_RATE_LIMIT_PER_MINUTE: '3',
        MASTER_KEY: api.config.MASTER_KEY.toString('hex'),
      });
      try {
        const limitedClient = new Client(limited, reseller.admin.token);
        const statuses: number[] = [];
        let last;
        for (let i = 0; i < 4; i++) {
          last = await limitedClient.get('/v1/auth/me');
          statuses.push(last.status);
          if (i === 0) {
            expect(last.headers.get('ratelimit-limit')).toBe('3');
            expect(last.headers.get('ratelimit-remaining')).toBe('2');
          }
        }
        expect(statuses).toEqual([200, 200, 200, 429]);
        expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(last!.body.detail).toBe('Rate limit of 3 requests a minute reached for this credential.');
        // Another credential has its own budget.
        const other = await sut.newReseller();
        const otherClient = new Client(limited, other.admin.token);
        expect((await otherClient.get('/v1/auth/me')).status).toBe(200);
      } finally {
        await limited.close();
      }
    });
  });

  describe('audit log', () => {
    it('records each mutation with actor, target, redacted before/after, IP and request id; filters by action and actor', async () => {
      const tenant = await sut.newTenant(reseller);
      const created = await tenant.admin.post(
        `/v1/tenants/${tenant.id}/api-keys`,
        { name: 'audited', scopes: ['tenants:read'] },
        { 'X-Request-Id': 'req-audit-1' },
      );
      await tenant.admin.patch(`/v1/tenants/${tenant.id}`, { name: 'Audited Co' });
      const log = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=api_key.*`);
      expect(log.status).toBe(200);
      const entry = log.body.items.find((e: { targetId: string }) => e.targetId === created.body.id);
      expect(entry).toMatchObject({
        action: 'api_key.create',
        actorType: 'user',
        actorLabel: tenant.adminEmail,
        targetType: 'api_key',
        ip: '127.0.0.1',
        requestId: 'req-audit-1',
      });
      expect(JSON.stringify(log.body)).not.toContain(created.body.key);
      const update = (await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=tenant.update`)).body.items[0];
      expect(update.before.name).not.toBe('Audited Co');
      expect(update.after.name).toBe('Audited Co');
      const mine = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?actor=${update.actorId}`);
      expect(mine.body.items.every((e: { actorId: string }) => e.actorId === update.actorId)).toBe(true);
      const users = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=user.create`);
      expect(users.body.items.length).toBe(2);
      expect(JSON.stringify(users.body)).not.toMatch(/argon2/);
      const future = await tenant.admin.get(
        `/v1/tenants/${tenant.id}/audit-log?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      );
      expect(future.body.items).toEqual([]);
    });
  });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3.1 document at /openapi.json and docs at /docs', async () => {
      const doc = await sut.anonymous().get('/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toBe('3.1.0');
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining(['/v1/auth/login', '/v1/tenants/{tenantId}', '/v1/api-keys']),
      );
      const ref = doc.body.paths['/v1/auth/login'].post.requestBody.content['application/json'].schema.$ref as string;
      const schema = doc.body.components.schemas[ref.split('/').pop()!];
      expect(schema.required).toEqual(['email', 'password']);
      expect(schema.additionalProperties).toBe(false);
      const docs = await fetch(`${api.url}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
    });
  });
});
