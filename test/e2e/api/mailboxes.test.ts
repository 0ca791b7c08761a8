import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, Session, startApi, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;
const GOOD = 'tangerine-orbit-42';

describe('mailboxes', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let tenant: Tenant;
  let domain: { id: string; name: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller);
    domain = await addDomain(db, tenant.id, 'acme.example');
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const path = (t: { id: string } = tenant) => `/v1/tenants/${t.id}/mailboxes`;
  const create = (body: Record<string, unknown>, t: Tenant = tenant) =>
    t.admin.post(path(t), { domain: 'acme.example', password: GOOD, ...body });
  const auditLog = async (action: string) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action } },
      }),
      200,
    );
  const getMailbox = async (caller: Tenant['admin'], mailboxId: string) =>
    expectStatus(
      await caller.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
        params: { path: { tenantId: tenant.id, mailboxId } },
      }),
      200,
    );

  it('creates a mailbox with its folders and system aliases, never showing the hash', async () => {
    const created = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
      params: { path: { tenantId: tenant.id } },
      body: {
        localPart: 'Alice.Smith',
        domain: 'acme.example',
        password: GOOD,
        displayName: 'Alice Smith',
        quotaBytes: 2 * 1024 ** 3,
      },
    });
    const res = { body: expectStatus(created, 201) };
    expect(res.body).toMatchObject({
      address: 'alice.smith@acme.example',
      localPart: 'alice.smith',
      domain: { id: domain.id, name: 'acme.example' },
      displayName: 'Alice Smith',
      status: 'active',
      protocols: { smtp: true, imap: true, pop3: true },
      usage: { usedBytes: 0, quotaBytes: 2 * 1024 ** 3, percent: 0, messageCount: 0 },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/argon2|passwordHash|password/);
    const row = await db.prisma.mailbox.findFirstOrThrow({ where: { id: res.body.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await argon2.verify(row.passwordHash, GOOD)).toBe(true);
    const folders = await db.prisma.folder.findMany({ where: { mailboxId: res.body.id }, orderBy: { name: 'asc' } });
    expect(folders.map((f) => [f.name, f.kind])).toEqual([
      ['Drafts', 'drafts'],
      ['INBOX', 'inbox'],
      ['Junk', 'junk'],
      ['Sent', 'sent'],
      ['Trash', 'trash'],
    ]);
    const system = await db.prisma.alias.findMany({
      where: { domainId: domain.id, system: true },
      orderBy: { localPart: 'asc' },
    });
    expect(system.map((a) => [a.localPart, a.destinations])).toEqual([
      ['abuse', [tenant.adminEmail]],
      ['postmaster', [tenant.adminEmail]],
    ]);
    const audit = await auditLog('mailbox.create');
    const entry = audit.items.find((e) => e.targetId === res.body.id);
    expect(entry).toMatchObject({ action: 'mailbox.create', targetType: 'mailbox', actorType: 'user' });
    expect(JSON.stringify(entry)).not.toContain('argon2');
    expect((await auditLog('alias.create')).items).toHaveLength(2);
    expect((await getMailbox(tenant.viewer, res.body.id)).address).toBe('alice.smith@acme.example');
  });

  it('generates a strong password on request and shows it once', async () => {
    const res = expectStatus(
      await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
        params: { path: { tenantId: tenant.id } },
        body: { localPart: 'gen', domainId: domain.id, generatePassword: true },
      }),
      201,
    );
    expect(res.password).toMatch(/^[A-Za-z0-9]{20}$/);
    const row = await db.prisma.mailbox.findFirstOrThrow({ where: { id: res.id } });
    expect(await argon2.verify(row.passwordHash, res.password!)).toBe(true);
    expect(await getMailbox(tenant.admin, res.id)).not.toHaveProperty('password');
  });

  it('names each invalid field', async () => {
    const bad = await tenant.admin.post(path(), { localPart: 'a..b', domain: 'acme.example', password: GOOD });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      {
        field: 'localPart',
        message: 'the local part (before @) may not start or end with a dot or contain two dots in a row',
      },
    ]);
    const long = await create({ localPart: 'x'.repeat(65) });
    expect(long.body.errors[0]).toEqual({
      field: 'localPart',
      message: 'the local part (before @) is longer than 64 octets',
    });
    const both = await tenant.admin.post(path(), { localPart: 'x', password: GOOD, bogus: 1 });
    expect(both.status).toBe(422);
    expect(both.body.errors.map((e: { field: string }) => e.field)).toEqual(['bogus', 'domain']);
    const noDomain = await tenant.admin.post(path(), { localPart: 'x', password: GOOD });
    expect(noDomain.body.errors).toEqual([{ field: 'domain', message: 'give exactly one of domain or domainId' }]);
    const unknownDomain = await create({ localPart: 'x', domain: 'elsewhere.example' });
    expect(unknownDomain.status).toBe(422);
    expect(unknownDomain.body.errors).toEqual([
      { field: 'domain', message: 'elsewhere.example is not a domain of this tenant' },
    ]);
    const other = await sut.newTenant(reseller);
    await addDomain(db, other.id, 'theirs.example');
    const foreign = await create({ localPart: 'x', domain: 'theirs.example' });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors[0].field).toBe('domain');
    const quota = await create({ localPart: 'x', quotaBytes: 10 });
    expect(quota.body.errors).toEqual([{ field: 'quotaBytes', message: 'must be at least 1 MiB (1048576 bytes)' }]);
  });

  it('refuses weak passwords with the reason', async () => {
    const cases: [string, string][] = [
      ['short', 'must be at least 12 characters'],
      ['Password2024!', 'is a commonly used password; choose another'],
      ['aaaaaaaaaaaaaaaa', 'must contain at least 5 different characters'],
      ['123456789012', 'is a keyboard or alphabet sequence; choose another'],
      ['my-bob.jones-secret', 'must not contain the mailbox name'],
    ];
    for (const [password, message] of cases) {
      const res = await create({ localPart: 'bob.jones', password });
      expect(res.status, password).toBe(422);
      expect(res.body.errors, password).toEqual([{ field: 'password', message }]);
    }
  });

  it('refuses non-ASCII local parts saying why, unless the tenant enables SMTPUTF8', async () => {
    const refused = await create({ localPart: 'jürgen' });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].field).toBe('localPart');
    expect(refused.body.errors[0].message).toMatch(/SMTPUTF8.*many mail clients cannot handle such addresses/);
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'utf8.example');
    expect((await t.admin.patch(`/v1/tenants/${t.id}`, { smtputf8Enabled: true })).status).toBe(200);
    const ok = await t.admin.post(path(t), { localPart: 'jürgen', domain: 'utf8.example', password: GOOD });
    expect(ok.status).toBe(201);
    expect(ok.body.address).toBe('jürgen@utf8.example');
  });

  it('keeps postmaster and abuse as system aliases, never mailboxes', async () => {
    for (const localPart of ['postmaster', 'Abuse']) {
      const res = await create({ localPart });
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/is a system alias that every domain has/);
    }
  });

  it('enforces the plan: maxMailboxes, and no mailbox quota above the tenant storage quota', async () => {
    const small = await sut.newTenant(reseller, { maxMailboxes: 2, storageQuotaBytes: 5 * 1024 ** 3 });
    await addDomain(db, small.id, 'small.example');
    const make = (localPart: string, extra: Record<string, unknown> = {}) =>
      small.admin.post(path(small), { localPart, domain: 'small.example', password: GOOD, ...extra });
    expect((await make('one')).status).toBe(201);
    const two = await make('two');
    expect(two.status).toBe(201);
    const three = await make('three');
    expect(three.status).toBe(409);
    expect(three.body.detail).toBe('Plan limit reached: maxMailboxes is 2 for this tenant.');
    // A deleted mailbox no longer counts.
    expect((await small.admin.delete(`${path(small)}/${two.body.id}`)).status).toBe(202);
    const big = await make('three', { quotaBytes: 6 * 1024 ** 3 });
    expect(big.status).toBe(409);
    expect(big.body.detail).toBe(
      `Plan limit reached: storageQuotaBytes is ${5 * 1024 ** 3} for this tenant; a mailbox quota cannot be larger.`,
    );
    expect((await make('three', { quotaBytes: 5 * 1024 ** 3 })).status).toBe(201);
    const patch = await small.admin.patch(`${path(small)}/${two.body.id}`, { quotaBytes: 6 * 1024 ** 3 });
    expect(patch.status).toBe(409);
  });

  it('creates the same address once when two requests race', async () => {
    const results = await Promise.all([create({ localPart: 'race' }), create({ localPart: 'race' })]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('lists with search, domain and status filters and cursor pagination', async () => {
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'one.example');
    await addDomain(db, t.id, 'two.example');
    for (const [localPart, d, displayName] of [
      ['anna', 'one.example', 'Anna Karenina'],
      ['boris', 'one.example', 'Boris Godunov'],
      ['carla', 'two.example', 'Carla Bruni'],
      ['dmitri', 'two.example', 'Dmitri K'],
    ]) {
      expect((await t.admin.post(path(t), { localPart, domain: d, displayName, password: GOOD })).status).toBe(201);
    }
    const names = (r: { body: { items: { localPart: string }[] } }) => r.body.items.map((m) => m.localPart);
    expect(names(await t.admin.get(`${path(t)}?q=karenina`))).toEqual(['anna']);
    expect(names(await t.admin.get(`${path(t)}?q=carla@two`))).toEqual(['carla']);
    expect(names(await t.admin.get(`${path(t)}?domain=two.example`))).toEqual(['carla', 'dmitri']);
    const page1 = await t.admin.get(`${path(t)}?limit=3`);
    expect(names(page1)).toEqual(['anna', 'boris', 'carla']);
    const page2 = await t.admin.get(`${path(t)}?limit=3&cursor=${page1.body.nextCursor}`);
    expect(names(page2)).toEqual(['dmitri']);
    expect(page2.body.nextCursor).toBeNull();
    expect(names(await t.admin.get(`${path(t)}?sort=-localPart&limit=1`))).toEqual(['dmitri']);
    const boris = page1.body.items[1].id;
    await t.admin.patch(`${path(t)}/${boris}`, { status: 'disabled' });
    expect(names(await t.admin.get(`${path(t)}?status=disabled`))).toEqual(['boris']);
    await t.admin.delete(`${path(t)}/${boris}`);
    expect(names(await t.admin.get(path(t)))).toEqual(['anna', 'carla', 'dmitri']);
    expect(names(await t.admin.get(`${path(t)}?status=deleted`))).toEqual(['boris']);
    const badSort = await t.admin.get(`${path(t)}?sort=passwordHash`);
    expect(badSort.status).toBe(422);
    expect(badSort.body.errors[0].field).toBe('sort');
  });

  it('shows each mailbox in a list exactly as its own GET does, every field and date, pages by createdAt included', async () => {
    // The list reads its own columns in its own statements (MailboxRepository.list), the GET the
    // row through Prisma: both must show the same (escapes, dates, bigints, the percent's rounding).
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'same.example');
    const ids: string[] = [];
    for (const [localPart, displayName] of [
      ['zoe', 'Zoë "Q" \\ O\'Brien\u00a0<é>'],
      ['yann', undefined],
      ['xavier', 'X'],
    ] as const) {
      const res = await t.admin.post(path(t), { localPart, domain: 'same.example', displayName, password: GOOD });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const [zoe, yann, xavier] = ids as [string, string, string];
    // A third of the quota (a percent that needs rounding), a count, a POP3 setting, a legal hold.
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.id, id: zoe } },
      data: { usedBytes: 1_000_000_001n, quotaBytes: 3_000_000_000n, messageCount: 12345, legalHold: true },
    });
    expect((await t.admin.patch(`${path(t)}/${yann}`, { pop3: { markRead: false } })).status).toBe(200);
    expect((await t.admin.delete(`${path(t)}/${xavier}`)).status).toBe(202);
    const own = async (id: string) => {
      const res = await t.admin.get(`${path(t)}/${id}`);
      expect(res.status).toBe(200);
      return JSON.stringify(res.body);
    };
    const listed = async (query: string) => {
      const res = await t.admin.get(`${path(t)}?${query}`);
      expect(res.status).toBe(200);
      return res.body as { items: { id: string }[]; nextCursor: string | null };
    };
    const all = await listed('status=active');
    expect(all.items.map((m) => m.id).sort()).toEqual([zoe, yann].sort());
    for (const item of all.items) expect(JSON.stringify(item)).toBe(await own(item.id));
    const zoeView = all.items.find((m) => m.id === zoe) as unknown as {
      usage: { percent: number };
      displayName: string;
    };
    expect(zoeView.usage.percent).toBe(33.3);
    expect(zoeView.displayName).toBe('Zoë "Q" \\ O\'Brien\u00a0<é>');
    const deleted = await listed('status=deleted');
    expect(deleted.items.map((m) => m.id)).toEqual([xavier]);
    expect(JSON.stringify(deleted.items[0])).toBe(await own(xavier));
    // Newest first, one per page: the cursor carries the createdAt the list wrote.
    const first = await listed('sort=-createdAt&limit=1');
    const second = await listed(`sort=-createdAt&limit=1&cursor=${first.nextCursor}`);
    expect(first.items.map((m) => m.id)).toEqual([yann]);
    expect(second.items.map((m) => m.id)).toEqual([zoe]);
    expect(second.nextCursor).toBeNull();
  });

  it('searches within the tenant only: local part or display name, any case, wildcards, local@domain', async () => {
    const mine = await sut.newTenant(reseller);
    const other = await sut.newTenant(reseller);
    await addDomain(db, mine.id, 'mine.example');
    await addDomain(db, other.id, 'other.example');
    for (const [t, d, localPart, displayName] of [
      [mine, 'mine.example', 'annabel', 'Annabel Lee'],
      [mine, 'mine.example', 'joanna', 'Jo Smith'],
      [mine, 'mine.example', 'bob', 'Robert ANNAN'],
      [other, 'other.example', 'anna', 'Anna Other'],
      [other, 'other.example', 'hannah', 'Hannah Other'],
    ] as const) {
      expect((await t.admin.post(path(t), { localPart, domain: d, displayName, password: GOOD })).status).toBe(201);
    }
    const search = async (t: Tenant, q: string) => {
      const res = await t.admin.get(`${path(t)}?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      return (res.body.items as { localPart: string }[]).map((m) => m.localPart);
    };
    // Local part or display name (any case), never the other tenant's "anna" or "hannah".
    expect(await search(mine, 'anna')).toEqual(['annabel', 'bob', 'joanna']);
    expect(await search(other, 'anna')).toEqual(['anna', 'hannah']);
    expect(await search(mine, 'ANNA')).toEqual(['annabel', 'bob', 'joanna']);
    expect(await search(mine, 'nn')).toEqual(['annabel', 'bob', 'joanna']);
    // The text is a LIKE pattern, not escaped (as Prisma's `contains` took it): _ and % work.
    expect(await search(mine, 'o_nn')).toEqual(['joanna']);
    expect(await search(mine, 'jo%na')).toEqual(['joanna']);
    // local@domain-prefix: a local part containing it, a domain starting with it.
    expect(await search(mine, 'anna@mine')).toEqual(['annabel', 'joanna']);
    expect(await search(mine, 'anna@other')).toEqual([]);

    // Pages of a search, both sort fields and directions: each cursor continues where it stopped.
    // Distinct creation times, a second apart, in the order the mailboxes were added.
    for (const [i, localPart] of ['annabel', 'joanna', 'bob'].entries()) {
      await db.prisma.mailbox.updateMany({
        where: { tenantId: mine.id, localPart },
        data: { createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) },
      });
    }
    const pages = async (query: string) => {
      const seen: string[][] = [];
      let cursor: string | null = null;
      do {
        const url: string = `${path(mine)}?${query}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await mine.admin.get(url);
        expect(res.status).toBe(200);
        const body = res.body as { items: { localPart: string }[]; nextCursor: string | null };
        seen.push(body.items.map((m) => m.localPart));
        cursor = body.nextCursor;
      } while (cursor && seen.length < 10);
      return seen;
    };
    expect(await pages('q=anna&limit=2')).toEqual([['annabel', 'bob'], ['joanna']]);
    expect(await pages('q=anna&limit=2&sort=-localPart')).toEqual([['joanna', 'bob'], ['annabel']]);
    expect(await pages('q=anna&limit=1&sort=-createdAt')).toEqual([['bob'], ['joanna'], ['annabel']]);
    expect(await pages('q=anna&limit=1&sort=createdAt')).toEqual([['annabel'], ['joanna'], ['bob']]);
    // One row a page, so that a filter the page's picking ignored would end the pages early.
    expect(await pages('q=anna@mine&limit=1')).toEqual([['annabel'], ['joanna']]);
    expect(await pages('q=anna&limit=1&domain=mine.example&sort=-createdAt')).toEqual([
      ['bob'],
      ['joanna'],
      ['annabel'],
    ]);
    // With the status filter: a disabled mailbox only when asked for.
    const bob = (await mine.admin.get(`${path(mine)}?q=bob`)).body.items[0].id;
    expect((await mine.admin.patch(`${path(mine)}/${bob}`, { status: 'disabled' })).status).toBe(200);
    expect(await search(mine, 'anna')).toEqual(['annabel', 'bob', 'joanna']);
    expect(
      (await mine.admin.get(`${path(mine)}?q=anna&status=disabled`)).body.items.map(
        (m: { localPart: string }) => m.localPart,
      ),
    ).toEqual(['bob']);
    expect(
      (await mine.admin.get(`${path(mine)}?q=anna&status=active`)).body.items.map(
        (m: { localPart: string }) => m.localPart,
      ),
    ).toEqual(['annabel', 'joanna']);
    expect(await pages('q=anna&limit=1&status=active')).toEqual([['annabel'], ['joanna']]);
    expect(await pages('q=anna&limit=1&status=disabled&sort=-createdAt')).toEqual([['bob']]);

    // The function that picks a search's page runs as the owner: it must keep to the
    // transaction's tenant, and find nothing without one.
    const picked = (tenantId: string | null) =>
      db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SELECT set_config('role', 'mailroom_api', true)`);
        if (tenantId) await tx.$executeRaw`SELECT set_config('app.tenant_id', ${tenantId}, true)`;
        const rows = await tx.$queryRaw<{ id: string }[]>`
          SELECT id::text FROM mailroom_mailbox_search_page('local_part', false, 50, NULL, '{}', NULL,
            'anna', 'anna', NULL, NULL, NULL, NULL) AS p(id)`;
        return rows.map((r) => r.id);
      });
    const idsOf = async (tenantId: string, localParts: string[]) => {
      const rows = await db.prisma.mailbox.findMany({ where: { tenantId, localPart: { in: localParts } } });
      return rows.sort((a, b) => a.localPart.localeCompare(b.localPart)).map((m) => m.id);
    };
    expect(await picked(other.id)).toEqual(await idsOf(other.id, ['anna', 'hannah']));
    expect(await picked(mine.id)).toEqual(await idsOf(mine.id, ['annabel', 'bob', 'joanna']));
    expect(await picked(null)).toEqual([]);
  });

  it('updates name, quota, status and protocols, shows usage in percent, and audits it', async () => {
    const created = await create({ localPart: 'carol', quotaBytes: 100 * 1024 ** 2 });
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: tenant.id, id: created.body.id } },
      data: { usedBytes: 25n * 1024n ** 2n, messageCount: 7 },
    });
    const res = await tenant.admin.patch(`${path()}/${created.body.id}`, {
      displayName: 'Carol',
      quotaBytes: 200 * 1024 ** 2,
      status: 'disabled',
      protocols: { pop3: false },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      displayName: 'Carol',
      status: 'disabled',
      protocols: { smtp: true, imap: true, pop3: false },
      usage: { usedBytes: 25 * 1024 ** 2, quotaBytes: 200 * 1024 ** 2, percent: 12.5, messageCount: 7 },
    });
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=mailbox.update`);
    const entry = audit.body.items.find((e: { targetId: string }) => e.targetId === created.body.id);
    expect(entry.before.status).toBe('active');
    expect(entry.after.status).toBe('disabled');
    const invalid = await tenant.admin.patch(`${path()}/${created.body.id}`, { status: 'deleted' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0].field).toBe('status');
    expect(
      (await tenant.admin.patch(`${path()}/00000000-0000-0000-0000-000000000000`, { displayName: 'x' })).status,
    ).toBe(404);
    expect((await tenant.admin.get(`${path()}/not-a-uuid`)).status).toBe(404);
  });

  it('deletes at once (202), keeps the address until the purge, and audits it', async () => {
    const created = await create({ localPart: 'dave' });
    const res = await tenant.admin.delete(`${path()}/${created.body.id}`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('deleted');
    expect(res.body.deletedAt).not.toBeNull();
    const again = await create({ localPart: 'dave' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/dave@acme\.example was deleted at .*still being purged.*can be used again/);
    expect((await tenant.admin.delete(`${path()}/${created.body.id}`)).status).toBe(202);
    expect((await tenant.admin.patch(`${path()}/${created.body.id}`, { displayName: 'x' })).status).toBe(409);
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=mailbox.delete`);
    expect(audit.body.items.filter((e: { targetId: string }) => e.targetId === created.body.id)).toHaveLength(1);
    const held = await create({ localPart: 'held' });
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: tenant.id, id: held.body.id } },
      data: { legalHold: true },
    });
    const refused = await tenant.admin.delete(`${path()}/${held.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/legal hold/);
  });

  it('resets a password, checking its strength, without returning the hash', async () => {
    const created = await create({ localPart: 'frank' });
    const url = `${path()}/${created.body.id}/password`;
    const weak = await tenant.admin.post(url, { password: 'frank-is-great-1' });
    expect(weak.status).toBe(422);
    expect(weak.body.errors).toEqual([{ field: 'password', message: 'must not contain the mailbox name' }]);
    const set = await tenant.admin.post(url, { password: 'another fine phrase' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ id: created.body.id, address: 'frank@acme.example' });
    let row = await db.prisma.mailbox.findFirstOrThrow({ where: { id: created.body.id } });
    expect(await argon2.verify(row.passwordHash, 'another fine phrase')).toBe(true);
    const gen = await tenant.admin.post(url, { generate: true });
    expect(gen.body.password).toHaveLength(20);
    row = await db.prisma.mailbox.findFirstOrThrow({ where: { id: created.body.id } });
    expect(await argon2.verify(row.passwordHash, gen.body.password)).toBe(true);
    const neither = await tenant.admin.post(url, {});
    expect(neither.body.errors).toEqual([{ field: 'password', message: 'give a password or generate: true' }]);
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=mailbox.password_reset`);
    expect(audit.body.items).toHaveLength(2);
    expect(JSON.stringify(audit.body)).not.toContain('another fine phrase');
  });

  it('lets a viewer read but not write', async () => {
    expect((await tenant.viewer.get(path())).status).toBe(200);
    const res = await tenant.viewer.post(path(), { localPart: 'v', domain: 'acme.example', password: GOOD });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('This credential lacks the scope mailboxes:write.');
  });

  it('holds a domain-limited API key to its domains', async () => {
    await addDomain(db, tenant.id, 'other-acme.example');
    const key = await tenant.admin.post(`/v1/tenants/${tenant.id}/api-keys`, {
      name: 'acme only',
      scopes: ['mailboxes:read', 'mailboxes:write'],
      domains: ['acme.example'],
    });
    const client = sut.withToken(key.body.key);
    const outside = await client.post(path(), { localPart: 'k', domain: 'other-acme.example', password: GOOD });
    expect(outside.status).toBe(403);
    expect(outside.body.detail).toBe(
      'This credential is limited to acme.example; other-acme.example is not one of them.',
    );
    const theirs = await tenant.admin.post(path(), { localPart: 'k', domain: 'other-acme.example', password: GOOD });
    expect((await client.get(`${path()}/${theirs.body.id}`)).status).toBe(403);
    const list = await client.get(`${path()}?limit=200`);
    expect(list.body.items.every((m: { domain: { name: string } }) => m.domain.name === 'acme.example')).toBe(true);
    expect((await client.post(path(), { localPart: 'k', domain: 'acme.example', password: GOOD })).status).toBe(201);

    // A search picks its page through mailroom_mailbox_search_page, which repeats the key's
    // domain limit: one row a page, a match in the other domain sorted between the key's two.
    for (const [localPart, domain] of [
      ['zqa', 'acme.example'],
      ['zqb', 'other-acme.example'],
      ['zqc', 'acme.example'],
    ]) {
      expect((await tenant.admin.post(path(), { localPart, domain, password: GOOD })).status).toBe(201);
    }
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${path()}?q=zq&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await client.get(url);
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((m: { localPart: string }) => m.localPart));
      cursor = res.body.nextCursor;
    } while (cursor && pages.length < 5);
    expect(pages).toEqual([['zqa'], ['zqc']]);
    expect(
      (await tenant.admin.get(`${path()}?q=zq`)).body.items.map((m: { localPart: string }) => m.localPart),
    ).toEqual(['zqa', 'zqb', 'zqc']);
  });

  it('refuses writes of a suspended tenant with 423', async () => {
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'suspended.example');
    await reseller.admin.post(`/v1/tenants/${t.id}/suspend`, { reason: 'unpaid' });
    const res = await t.admin.post(path(t), { localPart: 'x', domain: 'suspended.example', password: GOOD });
    expect(res.status).toBe(423);
    expect((await t.admin.get(path(t))).status).toBe(200);
  });
});
