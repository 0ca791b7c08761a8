import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session, startApi, type TestApi } from '../support/api';

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

  it('shows a new key once and stores only its hash', async () => {
    const created = await tenant.admin.post(keysPath(), { name: 'ci', scopes: ['tenants:read'] });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^mr_[a-z0-9]{12}_/);
    expect(created.body).toMatchObject({
      name: 'ci',
      ownerType: 'tenant',
      tenantId: tenant.id,
      scopes: ['tenants:read'],
      revokedAt: null,
    });
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.body.key.slice('mr_'.length + 12 + 1));
    const list = await tenant.admin.get(keysPath());
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(created.body.id);
  });

  it('authenticates with the key, limited to its scopes, and records when and where it was used', async () => {
    const created = await tenant.admin.post(keysPath(), { name: 'reader', scopes: ['tenants:read'] });
    const key = sut.withToken(created.body.key);
    expect((await key.get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
    const write = await key.patch(`/v1/tenants/${tenant.id}`, { name: 'Renamed' });
    expect(write.status).toBe(403);
    expect(write.body.detail).toBe('This credential lacks the scope tenants:write.');
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.lastUsedIp).toBe('127.0.0.1');
  });

  it('stops working the moment it is revoked', async () => {
    const created = await tenant.admin.post(keysPath(), { name: 'temp', scopes: ['tenants:read'] });
    const key = sut.withToken(created.body.key);
    expect((await key.get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
    expect((await tenant.admin.delete(`${keysPath()}/${created.body.id}`)).status).toBe(204);
    const after = await key.get(`/v1/tenants/${tenant.id}`);
    expect(after.status).toBe(401);
    expect(after.body.detail).toBe('The API key is invalid, expired or revoked.');
    expect((await tenant.admin.delete(`${keysPath()}/${created.body.id}`)).status).toBe(204);
  });

  it('refuses an expired key', async () => {
    const created = await tenant.admin.post(keysPath(), {
      name: 'soon',
      scopes: ['tenants:read'],
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await db.prisma.apiKey.update({ where: { id: created.body.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await sut.withToken(created.body.key).get(`/v1/tenants/${tenant.id}`)).status).toBe(401);
  });

  it('honours the IP allowlist', async () => {
    const elsewhere = await tenant.admin.post(keysPath(), {
      name: 'office',
      scopes: ['tenants:read'],
      ipAllowlist: ['203.0.113.0/24', '2001:db8::/32'],
    });
    expect(elsewhere.body.ipAllowlist).toEqual(['203.0.113.0/24', '2001:db8::/32']);
    const refused = await sut.withToken(elsewhere.body.key).get(`/v1/tenants/${tenant.id}`);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe('This API key may not be used from 127.0.0.1.');
    const here = await tenant.admin.post(keysPath(), {
      name: 'local',
      scopes: ['tenants:read'],
      ipAllowlist: ['127.0.0.0/8'],
    });
    expect((await sut.withToken(here.body.key).get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
  });

  it('names each bad field: unknown scope, bad CIDR, unknown domain, past expiry', async () => {
    const res = await tenant.admin.post(keysPath(), {
      name: 'bad',
      scopes: ['tenants:read', 'root:all'],
      expiresAt: '2001-01-01T00:00:00Z',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['expiresAt', 'scopes.1']);
    const cidr = await tenant.admin.post(keysPath(), {
      name: 'bad',
      scopes: ['tenants:read'],
      ipAllowlist: ['10.0.0.1/33'],
    });
    expect(cidr.status).toBe(422);
    expect(cidr.body.errors[0].field).toBe('ipAllowlist.0');
    const domain = await tenant.admin.post(keysPath(), {
      name: 'bad',
      scopes: ['tenants:read'],
      domains: ['allowed.example', 'other.example'],
    });
    expect(domain.status).toBe(422);
    expect(domain.body.errors).toEqual([
      { field: 'domains.1', message: 'other.example is not a domain of this tenant' },
    ]);
  });

  it('never mints a key broader than its creator', async () => {
    const narrow = await tenant.admin.post(keysPath(), {
      name: 'narrow',
      scopes: ['api-keys:write', 'tenants:read'],
      domains: ['allowed.example'],
    });
    const key = sut.withToken(narrow.body.key);
    const wider = await key.post(keysPath(), {
      name: 'wider',
      scopes: ['tenants:write'],
      domains: ['allowed.example'],
    });
    expect(wider.status).toBe(403);
    expect(wider.body.detail).toBe('A key cannot have scopes its creator lacks: tenants:write.');
    const allDomains = await key.post(keysPath(), { name: 'all-domains', scopes: ['tenants:read'] });
    expect(allDomains.status).toBe(403);
    const same = await key.post(keysPath(), { name: 'same', scopes: ['tenants:read'], domains: ['allowed.example'] });
    expect(same.status).toBe(201);
    expect(same.body.domains).toEqual(['allowed.example']);
  });

  it('a key made by a key inherits its expiry and network, and cannot widen them', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const parent = await tenant.admin.post(keysPath(), {
      name: 'ci',
      scopes: ['api-keys:write', 'tenants:read'],
      ipAllowlist: ['127.0.0.0/8'],
      expiresAt: expires,
    });
    const key = sut.withToken(parent.body.key);
    const child = await key.post(keysPath(), { name: 'child', scopes: ['tenants:read'] });
    expect(child.status).toBe(201);
    expect(child.body).toMatchObject({ ipAllowlist: ['127.0.0.0/8'], expiresAt: expires });
    const longer = await key.post(keysPath(), {
      name: 'longer',
      scopes: ['tenants:read'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(longer.status).toBe(403);
    const wider = await key.post(keysPath(), { name: 'wider', scopes: ['tenants:read'], ipAllowlist: ['0.0.0.0/0'] });
    expect(wider.status).toBe(403);
  });

  it('a limited key cannot turn itself into an admin login', async () => {
    const limited = await tenant.admin.post(keysPath(), {
      name: 'provision',
      scopes: ['tenants:write', 'tenants:read'],
    });
    const res = await sut.withToken(limited.body.key).post(`/v1/tenants/${tenant.id}/users`, {
      email: 'sneaky@example.com',
      password: 'a long enough password',
      role: 'tenant_admin',
    });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/cannot create admin users/);
    expect(await db.prisma.adminUser.count({ where: { email: 'sneaky@example.com' } })).toBe(0);
  });

  it('/v1/api-keys manages the caller’s own keys: a reseller’s at reseller level', async () => {
    const reseller = await sut.newReseller();
    const created = await reseller.admin.post('/v1/api-keys', {
      name: 'provisioning',
      scopes: ['tenants:write', 'tenants:read'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ownerType: 'reseller', resellerId: reseller.id, tenantId: null });
    const key = sut.withToken(created.body.key);
    const made = await key.post('/v1/tenants', { name: 'Made by a key' });
    expect(made.status).toBe(201);
    expect((await key.get(`/v1/tenants/${made.body.id}`)).status).toBe(200);
    expect((await reseller.admin.get('/v1/api-keys')).body.items).toHaveLength(1);
    expect((await reseller.admin.delete(`/v1/api-keys/${created.body.id}`)).status).toBe(204);
    expect((await key.get(`/v1/tenants/${made.body.id}`)).status).toBe(401);
  });

  it('lists keys page by page with a cursor', async () => {
    const first = await tenant.admin.get(`${keysPath()}?limit=1&sort=name`);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await tenant.admin.get(`${keysPath()}?limit=1&sort=name&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].name >= first.body.items[0].name).toBe(true);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
  });

  it('a viewer can list keys but not create or revoke them', async () => {
    expect((await tenant.viewer.get(keysPath())).status).toBe(200);
    expect((await tenant.viewer.post(keysPath(), { name: 'x', scopes: ['tenants:read'] })).status).toBe(403);
    expect((await tenant.viewer.delete(`${keysPath()}/${tenant.keyId}`)).status).toBe(403);
  });
});
