import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import type { ApiSchema } from '@mailroom/api-client';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;

const MESSAGE = [
  'From: "Shop News" <news@shop.example>',
  'To: alice@mail.example',
  'Subject: =?UTF-8?Q?Gro=C3=9Fe_Rabatte?=',
  'List-Id: <news.shop.example>',
  'Content-Type: text/plain',
  '',
  'Hello',
].join('\r\n');

describe('filters, vacation and forwarding', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Tenant;
  let mailboxId: string;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
    await addDomain(db, tenant.id, 'mail.example');
    const box = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
      params: { path: { tenantId: tenant.id } },
      body: { localPart: 'alice', domain: 'mail.example', password: 'tangerine-orbit-42' },
    });
    mailboxId = expectStatus(box, 201).id;
    base = `/v1/tenants/${tenant.id}/mailboxes/${mailboxId}`;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const newsRule: ApiSchema<'FilterRuleBody'> = {
    name: 'Newsletters',
    conditions: [{ field: 'header', name: 'List-Id', operator: 'contains', value: 'news' }],
    actions: [{ type: 'moveTo', folder: 'News' }, { type: 'markRead' }],
  };
  const box = () => ({ params: { path: { tenantId: tenant.id, mailboxId } } });
  const rule = (filterId: string) => ({ params: { path: { tenantId: tenant.id, mailboxId, filterId } } });
  const createRule = (caller: Client, body: ApiSchema<'FilterRuleBody'>) =>
    caller.typed.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters', { ...box(), body });
  const listRules = async (caller: Client, query: { limit?: number; cursor?: string } = {}) =>
    expectStatus(
      await caller.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters', {
        params: { path: { tenantId: tenant.id, mailboxId }, query },
      }),
      200,
    );
  const reorder = (ids: string[]) =>
    tenant.admin.typed.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/order', { ...box(), body: { ids } });
  const testRules = (caller: Client, body: ApiSchema<'TestFiltersDto'>) =>
    caller.typed.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/test', { ...box(), body });
  const auditActions = async (action: string) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action } },
      }),
      200,
    ).items.map((e) => e.action);

  describe('filter rules', () => {
    it('creates rules in order, reads, updates, reorders and deletes them, with audit entries', async () => {
      const first = expectStatus(await createRule(tenant.admin, newsRule), 201);
      expect(first).toMatchObject({ position: 1, name: 'Newsletters', enabled: true, matchMode: 'all' });
      const created = await createRule(tenant.admin, {
        name: 'Big',
        matchMode: 'any',
        conditions: [
          { field: 'size', operator: 'greaterThan', value: 10_000_000 },
          { field: 'subject', operator: 'matches', value: '*invoice*' },
        ],
        actions: [{ type: 'flag' }, { type: 'stop' }],
      });
      const second = expectStatus(created, 201);
      expect(second.position).toBe(2);
      expect((await listRules(tenant.viewer)).items.map((f) => f.name)).toEqual(['Newsletters', 'Big']);
      const patched = await tenant.admin.typed.PATCH(
        '/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/{filterId}',
        {
          ...rule(second.id),
          body: { enabled: false },
        },
      );
      expect(patched.data).toMatchObject({ enabled: false, name: 'Big', matchMode: 'any' });
      const order = expectStatus(await reorder([second.id, first.id]), 200);
      expect(order.items.map((f) => [f.name, f.position])).toEqual([
        ['Big', 1],
        ['Newsletters', 2],
      ]);
      const page = await listRules(tenant.admin, { limit: 1 });
      expect(page.items[0]?.name).toBe('Big');
      const page2 = await listRules(tenant.admin, { limit: 1, cursor: String(page.nextCursor) });
      expect(page2.items[0]?.name).toBe('Newsletters');
      const path = '/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/{filterId}';
      expectStatus(await tenant.admin.typed.DELETE(path, rule(second.id)), 204);
      expectProblem(await tenant.admin.typed.GET(path, rule(second.id)), 404);
      expect((await auditActions('filter.*')).sort()).toEqual([
        'filter.create',
        'filter.create',
        'filter.delete',
        'filter.reorder',
        'filter.update',
      ]);
    });

    it('names the invalid fields of a rule', async () => {
      // Raw: ill-typed and unknown fields on purpose, which the typed client would not send.
      const res = await tenant.admin.post(`${base}/filters`, {
        name: 'Bad',
        conditions: [
          { field: 'subject', operator: 'regex', value: '(a+)+$' },
          { field: 'size', operator: 'contains', value: 1 },
        ],
        actions: [{ type: 'forward', to: 'not-an-address' }, { type: 'explode' }],
        extra: true,
      });
      expect(res.status).toBe(422);
      const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).toEqual([
        'actions.0.to',
        'actions.1.type',
        'conditions.0.value',
        'conditions.1.operator',
        'extra',
      ]);
      const empty = await tenant.admin.post(`${base}/filters`, { name: 'No actions', conditions: [], actions: [] });
      expect(empty.body.errors).toEqual([{ field: 'actions', message: 'must have at least 1 item' }]);
      const notList = await tenant.admin.post(`${base}/filters`, { name: 'x', actions: [{ type: 'stop' }] });
      expect(notList.body.errors).toEqual([{ field: 'conditions', message: 'is required' }]);
    });

    it('refuses an order that does not list every rule exactly once', async () => {
      const ids = (await listRules(tenant.admin)).items.map((f) => f.id);
      expect(expectProblem(await reorder([]), 422).errors?.[0]?.field).toBe('ids');
      const twice = await reorder([...ids, ids[0]!]);
      expect(twice.error?.errors).toEqual([{ field: `ids.${ids.length}`, message: 'repeats ids.0' }]);
    });

    it('tests a raw message against the rules without delivering it', async () => {
      await createRule(tenant.admin, {
        name: 'Rabatt',
        conditions: [{ field: 'subject', operator: 'contains', value: 'große' }],
        actions: [{ type: 'flag' }, { type: 'stop' }],
      });
      await createRule(tenant.admin, {
        name: 'Never reached',
        conditions: [],
        actions: [{ type: 'discard' }],
      });
      const before = await db.prisma.message.count();
      const res = expectStatus(await testRules(tenant.viewer, { message: MESSAGE }), 200);
      expect(res.matched.map((m) => m.name)).toEqual(['Newsletters', 'Rabatt']);
      expect(res.stopped).toBe(true);
      expect(res.plan).toEqual({
        keep: true,
        folder: 'News',
        markRead: true,
        flagged: true,
        forwards: [],
        redirects: [],
        discard: false,
        reject: null,
      });
      expect(await db.prisma.message.count()).toBe(before);
      const spamRule = await createRule(tenant.admin, {
        name: 'Spam',
        conditions: [
          { field: 'spamVerdict', operator: 'is', value: 'spam' },
          { field: 'dmarc', operator: 'is', value: 'fail' },
        ],
        actions: [{ type: 'reject', text: 'No thanks' }],
      });
      const spam = expectStatus(spamRule, 201);
      const others = (await listRules(tenant.admin)).items.map((f) => f.id).filter((id) => id !== spam.id);
      await reorder([spam.id, ...others]);
      const rejected = expectStatus(
        await testRules(tenant.admin, { message: MESSAGE, spamVerdict: 'spam', auth: { dmarc: 'fail' } }),
        200,
      );
      expect(rejected.matched.map((m) => m.name)).toEqual(['Spam']);
      expect(rejected.plan.reject).toBe('No thanks');
      const bad = await testRules(tenant.admin, { message: '' });
      expect(bad.error?.errors).toEqual([{ field: 'message', message: 'must not be empty' }]);
    });

    it('keeps viewers to reading', async () => {
      const res = expectProblem(await createRule(tenant.viewer, newsRule), 403);
      expect(res.detail).toBe('This credential lacks the scope filters:write.');
    });
  });

  const vacation = {
    get: (caller: Client) => caller.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', box()),
    put: (body: ApiSchema<'PutVacationDto'>) =>
      tenant.admin.typed.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', { ...box(), body }),
    remove: () => tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', box()),
  };
  const forwarding = {
    get: (caller: Client) => caller.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', box()),
    put: (caller: Client, body: ApiSchema<'PutForwardingDto'>) =>
      caller.typed.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', { ...box(), body }),
    remove: () => tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', box()),
  };

  describe('vacation', () => {
    it('sets, reads, replaces and removes the auto-reply, with audit entries', async () => {
      expectProblem(await vacation.get(tenant.admin), 404);
      const put = expectStatus(
        await vacation.put({
          subject: 'Away',
          body: 'Back on Monday.',
          startsAt: '2020-01-01T00:00:00Z',
          endsAt: '2099-01-01T00:00:00Z',
        }),
        200,
      );
      expect(put).toMatchObject({
        enabled: true,
        subject: 'Away',
        intervalDays: 7,
        activeNow: true,
        startsAt: '2020-01-01T00:00:00.000Z',
      });
      const replaced = expectStatus(
        await vacation.put({ subject: 'Away', body: 'Later.', enabled: false, intervalDays: 3 }),
        200,
      );
      expect(replaced).toMatchObject({ enabled: false, activeNow: false, startsAt: null, intervalDays: 3 });
      expect(expectStatus(await vacation.get(tenant.viewer), 200).body).toBe('Later.');
      expectStatus(await vacation.remove(), 204);
      expectProblem(await vacation.get(tenant.admin), 404);
      expect(await auditActions('vacation.*')).toEqual(['vacation.delete', 'vacation.update', 'vacation.update']);
    });

    it('names invalid fields', async () => {
      const res = expectProblem(
        await vacation.put({ subject: 'Two\nlines', body: '', intervalDays: 0, startsAt: 'tomorrow' }),
        422,
      );
      expect(res.errors?.map((e) => e.field).sort()).toEqual(['body', 'intervalDays', 'startsAt', 'subject']);
      const order = expectProblem(
        await vacation.put({
          subject: 'x',
          body: 'y',
          startsAt: '2030-01-02T00:00:00Z',
          endsAt: '2030-01-01T00:00:00Z',
        }),
        422,
      );
      expect(order.errors).toEqual([{ field: 'endsAt', message: 'must be after startsAt' }]);
    });
  });

  describe('forwarding', () => {
    it('sets, reads and removes forwarding, with audit entries', async () => {
      expectProblem(await forwarding.get(tenant.admin), 404);
      const put = expectStatus(
        await forwarding.put(tenant.admin, {
          targets: ['Alice@Home.example', 'backup@archive.example'],
          keepCopy: false,
        }),
        200,
      );
      expect(put).toMatchObject({
        mailboxId,
        targets: ['Alice@home.example', 'backup@archive.example'],
        keepCopy: false,
        enabled: true,
      });
      expect(expectStatus(await forwarding.get(tenant.viewer), 200).keepCopy).toBe(false);
      expectStatus(await forwarding.remove(), 204);
      expectStatus(await forwarding.remove(), 204);
      expect(await auditActions('forwarding.*')).toEqual(['forwarding.delete', 'forwarding.update']);
    });

    it('refuses targets in the tenant’s own domains, bad and repeated ones', async () => {
      const res = expectProblem(
        await forwarding.put(tenant.admin, {
          targets: ['bob@mail.example', 'nope', 'x@ext.example', 'X@ext.example'],
        }),
        422,
      );
      expect(res.errors).toEqual([
        {
          field: 'targets.0',
          message:
            "bob@mail.example is in this tenant's own domains: forward to outside addresses, and use an alias for local copies",
        },
        { field: 'targets.1', message: 'must be an address like name@example.com' },
        { field: 'targets.3', message: 'repeats targets.2' },
      ]);
      expectProblem(await forwarding.put(tenant.viewer, { targets: ['a@ext.example'] }), 403);
    });
  });
});
