import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { JobName } from '@mailroom/queue';
import { createMaintenanceMetrics } from '@mailroom/worker/maintenance/job-run';
import { runRetention } from '@mailroom/worker/maintenance/retention';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';
import { addMessages } from '@test/support/worker-fixtures';

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
    const path = '/v1/tenants/{tenantId}/mailboxes/{mailboxId}/legal-hold';
    const held = { params: { path: { tenantId: tenant.id, mailboxId } } };
    const hold = (caller: Client, reason: string) => caller.typed.PUT(path, { ...held, body: { reason } });
    expectProblem(await hold(tenant.admin, ''), 422);
    expectProblem(await hold(tenant.viewer, 'x'), 403);

    const put = expectStatus(await hold(tenant.admin, 'Matter 2024-17'), 200);
    expect(put).toMatchObject({ legalHold: true, reason: 'Matter 2024-17', setBy: tenant.adminEmail });
    expect((await tenant.viewer.typed.GET(path, held)).data).toMatchObject({ legalHold: true });
    const audit = await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
      params: { path: { tenantId: tenant.id }, query: { action: 'mailbox.legal_hold_set' } },
    });
    const entries = expectStatus(audit, 200).items;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ targetId: mailboxId, after: { reason: 'Matter 2024-17' } });

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

    expectStatus(await tenant.admin.typed.DELETE(path, held), 204);
    expect((await tenant.admin.typed.GET(path, held)).data).toEqual({
      legalHold: false,
      reason: null,
      setBy: null,
      setAt: null,
    });
    await runRetention({ prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) }, undefined);
    expect(await db.prisma.message.count({ where: { mailboxId } })).toBe(0);

    // Retention runs show what the run deleted.
    const runs = await tenant.viewer.typed.GET('/v1/tenants/{tenantId}/retention/runs', {
      params: { path: { tenantId: tenant.id }, query: { limit: 1 } },
    });
    expect(expectStatus(runs, 200).items[0]).toMatchObject({
      status: 'succeeded',
      messagesDeleted: 3,
      bytesFreed: 300,
      mailboxes: 1,
      byFolderKind: { trash: { messages: 3, bytes: 300 } },
    });
  });

  it('holds the whole tenant, audit-logged; lifting an absent hold changes nothing', async () => {
    const path = '/v1/tenants/{tenantId}/legal-hold';
    const ofTenant = { params: { path: { tenantId: tenant.id } } };
    const put = await tenant.key.typed.PUT(path, { ...ofTenant, body: { reason: 'x' } });
    expectProblem(put, 403); // the key lacks retention:write
    expect(
      (await tenant.admin.typed.PUT(path, { ...ofTenant, body: { reason: 'Regulator request' } })).data,
    ).toMatchObject({
      legalHold: true,
      reason: 'Regulator request',
    });
    expect((await db.prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).legalHold).toBe(true);
    expectStatus(await tenant.admin.typed.DELETE(path, ofTenant), 204);
    expectStatus(await tenant.admin.typed.DELETE(path, ofTenant), 204);
    const audit = await db.prisma.auditLog.findMany({
      where: { tenantId: tenant.id, action: { startsWith: 'tenant.legal_hold' } },
      orderBy: { createdAt: 'asc' },
    });
    expect(audit.map((a) => a.action)).toEqual(['tenant.legal_hold_set', 'tenant.legal_hold_lift']);
    expect(audit[0]).toMatchObject({ actorLabel: tenant.adminEmail });
  });

  it('lets only platform admins run a scheduled job now', async () => {
    const run = (caller: Client, jobName: string) =>
      caller.typed.POST('/v1/admin/jobs/{jobName}/run', { params: { path: { jobName } } });
    const ok = expectStatus(await run(sut.platform, JobName.RetentionRun), 202);
    expect(ok).toMatchObject({ job: JobName.RetentionRun, queued: true });
    expectProblem(await run(sut.platform, 'domains.check'), 404);
    expectProblem(await run(tenant.admin, JobName.RetentionRun), 403);
    const audit = await db.prisma.auditLog.findFirst({ where: { action: 'job.run', targetId: JobName.RetentionRun } });
    expect(audit).not.toBeNull();
  });
});
