import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session, startApi, type TestApi } from '../support/api';
import { addDomain } from './walk/mail-fixtures';

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
    const box = await tenant.admin.post(`/v1/tenants/${tenant.id}/mailboxes`, {
      localPart: 'ceo',
      domain: 'keep.example',
      password: 'tangerine-orbit-42',
    });
    mailboxId = box.body.id;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const path = () => `/v1/tenants/${tenant.id}/retention`;

  it('starts with 30 days for Trash and Junk and no limit elsewhere', async () => {
    const res = await tenant.viewer.get(path());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ days: DEFAULTS, configured: {} });
  });

  it('replaces the tenant policy and audits it', async () => {
    const res = await tenant.admin.request('PUT', path(), { days: { trash: 14, inbox: 3650 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ days: { ...DEFAULTS, trash: 14, inbox: 3650 }, configured: { trash: 14, inbox: 3650 } });
    const again = await tenant.admin.request('PUT', path(), { days: { junk: 7 } });
    expect(again.body.days).toEqual({ ...DEFAULTS, junk: 7 });
    expect(await db.prisma.retentionPolicy.count({ where: { tenantId: tenant.id, mailboxId: null } })).toBe(1);
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=retention.update`);
    expect(audit.body.items).toHaveLength(2);
    expect(audit.body.items[0].before.days.trash).toBe(14);
    expect(audit.body.items[0].after.days.junk).toBe(7);
  });

  it('overrides per mailbox on top of the tenant policy, lists and removes overrides', async () => {
    const url = `${path()}/mailboxes/${mailboxId}`;
    const initial = await tenant.admin.get(url);
    expect(initial.body).toEqual({
      mailboxId,
      address: 'ceo@keep.example',
      overrides: {},
      effective: { ...DEFAULTS, junk: 7 },
    });
    const put = await tenant.admin.request('PUT', url, { days: { trash: 90, sent: 365 } });
    expect(put.status).toBe(200);
    expect(put.body.effective).toEqual({ ...DEFAULTS, junk: 7, trash: 90, sent: 365 });
    const list = await tenant.viewer.get(`${path()}/mailboxes`);
    expect(list.body.items.map((m: { address: string }) => m.address)).toEqual(['ceo@keep.example']);
    expect((await tenant.admin.delete(url)).status).toBe(204);
    expect((await tenant.admin.get(url)).body.overrides).toEqual({});
    expect((await tenant.admin.get(`${path()}/mailboxes`)).body.items).toEqual([]);
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=retention.mailbox_*`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'retention.mailbox_delete',
      'retention.mailbox_update',
    ]);
    expect((await tenant.admin.get(`${path()}/mailboxes/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
  });

  it('names invalid fields', async () => {
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
    const res = await tenant.viewer.request('PUT', path(), { days: {} });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('This credential lacks the scope retention:write.');
  });
});
