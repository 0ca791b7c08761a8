import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session, startApi, type TestApi } from '../support/api';
import { addDomain } from './walk/mail-fixtures';

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
      const res = await tenant.admin.post(`/v1/tenants/${tenant.id}/mailboxes`, {
        localPart,
        domain: 'shop.example',
        password: GOOD,
      });
      expect(res.status).toBe(201);
    }
    const other = await sut.newTenant(reseller);
    await addDomain(db, other.id, 'neighbour.example');
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const path = () => `/v1/tenants/${tenant.id}/aliases`;
  const create = (body: Record<string, unknown>) => tenant.admin.post(path(), { domain: 'shop.example', ...body });

  it('creates an alias to local and external destinations, reads, updates and deletes it, with audit entries', async () => {
    const created = await create({
      localPart: 'Sales',
      destinations: ['Alice@shop.example', 'Partner@Outside.example'],
      description: 'sales team',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      address: 'sales@shop.example',
      catchAll: false,
      destinations: ['alice@shop.example', 'Partner@outside.example'],
      enabled: true,
      system: false,
      description: 'sales team',
    });
    const id = created.body.id;
    expect((await tenant.viewer.get(`${path()}/${id}`)).body.address).toBe('sales@shop.example');
    const updated = await tenant.admin.patch(`${path()}/${id}`, { destinations: ['bob@shop.example'], enabled: false });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ destinations: ['bob@shop.example'], enabled: false });
    expect((await tenant.admin.delete(`${path()}/${id}`)).status).toBe(204);
    expect((await tenant.admin.get(`${path()}/${id}`)).status).toBe(404);
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=alias.*`);
    const mine = audit.body.items.filter((e: { targetId: string }) => e.targetId === id);
    expect(mine.map((e: { action: string }) => e.action).sort()).toEqual([
      'alias.create',
      'alias.delete',
      'alias.update',
    ]);
    const upd = mine.find((e: { action: string }) => e.action === 'alias.update');
    expect(upd.before.destinations).toEqual(['alice@shop.example', 'Partner@outside.example']);
    expect(upd.after.destinations).toEqual(['bob@shop.example']);
  });

  it('makes a catch-all with *', async () => {
    const res = await create({ localPart: '*', destinations: ['alice@shop.example'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ address: '*@shop.example', catchAll: true });
    const again = await create({ localPart: '*', destinations: ['bob@shop.example'] });
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe('The catch-all of shop.example already exists.');
    const list = await tenant.admin.get(`${path()}?catchAll=true`);
    expect(list.body.items.map((a: { address: string }) => a.address)).toEqual(['*@shop.example']);
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
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { field: 'destinations.0', message: 'must be an address like name@example.com' },
      { field: 'destinations.3', message: 'a catch-all cannot be a destination' },
      { field: 'destinations.5', message: 'repeats destinations.4' },
    ]);
    const db2 = await create({ localPart: 'info', destinations: ['nobody@shop.example', 'someone@neighbour.example'] });
    expect(db2.status).toBe(422);
    expect(db2.body.errors).toEqual([
      { field: 'destinations.0', message: 'nobody@shop.example is neither a mailbox nor an alias of this tenant' },
      {
        field: 'destinations.1',
        message:
          'neighbour.example is a foreign domain: it is hosted here by another tenant, so aliases cannot point to it',
      },
    ]);
    const source = await create({ localPart: 'a b', destinations: ['alice@shop.example'] });
    expect(source.body.errors[0].field).toBe('localPart');
    const domain = await create({ localPart: 'x', domain: 'neighbour.example', destinations: ['alice@shop.example'] });
    expect(domain.body.errors).toEqual([
      { field: 'domain', message: 'neighbour.example is not a domain of this tenant' },
    ]);
    const none = await create({ localPart: 'x', destinations: [] });
    expect(none.body.errors).toEqual([{ field: 'destinations', message: 'give at least one destination' }]);
  });

  it('refuses loops, directly and through other aliases and domains', async () => {
    const self = await create({ localPart: 'me', destinations: ['alice@shop.example'] });
    const selfLoop = await tenant.admin.patch(`${path()}/${self.body.id}`, { destinations: ['me@shop.example'] });
    expect(selfLoop.status).toBe(422);
    expect(selfLoop.body.errors).toEqual([
      { field: 'destinations.0', message: 'forms a loop: me@shop.example → me@shop.example' },
    ]);
    const a = await create({ localPart: 'loop-a', destinations: ['alice@shop.example'] });
    const b = await create({ localPart: 'loop-b', domain: 'shop-two.example', destinations: ['loop-a@shop.example'] });
    expect(b.status).toBe(201);
    const c = await create({ localPart: 'loop-c', destinations: ['loop-b@shop-two.example'] });
    expect(c.status).toBe(201);
    const closing = await tenant.admin.patch(`${path()}/${a.body.id}`, {
      destinations: ['bob@shop.example', 'loop-c@shop.example'],
    });
    expect(closing.status).toBe(422);
    expect(closing.body.errors).toEqual([
      {
        field: 'destinations.1',
        message:
          'forms a loop: loop-a@shop.example → loop-c@shop.example → loop-b@shop-two.example → loop-a@shop.example',
      },
    ]);
    expect((await tenant.admin.get(`${path()}/${a.body.id}`)).body.destinations).toEqual(['alice@shop.example']);
  });

  it('keeps addresses unique across mailboxes and aliases', async () => {
    const res = await create({ localPart: 'alice', destinations: ['bob@shop.example'] });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe('alice@shop.example is a mailbox; an alias cannot have its address.');
    await create({ localPart: 'team', destinations: ['bob@shop.example'] });
    const box = await tenant.admin.post(`/v1/tenants/${tenant.id}/mailboxes`, {
      localPart: 'team',
      domain: 'shop.example',
      password: GOOD,
    });
    expect(box.status).toBe(409);
    expect(box.body.detail).toBe('team@shop.example is an alias; delete the alias first or choose another address.');
  });

  it('lets system aliases change destinations but never be deleted or disabled', async () => {
    const list = await tenant.admin.get(`${path()}?system=true&domain=shop.example`);
    expect(list.body.items.map((a: { localPart: string }) => a.localPart)).toEqual(['abuse', 'postmaster']);
    const postmaster = list.body.items[1];
    expect(postmaster.destinations).toEqual([tenant.adminEmail]);
    const again = await create({ localPart: 'postmaster', destinations: ['bob@shop.example'] });
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe('postmaster@shop.example is a system alias; change its destinations with PATCH.');
    const changed = await tenant.admin.patch(`${path()}/${postmaster.id}`, { destinations: ['bob@shop.example'] });
    expect(changed.status).toBe(200);
    const del = await tenant.admin.delete(`${path()}/${postmaster.id}`);
    expect(del.status).toBe(409);
    expect(del.body.detail).toMatch(/system alias every domain must have/);
    expect((await tenant.admin.patch(`${path()}/${postmaster.id}`, { enabled: false })).status).toBe(409);
  });

  it('creates a domain’s system aliases the first time an alias is added to it', async () => {
    await addDomain(db, tenant.id, 'fresh.example');
    const res = await create({ localPart: 'hello', domain: 'fresh.example', destinations: ['alice@shop.example'] });
    expect(res.status).toBe(201);
    const system = await tenant.admin.get(`${path()}?system=true&domain=fresh.example`);
    expect(system.body.items).toHaveLength(2);
  });

  it('lists with search and pagination, read-only for viewers', async () => {
    const q = await tenant.admin.get(`${path()}?q=loop`);
    expect(q.body.items.map((a: { address: string }) => a.address)).toEqual([
      'loop-a@shop.example',
      'loop-b@shop-two.example',
      'loop-c@shop.example',
    ]);
    const byDest = await tenant.admin.get(`${path()}?q=loop-a@shop.example`);
    expect(byDest.body.items.map((a: { localPart: string }) => a.localPart)).toContain('loop-b');
    const page1 = await tenant.admin.get(`${path()}?limit=2`);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await tenant.admin.get(`${path()}?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items[0].id).not.toBe(page1.body.items[1].id);
    const write = await tenant.viewer.post(path(), {
      localPart: 'v',
      domain: 'shop.example',
      destinations: ['alice@shop.example'],
    });
    expect(write.status).toBe(403);
    expect(write.body.detail).toBe('This credential lacks the scope aliases:write.');
  });
});
