import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Client, expectProblem, expectStatus, Session, startApi, type TestApi } from '@test/support/api';

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

  // Idempotency-Key is a request header the document does not list per route; openapi-fetch sends it as given.
  const createTenant = (caller: Client, name: string, key: string) =>
    caller.typed.POST('/v1/tenants', { body: { name }, headers: { 'Idempotency-Key': key } });
  type Tenant = Awaited<ReturnType<Session['newTenant']>>;
  const auditLog = async (tenant: Tenant, query: { action?: string; actor?: string; from?: string }) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query },
      }),
      200,
    );

  describe('Idempotency-Key', () => {
    it('two concurrent POSTs with one key create one object and both get its response', async () => {
      const [a, b] = await Promise.all([
        createTenant(reseller.admin, 'Once Only', 'create-acme-1'),
        createTenant(reseller.admin, 'Once Only', 'create-acme-1'),
      ]);
      expect([a.response.status, b.response.status]).toEqual([201, 201]);
      expect(expectStatus(a, 201).id).toBe(expectStatus(b, 201).id);
      expect(await db.prisma.tenant.count({ where: { name: 'Once Only' } })).toBe(1);
      const replay = await createTenant(reseller.admin, 'Once Only', 'create-acme-1');
      expect(expectStatus(replay, 201)).toEqual(a.data);
      expect(replay.response.headers.get('idempotency-replayed')).toBe('true');
    });

    it('refuses the same key for a different request, and keys are per credential', async () => {
      await createTenant(reseller.admin, 'First', 'k2');
      const other = expectProblem(await createTenant(reseller.admin, 'Second', 'k2'), 422);
      expect(other.errors?.[0]?.field).toBe('Idempotency-Key');
      const anotherReseller = await sut.newReseller();
      const theirs = expectStatus(await createTenant(anotherReseller.admin, 'First', 'k2'), 201);
      expect(theirs.resellerId).toBe(anotherReseller.id);
    });

    it('keeps the first response sealed: a key shown once is not in the table in clear', async () => {
      const tenant = await sut.newTenant(reseller);
      const createKey = () =>
        tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
          params: { path: { tenantId: tenant.id } },
          body: { name: 'once', scopes: ['tenants:read'] },
          headers: { 'Idempotency-Key': 'key-once' },
        });
      const created = expectStatus(await createKey(), 201);
      const replay = expectStatus(await createKey(), 201);
      expect(replay.key).toBe(created.key);
      const rows = await db.prisma.$queryRaw<
        { body: string }[]
      >`SELECT response_body::text AS body FROM idempotency_keys WHERE key = 'key-once'`;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.body).not.toContain(created.key.slice('mr_'.length + 12 + 1));
    });

    it('does not keep a failed request, so it can be retried', async () => {
      expectProblem(await createTenant(reseller.admin, '', 'k3'), 422);
      expectStatus(await createTenant(reseller.admin, 'Fixed', 'k3'), 201);
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
          last = await limitedClient.typed.GET('/v1/auth/me');
          statuses.push(last.response.status);
          if (i === 0) {
            expect(last.response.headers.get('ratelimit-limit')).toBe('3');
            expect(last.response.headers.get('ratelimit-remaining')).toBe('2');
          }
        }
        expect(statuses).toEqual([200, 200, 200, 429]);
        expect(Number(last!.response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(expectProblem(last!, 429).detail).toBe('Rate limit of 3 requests a minute reached for this credential.');
        // Another credential has its own budget.
        const other = await sut.newReseller();
        const otherClient = new Client(limited, other.admin.token);
        expectStatus(await otherClient.typed.GET('/v1/auth/me'), 200);
      } finally {
        await limited.close();
      }
    });
  });

  describe('audit log', () => {
    it('records each mutation with actor, target, redacted before/after, IP and request id; filters by action and actor', async () => {
      const tenant = await sut.newTenant(reseller);
      const created = expectStatus(
        await tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
          params: { path: { tenantId: tenant.id } },
          body: { name: 'audited', scopes: ['tenants:read'] },
          headers: { 'X-Request-Id': 'req-audit-1' },
        }),
        201,
      );
      expectStatus(
        await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}', {
          params: { path: { tenantId: tenant.id } },
          body: { name: 'Audited Co' },
        }),
        200,
      );
      const log = await auditLog(tenant, { action: 'api_key.*' });
      const entry = log.items.find((e) => e.targetId === created.id);
      expect(entry).toMatchObject({
        action: 'api_key.create',
        actorType: 'user',
        actorLabel: tenant.adminEmail,
        targetType: 'api_key',
        ip: '127.0.0.1',
        requestId: 'req-audit-1',
      });
      expect(JSON.stringify(log)).not.toContain(created.key);
      const update = (await auditLog(tenant, { action: 'tenant.update' })).items[0]!;
      // before/after are any JSON (the audited object), so the document cannot type them further.
      expect((update.before as { name: string }).name).not.toBe('Audited Co');
      expect((update.after as { name: string }).name).toBe('Audited Co');
      const mine = await auditLog(tenant, { actor: update.actorId! });
      expect(mine.items.every((e) => e.actorId === update.actorId)).toBe(true);
      const users = await auditLog(tenant, { action: 'user.create' });
      expect(users.items.length).toBe(2);
      expect(JSON.stringify(users)).not.toMatch(/argon2/);
      const future = await auditLog(tenant, { from: new Date(Date.now() + 60_000).toISOString() });
      expect(future.items).toEqual([]);
    });
  });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3.1 document at /openapi.json and docs at /docs', async () => {
      // Raw: the document itself is served outside the contract it describes.
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
