import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import type { ApiSchema } from '@mailroom/api-client';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;
const GOOD = 'tangerine-orbit-42';

describe('aliases', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let tenant: Tenant;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller);
    await addDomain(db, tenant.id, 'shop.example');
    await addDomain(db, tenant.id, 'shop-two.example');
    for (const localPart of ['alice', 'bob']) {
      const res = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
        ...at(),
        body: { localPart, domain: 'shop.example', password: GOOD },
      });
      expectStatus(res, 201);
    }
    const other = await sut.newTenant(reseller);
    await addDomain(db, other.id, 'neighbour.example');
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const at = () => ({ params: { path: { tenantId: tenant.id } } });
  const one = (aliasId: string) => ({ params: { path: { tenantId: tenant.id, aliasId } } });
  const create = (body: ApiSchema<'CreateAliasDto'>) =>
    tenant.admin.typed.POST('/v1/tenants/{tenantId}/aliases', { ...at(), body: { domain: 'shop.example', ...body } });
  const get = (caller: Client, aliasId: string) =>
    caller.typed.GET('/v1/tenants/{tenantId}/aliases/{aliasId}', one(aliasId));
  const update = (aliasId: string, body: ApiSchema<'UpdateAliasDto'>) =>
    tenant.admin.typed.PATCH('/v1/tenants/{tenantId}/aliases/{aliasId}', { ...one(aliasId), body });
  const remove = (aliasId: string) =>
    tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/aliases/{aliasId}', one(aliasId));
  const list = async (query: {
    q?: string;
    domain?: string;
    catchAll?: 'true' | 'false';
    system?: 'true' | 'false';
    limit?: number;
    cursor?: string;
  }) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/aliases', {
        params: { path: { tenantId: tenant.id }, query },
      }),
      200,
    );

  it('creates an alias to local and external destinations, reads, updates and deletes it, with audit entries', async () => {
    const created = expectStatus(
      await create({
        localPart: 'Sales',
        destinations: ['Alice@shop.example', 'Partner@Outside.example'],
        description: 'sales team',
      }),
      201,
    );
    expect(created).toMatchObject({
      address: 'sales@shop.example',
      catchAll: false,
      destinations: ['alice@shop.example', 'Partner@outside.example'],
      enabled: true,
      system: false,
      description: 'sales team',
    });
    const id = created.id;
    expect(expectStatus(await get(tenant.viewer, id), 200).address).toBe('sales@shop.example');
    const updated = expectStatus(await update(id, { destinations: ['bob@shop.example'], enabled: false }), 200);
    expect(updated).toMatchObject({ destinations: ['bob@shop.example'], enabled: false });
    expectStatus(await remove(id), 204);
    expectProblem(await get(tenant.admin, id), 404);
    const audit = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'alias.*' } },
      }),
      200,
    );
    const mine = audit.items.filter((e) => e.targetId === id);
    expect(mine.map((e) => e.action).sort()).toEqual(['alias.create', 'alias.delete', 'alias.update']);
    // before/after are any JSON (the audited object), so the document cannot type them further.
    const upd = mine.find((e) => e.action === 'alias.update') as { before: { destinations: string[] } } & {
      after: { destinations: string[] };
    };
    expect(upd.before.destinations).toEqual(['alice@shop.example', 'Partner@outside.example']);
    expect(upd.after.destinations).toEqual(['bob@shop.example']);
  });

  it('makes a catch-all with *', async () => {
    const res = expectStatus(await create({ localPart: '*', destinations: ['alice@shop.example'] }), 201);
    expect(res).toMatchObject({ address: '*@shop.example', catchAll: true });
    const again = expectProblem(await create({ localPart: '*', destinations: ['bob@shop.example'] }), 409);
    expect(again.detail).toBe('The catch-all of shop.example already exists.');
    expect((await list({ catchAll: 'true' })).items.map((a) => a.address)).toEqual(['*@shop.example']);
  });

  it('names each bad destination: syntax, unknown local address, foreign domain, catch-all, repeats', async () => {
    const res = await create({
      localPart: 'info',
      destinations: [
        'not an address',
        'nobody@shop.example',
        'someone@neighbour.example',
        '*@shop.example',
        'alice@shop.example',
        'ALICE@shop.example',
      ],
    });
    expect(expectProblem(res, 422).errors).toEqual([
      { field: 'destinations.0', message: 'must be an address like name@example.com' },
      { field: 'destinations.3', message: 'a catch-all cannot be a destination' },
      { field: 'destinations.5', message: 'repeats destinations.4' },
    ]);
    const db2 = await create({ localPart: 'info', destinations: ['nobody@shop.example', 'someone@neighbour.example'] });
    expect(expectProblem(db2, 422).errors).toEqual([
      { field: 'destinations.0', message: 'nobody@shop.example is neither a mailbox nor an alias of this tenant' },
      {
        field: 'destinations.1',
        message:
          'neighbour.example is a foreign domain: it is hosted here by another tenant, so aliases cannot point to it',
      },
    ]);
    const source = await create({ localPart: 'a b', destinations: ['alice@shop.example'] });
    expect(source.error?.errors?.[0]?.field).toBe('localPart');
    const domain = await create({ localPart: 'x', domain: 'neighbour.example', destinations: ['alice@shop.example'] });
    expect(domain.error?.errors).toEqual([
      { field: 'domain', message: 'neighbour.example is not a domain of this tenant' },
    ]);
    const none = await create({ localPart: 'x', destinations: [] });
    expect(none.error?.errors).toEqual([{ field: 'destinations', message: 'give at least one destination' }]);
  });

  it('refuses loops, directly and through other aliases and domains', async () => {
    const self = expectStatus(await create({ localPart: 'me', destinations: ['alice@shop.example'] }), 201);
    const selfLoop = await update(self.id, { destinations: ['me@shop.example'] });
    expect(expectProblem(selfLoop, 422).errors).toEqual([
      { field: 'destinations.0', message: 'forms a loop: me@shop.example → me@shop.example' },
    ]);
    const a = expectStatus(await create({ localPart: 'loop-a', destinations: ['alice@shop.example'] }), 201);
    const b = await create({ localPart: 'loop-b', domain: 'shop-two.example', destinations: ['loop-a@shop.example'] });
    expectStatus(b, 201);
    const c = await create({ localPart: 'loop-c', destinations: ['loop-b@shop-two.example'] });
    expectStatus(c, 201);
    const closing = await update(a.id, { destinations: ['bob@shop.example', 'loop-c@shop.example'] });
    expect(expectProblem(closing, 422).errors).toEqual([
      {
        field: 'destinations.1',
        message:
          'forms a loop: loop-a@shop.example → loop-c@shop.example → loop-b@shop-two.example → loop-a@shop.example',
      },
    ]);
    expect(expectStatus(await get(tenant.admin, a.id), 200).destinations).toEqual(['alice@shop.example']);
  });

  it('keeps addresses unique across mailboxes and aliases', async () => {
    const res = expectProblem(await create({ localPart: 'alice', destinations: ['bob@shop.example'] }), 409);
    expect(res.detail).toBe('alice@shop.example is a mailbox; an alias cannot have its address.');
    await create({ localPart: 'team', destinations: ['bob@shop.example'] });
    const box = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
      ...at(),
      body: { localPart: 'team', domain: 'shop.example', password: GOOD },
    });
    expect(expectProblem(box, 409).detail).toBe(
      'team@shop.example is an alias; delete the alias first or choose another address.',
    );
  });

  it('lets system aliases change destinations but never be deleted or disabled', async () => {
    const system = await list({ system: 'true', domain: 'shop.example' });
    expect(system.items.map((a) => a.localPart)).toEqual(['abuse', 'postmaster']);
    const postmaster = system.items[1]!;
    expect(postmaster.destinations).toEqual([tenant.adminEmail]);
    const again = expectProblem(await create({ localPart: 'postmaster', destinations: ['bob@shop.example'] }), 409);
    expect(again.detail).toBe('postmaster@shop.example is a system alias; change its destinations with PATCH.');
    expectStatus(await update(postmaster.id, { destinations: ['bob@shop.example'] }), 200);
    expect(expectProblem(await remove(postmaster.id), 409).detail).toMatch(/system alias every domain must have/);
    expectProblem(await update(postmaster.id, { enabled: false }), 409);
  });

  it('creates a domain’s system aliases the first time an alias is added to it', async () => {
    await addDomain(db, tenant.id, 'fresh.example');
    const res = await create({ localPart: 'hello', domain: 'fresh.example', destinations: ['alice@shop.example'] });
    expectStatus(res, 201);
    expect((await list({ system: 'true', domain: 'fresh.example' })).items).toHaveLength(2);
  });

  it('lists with search and pagination, read-only for viewers', async () => {
    const q = await list({ q: 'loop' });
    expect(q.items.map((a) => a.address)).toEqual([
      'loop-a@shop.example',
      'loop-b@shop-two.example',
      'loop-c@shop.example',
    ]);
    const byDest = await list({ q: 'loop-a@shop.example' });
    expect(byDest.items.map((a) => a.localPart)).toContain('loop-b');
    const page1 = await list({ limit: 2 });
    expect(page1.items).toHaveLength(2);
    const page2 = await list({ limit: 2, cursor: String(page1.nextCursor) });
    expect(page2.items[0]?.id).not.toBe(page1.items[1]?.id);
    const write = await tenant.viewer.typed.POST('/v1/tenants/{tenantId}/aliases', {
      ...at(),
      body: { localPart: 'v', domain: 'shop.example', destinations: ['alice@shop.example'] },
    });
    expect(expectProblem(write, 403).detail).toBe('This credential lacks the scope aliases:write.');
  });
});
