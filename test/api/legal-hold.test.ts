import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { JobName } from '@mailroom/queue';
import { createMaintenanceMetrics } from '../../apps/worker/src/maintenance/job-run';
import { runRetention } from '../../apps/worker/src/maintenance/retention';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session, startApi, type TestApi } from '../support/api';
import { addMessages } from '../worker-fixtures';

describe('legal hold, retention runs and admin job runs', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  async function mailboxOfTenant() {
    const domain = await db.prisma.domain.create({
      data: { tenantId: tenant.id, name: `h${Date.now()}.example`, unicodeName: 'h', ownershipToken: 't' },
    });
    const mb = await db.prisma.mailbox.create({
      data: { tenantId: tenant.id, domainId: domain.id, localPart: `m${Date.now()}`, passwordHash: 'x' },
    });
    return mb.id;
  }

  it('a tenant admin holds a mailbox with a reason; who and why are in the audit log; retention skips it', async () => {
    const mailboxId = await mailboxOfTenant();
    const path = `/v1/tenants/${tenant.id}/mailboxes/${mailboxId}/legal-hold`;
    expect((await tenant.admin.request('PUT', path, { reason: '' })).status).toBe(422);
    expect((await tenant.viewer.request('PUT', path, { reason: 'x' })).status).toBe(403);

    const put = await tenant.admin.request('PUT', path, { reason: 'Matter 2024-17' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ legalHold: true, reason: 'Matter 2024-17', setBy: tenant.adminEmail });
    expect((await tenant.viewer.get(path)).body).toMatchObject({ legalHold: true });
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=mailbox.legal_hold_set`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ targetId: mailboxId, after: { reason: 'Matter 2024-17' } });

    // The mailbox cannot be deleted while held, and retention removes nothing from it.
    const folder = await db.prisma.folder.create({
      data: { tenantId: tenant.id, mailboxId, name: 'Trash', kind: 'trash' },
    });
    const blob = await db.prisma.messageBlob.create({
      data: { tenantId: tenant.id, sha256: 'ab'.repeat(32), size: 1 },
    });
    await addMessages(db.prisma, { tenantId: tenant.id, sha256: blob.sha256 }, mailboxId, folder.id, 3, 100);
    await runRetention({ prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) }, undefined);
    expect(await db.prisma.message.count({ where: { mailboxId } })).toBe(3);

    expect((await tenant.admin.delete(path)).status).toBe(204);
    expect((await tenant.admin.get(path)).body).toEqual({ legalHold: false, reason: null, setBy: null, setAt: null });
    await runRetention({ prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) }, undefined);
    expect(await db.prisma.message.count({ where: { mailboxId } })).toBe(0);

    // Retention runs show what the run deleted.
    const runs = await tenant.viewer.get(`/v1/tenants/${tenant.id}/retention/runs?limit=1`);
    expect(runs.status).toBe(200);
    expect(runs.body.items[0]).toMatchObject({
      status: 'succeeded',
      messagesDeleted: 3,
      bytesFreed: 300,
      mailboxes: 1,
      byFolderKind: { trash: { messages: 3, bytes: 300 } },
    });
  });

  it('holds the whole tenant, audit-logged; lifting an absent hold changes nothing', async () => {
    const path = `/v1/tenants/${tenant.id}/legal-hold`;
    const put = await tenant.key.request('PUT', path, { reason: 'x' });
    expect(put.status).toBe(403); // the key lacks retention:write
    expect((await tenant.admin.request('PUT', path, { reason: 'Regulator request' })).body).toMatchObject({
      legalHold: true,
      reason: 'Regulator request',
    });
    expect((await db.prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).legalHold).toBe(true);
    expect((await tenant.admin.delete(path)).status).toBe(204);
    expect((await tenant.admin.delete(path)).status).toBe(204);
    const audit = await db.prisma.auditLog.findMany({
      where: { tenantId: tenant.id, action: { startsWith: 'tenant.legal_hold' } },
      orderBy: { createdAt: 'asc' },
    });
    expect(audit.map((a) => a.action)).toEqual(['tenant.legal_hold_set', 'tenant.legal_hold_lift']);
    expect(audit[0]).toMatchObject({ actorLabel: tenant.adminEmail });
  });

  it('lets only platform admins run a scheduled job now', async () => {
    const ok = await sut.platform.post('/v1/admin/jobs/retention.run/run');
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ job: JobName.RetentionRun, queued: true });
    expect((await sut.platform.post('/v1/admin/jobs/domains.check/run')).status).toBe(404);
    expect((await tenant.admin.post('/v1/admin/jobs/retention.run/run')).status).toBe(403);
    const audit = await db.prisma.auditLog.findFirst({ where: { action: 'job.run', targetId: JobName.RetentionRun } });
    expect(audit).not.toBeNull();
  });
});
