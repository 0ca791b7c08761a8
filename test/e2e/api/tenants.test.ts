import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import type { ApiSchema } from '@mailroom/api-client';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';

const at = (tenantId: string) => ({ params: { path: { tenantId } } });
const getTenant = (caller: Client, tenantId: string) => caller.typed.GET('/v1/tenants/{tenantId}', at(tenantId));
const renameTenant = (caller: Client, tenantId: string, name: string) =>
  caller.typed.PATCH('/v1/tenants/{tenantId}', { ...at(tenantId), body: { name } });
const resume = (caller: Client, tenantId: string) => caller.typed.POST('/v1/tenants/{tenantId}/resume', at(tenantId));
const restore = (caller: Client, tenantId: string) => caller.typed.POST('/v1/tenants/{tenantId}/restore', at(tenantId));
const remove = (caller: Client, tenantId: string) => caller.typed.DELETE('/v1/tenants/{tenantId}', at(tenantId));

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
    const created = expectStatus(
      await reseller.admin.typed.POST('/v1/tenants', {
        body: { name: 'Acme', limits: { maxDomains: 3, maxMailboxes: 20, storageQuotaBytes: 5_000_000_000 } },
      }),
      201,
    );
    expect(created).toMatchObject({
      name: 'Acme',
      resellerId: reseller.id,
      status: 'active',
      limits: { maxDomains: 3, maxMailboxes: 20, storageQuotaBytes: 5_000_000_000 },
    });
    const id = created.id;
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
    const got = expectStatus(await getTenant(reseller.admin, id), 200);
    expect(got.usage).toEqual({
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
      const t = expectStatus(await other.admin.typed.POST('/v1/tenants', { body: { name: `Page ${i}` } }), 201);
      names.push(t.name);
    }
    const list = (query: { limit?: number; sort?: string; cursor?: string; q?: string }) =>
      other.admin.typed.GET('/v1/tenants', { params: { query } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiSchema<'TenantPage'> = expectStatus(
        await list({ limit: 2, sort: 'name', ...(cursor ? { cursor } : {}) }),
        200,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(names);
    const filtered = expectStatus(await list({ q: 'page 3' }), 200);
    expect(filtered.items.map((t) => t.name)).toEqual(['Page 3']);
    expect(expectProblem(await list({ sort: 'password' }), 422).errors?.[0]?.field).toBe('sort');
    expect(expectProblem(await list({ cursor: 'nonsense' }), 422).errors?.[0]?.field).toBe('cursor');
  });

  it('enforces the reseller’s maxTenants with a 409 naming the limit', async () => {
    const small = await sut.newReseller(1);
    expectStatus(await small.admin.typed.POST('/v1/tenants', { body: { name: 'One' } }), 201);
    const second = expectProblem(await small.admin.typed.POST('/v1/tenants', { body: { name: 'Two' } }), 409);
    expect(second.detail).toBe('Plan limit reached: maxTenants is 1 for this reseller.');
  });

  it('only the reseller sets plan limits; a tenant admin may rename', async () => {
    const tenant = await sut.newTenant(reseller);
    const limits = await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}', {
      ...at(tenant.id),
      body: { limits: { maxMailboxes: 100000 } },
    });
    expect(expectProblem(limits, 403).detail).toBe('Plan limits are set by your reseller.');
    const renamed = expectStatus(await renameTenant(tenant.admin, tenant.id, 'New Name'), 200);
    expect(renamed.name).toBe('New Name');
    expectProblem(await renameTenant(tenant.viewer, tenant.id, 'Viewer'), 403);
    expectProblem(await tenant.admin.typed.POST('/v1/tenants', { body: { name: 'Sibling' } }), 403);
  });

  it('a suspended tenant’s writes answer 423 while reads work; resume lifts it', async () => {
    const tenant = await sut.newTenant(reseller);
    const suspended = await reseller.admin.typed.POST('/v1/tenants/{tenantId}/suspend', {
      ...at(tenant.id),
      body: { reason: 'unpaid invoice' },
    });
    expect(expectStatus(suspended, 200)).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoice' });
    const write = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
      ...at(tenant.id),
      body: { name: 'x', scopes: ['tenants:read'] },
    });
    expect(expectProblem(write, 423).detail).toMatch(
      /is suspended: changes are refused until it is resumed; reads still work/,
    );
    expectProblem(await renameTenant(tenant.admin, tenant.id, 'x'), 423);
    expectProblem(await tenant.key.typed.POST('/v1/api-keys', { body: { name: 'x', scopes: ['tenants:read'] } }), 423);
    expectStatus(await getTenant(tenant.admin, tenant.id), 200);
    expectProblem(await resume(tenant.admin, tenant.id), 403);
    expectStatus(await resume(reseller.admin, tenant.id), 200);
    expectStatus(await renameTenant(tenant.admin, tenant.id, 'Back'), 200);
    expectProblem(await resume(reseller.admin, tenant.id), 409);
  });

  it('deletion hides the tenant from its own users until the reseller restores it', async () => {
    const tenant = await sut.newTenant(reseller);
    const deleted = expectStatus(await remove(reseller.admin, tenant.id), 202);
    expect(deleted.status).toBe('deleted');
    expect(new Date(deleted.purgeAfter ?? 0).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expectProblem(await getTenant(tenant.admin, tenant.id), 404);
    expectProblem(await getTenant(tenant.key, tenant.id), 401);
    expectStatus(await getTenant(reseller.admin, tenant.id), 200);
    expectStatus(await restore(reseller.admin, tenant.id), 200);
    expectStatus(await getTenant(tenant.admin, tenant.id), 200);
    // Past the grace period the purge has begun: no restore.
    await remove(reseller.admin, tenant.id);
    await db.prisma.tenant.update({ where: { id: tenant.id }, data: { purgeAfter: new Date(Date.now() - 1000) } });
    expect(expectProblem(await restore(reseller.admin, tenant.id), 409).detail).toMatch(/can no longer be restored/);
  });

  it('names every invalid field, and refuses unknown ones', async () => {
    // Raw: unknown fields (seats, plan) on purpose, which the typed client would not send.
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
