import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import type { ApiSchema } from '@mailroom/api-client';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;
const DEFAULTS = { inbox: null, sent: null, drafts: null, trash: 30, junk: 30, archive: null, custom: null };

describe('retention policies', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Tenant;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
    await addDomain(db, tenant.id, 'keep.example');
    const box = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
      params: { path: { tenantId: tenant.id } },
      body: { localPart: 'ceo', domain: 'keep.example', password: 'tangerine-orbit-42' },
    });
    mailboxId = expectStatus(box, 201).id;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const path = () => `/v1/tenants/${tenant.id}/retention`;
  const at = () => ({ params: { path: { tenantId: tenant.id } } });
  const ofMailbox = (id: string) => ({ params: { path: { tenantId: tenant.id, mailboxId: id } } });
  const put = (caller: Client, body: ApiSchema<'PutTenantRetentionDto'>) =>
    caller.typed.PUT('/v1/tenants/{tenantId}/retention', { ...at(), body });
  const audit = async (action: string) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action } },
      }),
      200,
    ).items;
  const mailboxUrl = '/v1/tenants/{tenantId}/retention/mailboxes/{mailboxId}';
  const listOverrides = async (caller: Client) =>
    expectStatus(await caller.typed.GET('/v1/tenants/{tenantId}/retention/mailboxes', at()), 200).items;

  it('starts with 30 days for Trash and Junk and no limit elsewhere', async () => {
    const res = await tenant.viewer.typed.GET('/v1/tenants/{tenantId}/retention', at());
    expect(expectStatus(res, 200)).toEqual({ days: DEFAULTS, configured: {} });
  });

  it('replaces the tenant policy and audits it', async () => {
    const res = expectStatus(await put(tenant.admin, { days: { trash: 14, inbox: 3650 } }), 200);
    expect(res).toEqual({ days: { ...DEFAULTS, trash: 14, inbox: 3650 }, configured: { trash: 14, inbox: 3650 } });
    const again = await put(tenant.admin, { days: { junk: 7 } });
    expect(again.data?.days).toEqual({ ...DEFAULTS, junk: 7 });
    expect(await db.prisma.retentionPolicy.count({ where: { tenantId: tenant.id, mailboxId: null } })).toBe(1);
    const entries = await audit('retention.update');
    expect(entries).toHaveLength(2);
    // before/after are any JSON (the audited policy), so the document cannot type them further.
    type Policy = { days: Record<string, number> };
    expect((entries[0]?.before as Policy).days.trash).toBe(14);
    expect((entries[0]?.after as Policy).days.junk).toBe(7);
  });

  it('overrides per mailbox on top of the tenant policy, lists and removes overrides', async () => {
    const initial = await tenant.admin.typed.GET(mailboxUrl, ofMailbox(mailboxId));
    expect(initial.data).toEqual({
      mailboxId,
      address: 'ceo@keep.example',
      overrides: {},
      effective: { ...DEFAULTS, junk: 7 },
    });
    const override = await tenant.admin.typed.PUT(mailboxUrl, {
      ...ofMailbox(mailboxId),
      body: { days: { trash: 90, sent: 365 } },
    });
    expect(expectStatus(override, 200).effective).toEqual({ ...DEFAULTS, junk: 7, trash: 90, sent: 365 });
    expect((await listOverrides(tenant.viewer)).map((m) => m.address)).toEqual(['ceo@keep.example']);
    expectStatus(await tenant.admin.typed.DELETE(mailboxUrl, ofMailbox(mailboxId)), 204);
    expect((await tenant.admin.typed.GET(mailboxUrl, ofMailbox(mailboxId))).data?.overrides).toEqual({});
    expect(await listOverrides(tenant.admin)).toEqual([]);
    expect((await audit('retention.mailbox_*')).map((e) => e.action)).toEqual([
      'retention.mailbox_delete',
      'retention.mailbox_update',
    ]);
    const unknown = await tenant.admin.typed.GET(mailboxUrl, ofMailbox('00000000-0000-0000-0000-000000000000'));
    expectProblem(unknown, 404);
  });

  it('names invalid fields', async () => {
    // Raw: ill-typed and unknown fields, and a missing one, on purpose.
    const res = await tenant.admin.request('PUT', path(), { days: { trash: 0, junk: 1.5, spam: 3, inbox: null } });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'days.inbox',
      'days.junk',
      'days.spam',
      'days.trash',
    ]);
    expect(res.body.errors.find((e: { field: string }) => e.field === 'days.trash').message).toBe(
      'must be at least 1 day',
    );
    const missing = await tenant.admin.request('PUT', path(), {});
    expect(missing.body.errors[0].field).toBe('days');
  });

  it('keeps viewers to reading', async () => {
    const res = expectProblem(await put(tenant.viewer, { days: {} }), 403);
    expect(res.detail).toBe('This credential lacks the scope retention:write.');
  });
});
