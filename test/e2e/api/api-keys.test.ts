import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import type { ApiSchema } from '@mailroom/api-client';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';

describe('API keys', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
    await db.prisma.domain.create({
      data: { tenantId: tenant.id, name: 'allowed.example', unicodeName: 'allowed.example', ownershipToken: 't' },
    });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const keysPath = () => `/v1/tenants/${tenant.id}/api-keys`;
  const tenantPath = () => ({ params: { path: { tenantId: tenant.id } } });
  const createKey = (caller: Client, body: ApiSchema<'CreateApiKeyDto'>) =>
    caller.typed.POST('/v1/tenants/{tenantId}/api-keys', { ...tenantPath(), body });
  const readTenant = (caller: Client) => caller.typed.GET('/v1/tenants/{tenantId}', tenantPath());
  const revoke = (caller: Client, keyId: string) =>
    caller.typed.DELETE('/v1/tenants/{tenantId}/api-keys/{keyId}', {
      params: { path: { tenantId: tenant.id, keyId } },
    });

  it('shows a new key once and stores only its hash', async () => {
    const created = expectStatus(await createKey(tenant.admin, { name: 'ci', scopes: ['tenants:read'] }), 201);
    expect(created.key).toMatch(/^mr_[a-z0-9]{12}_/);
    expect(created).toMatchObject({
      name: 'ci',
      ownerType: 'tenant',
      tenantId: tenant.id,
      scopes: ['tenants:read'],
      revokedAt: null,
    });
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.key.slice('mr_'.length + 12 + 1));
    const list = expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/api-keys', tenantPath()), 200);
    expect(JSON.stringify(list)).not.toContain(created.key);
    expect(list.items.map((k) => k.id)).toContain(created.id);
  });

  it('authenticates with the key, limited to its scopes, and records when and where it was used', async () => {
    const created = expectStatus(await createKey(tenant.admin, { name: 'reader', scopes: ['tenants:read'] }), 201);
    const key = sut.withToken(created.key);
    expectStatus(await readTenant(key), 200);
    const write = await key.typed.PATCH('/v1/tenants/{tenantId}', { ...tenantPath(), body: { name: 'Renamed' } });
    expect(expectProblem(write, 403).detail).toBe('This credential lacks the scope tenants:write.');
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.lastUsedIp).toBe('127.0.0.1');
  });

  it('authenticates a key whose lists are NULL, as `mailroom seed` and the CLI store them', async () => {
    const created = expectStatus(await createKey(tenant.admin, { name: 'seeded', scopes: ['tenants:read'] }), 201);
    // The CLI creates keys through Prisma without domains or an allowlist: the columns are NULL.
    await db.prisma.$executeRaw`UPDATE api_keys SET domains = NULL, ip_allowlist = NULL WHERE id = ${created.id}::uuid`;
    expectStatus(await readTenant(sut.withToken(created.key)), 200);
  });

  it('stops working the moment it is revoked', async () => {
    const created = expectStatus(await createKey(tenant.admin, { name: 'temp', scopes: ['tenants:read'] }), 201);
    const key = sut.withToken(created.key);
    expectStatus(await readTenant(key), 200);
    expectStatus(await revoke(tenant.admin, created.id), 204);
    expect(expectProblem(await readTenant(key), 401).detail).toBe('The API key is invalid, expired or revoked.');
    expectStatus(await revoke(tenant.admin, created.id), 204);
  });

  it('refuses an expired key', async () => {
    const created = expectStatus(
      await createKey(tenant.admin, {
        name: 'soon',
        scopes: ['tenants:read'],
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      }),
      201,
    );
    await db.prisma.apiKey.update({ where: { id: created.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expectProblem(await readTenant(sut.withToken(created.key)), 401);
  });

  it('honours the IP allowlist', async () => {
    const elsewhere = expectStatus(
      await createKey(tenant.admin, {
        name: 'office',
        scopes: ['tenants:read'],
        ipAllowlist: ['203.0.113.0/24', '2001:db8::/32'],
      }),
      201,
    );
    expect(elsewhere.ipAllowlist).toEqual(['203.0.113.0/24', '2001:db8::/32']);
    const refused = expectProblem(await readTenant(sut.withToken(elsewhere.key)), 403);
    expect(refused.detail).toBe('This API key may not be used from 127.0.0.1.');
    const here = expectStatus(
      await createKey(tenant.admin, { name: 'local', scopes: ['tenants:read'], ipAllowlist: ['127.0.0.0/8'] }),
      201,
    );
    expectStatus(await readTenant(sut.withToken(here.key)), 200);
  });

  it('names each bad field: unknown scope, bad CIDR, unknown domain, past expiry', async () => {
    // Raw: 'root:all' is not a scope, so the typed client would not let it be sent.
    const res = await tenant.admin.post(keysPath(), {
      name: 'bad',
      scopes: ['tenants:read', 'root:all'],
      expiresAt: '2001-01-01T00:00:00Z',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['expiresAt', 'scopes.1']);
    const cidr = expectProblem(
      await createKey(tenant.admin, { name: 'bad', scopes: ['tenants:read'], ipAllowlist: ['10.0.0.1/33'] }),
      422,
    );
    expect(cidr.errors?.[0]?.field).toBe('ipAllowlist.0');
    const domain = expectProblem(
      await createKey(tenant.admin, {
        name: 'bad',
        scopes: ['tenants:read'],
        domains: ['allowed.example', 'other.example'],
      }),
      422,
    );
    expect(domain.errors).toEqual([{ field: 'domains.1', message: 'other.example is not a domain of this tenant' }]);
  });

  it('never mints a key broader than its creator', async () => {
    const narrow = expectStatus(
      await createKey(tenant.admin, {
        name: 'narrow',
        scopes: ['api-keys:write', 'tenants:read'],
        domains: ['allowed.example'],
      }),
      201,
    );
    const key = sut.withToken(narrow.key);
    const wider = expectProblem(
      await createKey(key, { name: 'wider', scopes: ['tenants:write'], domains: ['allowed.example'] }),
      403,
    );
    expect(wider.detail).toBe('A key cannot have scopes its creator lacks: tenants:write.');
    expectProblem(await createKey(key, { name: 'all-domains', scopes: ['tenants:read'] }), 403);
    const same = expectStatus(
      await createKey(key, { name: 'same', scopes: ['tenants:read'], domains: ['allowed.example'] }),
      201,
    );
    expect(same.domains).toEqual(['allowed.example']);
  });

  it('a key made by a key inherits its expiry and network, and cannot widen them', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const parent = expectStatus(
      await createKey(tenant.admin, {
        name: 'ci',
        scopes: ['api-keys:write', 'tenants:read'],
        ipAllowlist: ['127.0.0.0/8'],
        expiresAt: expires,
      }),
      201,
    );
    const key = sut.withToken(parent.key);
    const child = expectStatus(await createKey(key, { name: 'child', scopes: ['tenants:read'] }), 201);
    expect(child).toMatchObject({ ipAllowlist: ['127.0.0.0/8'], expiresAt: expires });
    const longer = await createKey(key, {
      name: 'longer',
      scopes: ['tenants:read'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expectProblem(longer, 403);
    expectProblem(await createKey(key, { name: 'wider', scopes: ['tenants:read'], ipAllowlist: ['0.0.0.0/0'] }), 403);
  });

  it('a limited key cannot turn itself into an admin login', async () => {
    const limited = expectStatus(
      await createKey(tenant.admin, { name: 'provision', scopes: ['tenants:write', 'tenants:read'] }),
      201,
    );
    const res = await sut.withToken(limited.key).typed.POST('/v1/tenants/{tenantId}/users', {
      ...tenantPath(),
      body: { email: 'sneaky@example.com', password: 'a long enough password', role: 'tenant_admin' },
    });
    expect(expectProblem(res, 403).detail).toMatch(/cannot create admin users/);
    expect(await db.prisma.adminUser.count({ where: { email: 'sneaky@example.com' } })).toBe(0);
  });

  it('/v1/api-keys manages the caller’s own keys: a reseller’s at reseller level', async () => {
    const reseller = await sut.newReseller();
    const created = expectStatus(
      await reseller.admin.typed.POST('/v1/api-keys', {
        body: { name: 'provisioning', scopes: ['tenants:write', 'tenants:read'] },
      }),
      201,
    );
    expect(created).toMatchObject({ ownerType: 'reseller', resellerId: reseller.id, tenantId: null });
    const key = sut.withToken(created.key);
    const made = expectStatus(await key.typed.POST('/v1/tenants', { body: { name: 'Made by a key' } }), 201);
    const madePath = { params: { path: { tenantId: made.id } } };
    expectStatus(await key.typed.GET('/v1/tenants/{tenantId}', madePath), 200);
    expect(expectStatus(await reseller.admin.typed.GET('/v1/api-keys'), 200).items).toHaveLength(1);
    const revoked = await reseller.admin.typed.DELETE('/v1/api-keys/{keyId}', {
      params: { path: { keyId: created.id } },
    });
    expectStatus(revoked, 204);
    expectProblem(await key.typed.GET('/v1/tenants/{tenantId}', madePath), 401);
  });

  it('lists keys page by page with a cursor', async () => {
    const page = (cursor?: string) =>
      tenant.admin.typed.GET('/v1/tenants/{tenantId}/api-keys', {
        params: { path: { tenantId: tenant.id }, query: { limit: 1, sort: 'name', ...(cursor ? { cursor } : {}) } },
      });
    const first = expectStatus(await page(), 200);
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = expectStatus(await page(first.nextCursor ?? undefined), 200);
    expect(second.items).toHaveLength(1);
    expect(second.items[0]!.name >= first.items[0]!.name).toBe(true);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
  });

  it('a viewer can list keys but not create or revoke them', async () => {
    expectStatus(await tenant.viewer.typed.GET('/v1/tenants/{tenantId}/api-keys', tenantPath()), 200);
    expectProblem(await createKey(tenant.viewer, { name: 'x', scopes: ['tenants:read'] }), 403);
    expectProblem(await revoke(tenant.viewer, tenant.keyId), 403);
  });
});
