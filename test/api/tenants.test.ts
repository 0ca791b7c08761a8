import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session, startApi, type TestApi } from '../support/api';

describe('tenants', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    reseller = await sut.newReseller(8);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('a reseller creates a tenant with plan limits and sees its usage', async () => {
    const created = await reseller.admin.post('/v1/tenants', {
      name: 'Acme',
      limits: { maxDomains: 3, maxMailboxes: 20, storageQuotaBytes: 5_000_000_000 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Acme',
      resellerId: reseller.id,
      status: 'active',
      limits: { maxDomains: 3, maxMailboxes: 20, storageQuotaBytes: 5_000_000_000 },
    });
    const id = created.body.id as string;
    const domain = await db.prisma.domain.create({
      data: { tenantId: id, name: 'acme.example', unicodeName: 'acme.example', ownershipToken: 't' },
    });
    const mailbox = await db.prisma.mailbox.create({
      data: { tenantId: id, domainId: domain.id, localPart: 'a', passwordHash: 'x', usedBytes: 1234n },
    });
    await db.prisma.mailbox.create({
      data: { tenantId: id, domainId: domain.id, localPart: 'gone', passwordHash: 'x', status: 'deleted' },
    });
    const folder = await db.prisma.folder.create({
      data: { tenantId: id, mailboxId: mailbox.id, name: 'INBOX', kind: 'inbox' },
    });
    await db.prisma.messageBlob.create({ data: { tenantId: id, sha256: 'ab', size: 10 } });
    await db.prisma.message.create({
      data: {
        tenantId: id,
        mailboxId: mailbox.id,
        folderId: folder.id,
        blobSha256: 'ab',
        uid: 1,
        size: 10,
        envelopeFrom: 'x@y',
        envelopeTo: 'a@acme.example',
      },
    });
    await db.prisma.outboundMessage.create({
      data: {
        tenantId: id,
        kind: 'submission',
        envelopeFrom: 'a@acme.example',
        fromDomain: 'acme.example',
        blobSha256: 'ab',
        size: 10,
      },
    });
    const got = await reseller.admin.get(`/v1/tenants/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.usage).toEqual({
      domains: 1,
      mailboxes: 1,
      storageBytes: 1234,
      messagesIn24h: 1,
      messagesOut24h: 1,
    });
  });

  it('lists with cursor pagination in a stable order, with filters', async () => {
    const other = await sut.newReseller();
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await other.admin.post('/v1/tenants', { name: `Page ${i}` });
      names.push(t.body.name);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { name: string }[]; nextCursor: string | null } } =
        await other.admin.get(`/v1/tenants?limit=2&sort=name${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((t: { name: string }) => t.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(names);
    const filtered = await other.admin.get('/v1/tenants?q=page 3');
    expect(filtered.body.items.map((t: { name: string }) => t.name)).toEqual(['Page 3']);
    const badSort = await other.admin.get('/v1/tenants?sort=password');
    expect(badSort.status).toBe(422);
    expect(badSort.body.errors[0].field).toBe('sort');
    const badCursor = await other.admin.get('/v1/tenants?cursor=nonsense');
    expect(badCursor.status).toBe(422);
    expect(badCursor.body.errors[0].field).toBe('cursor');
  });

  it('enforces the reseller’s maxTenants with a 409 naming the limit', async () => {
    const small = await sut.newReseller(1);
    expect((await small.admin.post('/v1/tenants', { name: 'One' })).status).toBe(201);
    const second = await small.admin.post('/v1/tenants', { name: 'Two' });
    expect(second.status).toBe(409);
    expect(second.body.detail).toBe('Plan limit reached: maxTenants is 1 for this reseller.');
  });

  it('only the reseller sets plan limits; a tenant admin may rename', async () => {
    const tenant = await sut.newTenant(reseller);
    const limits = await tenant.admin.patch(`/v1/tenants/${tenant.id}`, { limits: { maxMailboxes: 100000 } });
    expect(limits.status).toBe(403);
    expect(limits.body.detail).toBe('Plan limits are set by your reseller.');
    const renamed = await tenant.admin.patch(`/v1/tenants/${tenant.id}`, { name: 'New Name' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('New Name');
    expect((await tenant.viewer.patch(`/v1/tenants/${tenant.id}`, { name: 'Viewer' })).status).toBe(403);
    expect((await tenant.admin.post('/v1/tenants', { name: 'Sibling' })).status).toBe(403);
  });

  it('a suspended tenant’s writes answer 423 while reads work; resume lifts it', async () => {
    const tenant = await sut.newTenant(reseller);
    const suspended = await reseller.admin.post(`/v1/tenants/${tenant.id}/suspend`, { reason: 'unpaid invoice' });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoice' });
    const write = await tenant.admin.post(`/v1/tenants/${tenant.id}/api-keys`, { name: 'x', scopes: ['tenants:read'] });
    expect(write.status).toBe(423);
    expect(write.body.detail).toMatch(/is suspended: changes are refused until it is resumed; reads still work/);
    expect((await tenant.admin.patch(`/v1/tenants/${tenant.id}`, { name: 'x' })).status).toBe(423);
    expect((await tenant.key.post('/v1/api-keys', { name: 'x', scopes: ['tenants:read'] })).status).toBe(423);
    expect((await tenant.admin.get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
    expect((await tenant.admin.post(`/v1/tenants/${tenant.id}/resume`)).status).toBe(403);
    expect((await reseller.admin.post(`/v1/tenants/${tenant.id}/resume`)).status).toBe(200);
    expect((await tenant.admin.patch(`/v1/tenants/${tenant.id}`, { name: 'Back' })).status).toBe(200);
    expect((await reseller.admin.post(`/v1/tenants/${tenant.id}/resume`)).status).toBe(409);
  });

  it('deletion hides the tenant from its own users until the reseller restores it', async () => {
    const tenant = await sut.newTenant(reseller);
    const deleted = await reseller.admin.delete(`/v1/tenants/${tenant.id}`);
    expect(deleted.status).toBe(202);
    expect(deleted.body.status).toBe('deleted');
    expect(new Date(deleted.body.purgeAfter).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect((await tenant.admin.get(`/v1/tenants/${tenant.id}`)).status).toBe(404);
    expect((await tenant.key.get(`/v1/tenants/${tenant.id}`)).status).toBe(401);
    expect((await reseller.admin.get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
    expect((await reseller.admin.post(`/v1/tenants/${tenant.id}/restore`)).status).toBe(200);
    expect((await tenant.admin.get(`/v1/tenants/${tenant.id}`)).status).toBe(200);
    // Past the grace period the purge has begun: no restore.
    await reseller.admin.delete(`/v1/tenants/${tenant.id}`);
    await db.prisma.tenant.update({ where: { id: tenant.id }, data: { purgeAfter: new Date(Date.now() - 1000) } });
    const late = await reseller.admin.post(`/v1/tenants/${tenant.id}/restore`);
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/can no longer be restored/);
  });

  it('names every invalid field, and refuses unknown ones', async () => {
    const res = await reseller.admin.post('/v1/tenants', {
      name: '',
      limits: { maxDomains: -1, seats: 3 },
      plan: 'gold',
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'limits.maxDomains',
      'limits.seats',
      'name',
      'plan',
    ]);
  });
});
