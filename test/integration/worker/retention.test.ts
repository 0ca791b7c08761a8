import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createPrismaClient } from '@mailroom/db';
import { JobName } from '@mailroom/queue';
import { createMaintenanceMetrics, type MaintenanceContext } from '@mailroom/worker/maintenance/job-run';
import { runRetention } from '@mailroom/worker/maintenance/retention';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { addMessages, countIn, expectExactQuota, seedTenant } from '@test/support/worker-fixtures';

describe(JobName.RetentionRun, () => {
  let db: TestDatabase;
  let ctx: MaintenanceContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = { prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('deletes Trash and Junk mail older than 30 days, keeps 29-day-old mail and never touches the Inbox', async () => {
    const t = await seedTenant(db.prisma);
    const [b] = t.boxes;
    await addMessages(db.prisma, t, b!.id, b!.trash, 3, 31, 1_000);
    await addMessages(db.prisma, t, b!.id, b!.trash, 2, 29, 1_000);
    await addMessages(db.prisma, t, b!.id, b!.junk, 4, 45, 500);
    await addMessages(db.prisma, t, b!.id, b!.inbox, 5, 400, 700);
    await addMessages(db.prisma, t, b!.id, b!.archive, 1, 400, 700);

    const sut = await runRetention(ctx, undefined);

    expect(await countIn(db.prisma, b!.trash)).toBe(2);
    expect(await countIn(db.prisma, b!.junk)).toBe(0);
    expect(await countIn(db.prisma, b!.inbox)).toBe(5);
    expect(await countIn(db.prisma, b!.archive)).toBe(1);
    expect(sut.messagesDeleted).toBeGreaterThanOrEqual(7);
    const mb = await db.prisma.mailbox.findFirstOrThrow({ where: { id: b!.id } });
    expect(mb.usedBytes).toBe(BigInt(2 * 1_000 + 5 * 700 + 700));
    expect(mb.messageCount).toBe(8);
    await expectExactQuota(db.prisma, t.tenantId);

    // One audit entry for the run and the mailbox, with the counts; one run row for the tenant.
    const audit = await db.prisma.auditLog.findMany({ where: { tenantId: t.tenantId, action: 'retention.purge' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'system', targetType: 'mailbox', targetId: b!.id });
    expect(audit[0]!.after).toMatchObject({ messages: 7, bytes: 3 * 1_000 + 4 * 500 });
    const runs = await db.prisma.jobRun.findMany({ where: { tenantId: t.tenantId, name: JobName.RetentionRun } });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded' });
    expect(runs[0]!.stats).toMatchObject({
      messagesDeleted: 7,
      bytesFreed: 5_000,
      mailboxes: 1,
      byFolderKind: { trash: { messages: 3, bytes: 3_000 }, junk: { messages: 4, bytes: 2_000 } },
    });

    // A second run finds nothing more: idempotent.
    await runRetention(ctx, undefined);
    expect(await countIn(db.prisma, b!.trash)).toBe(2);
    expect(await db.prisma.auditLog.count({ where: { tenantId: t.tenantId, action: 'retention.purge' } })).toBe(1);
  });

  it('lets a mailbox override win over the tenant policy, and the tenant policy over the default', async () => {
    const t = await seedTenant(db.prisma, 2);
    const [a, b] = t.boxes;
    await db.prisma.retentionPolicy.createMany({
      data: [
        { tenantId: t.tenantId, mailboxId: null, folderKind: 'trash', days: 10 },
        { tenantId: t.tenantId, mailboxId: null, folderKind: 'archive', days: 365 },
        { tenantId: t.tenantId, mailboxId: b!.id, folderKind: 'trash', days: 60 },
        { tenantId: t.tenantId, mailboxId: b!.id, folderKind: 'inbox', days: 90 },
      ],
    });
    for (const box of [a!, b!]) {
      await addMessages(db.prisma, t, box.id, box.trash, 2, 15);
      await addMessages(db.prisma, t, box.id, box.trash, 2, 61);
      await addMessages(db.prisma, t, box.id, box.inbox, 3, 100);
      await addMessages(db.prisma, t, box.id, box.archive, 1, 366);
    }

    await runRetention(ctx, undefined);

    expect(await countIn(db.prisma, a!.trash)).toBe(0); // tenant: 10 days
    expect(await countIn(db.prisma, b!.trash)).toBe(2); // override: 60 days
    expect(await countIn(db.prisma, a!.inbox)).toBe(3); // no limit
    expect(await countIn(db.prisma, b!.inbox)).toBe(0); // override: 90 days
    expect(await countIn(db.prisma, a!.archive)).toBe(0); // tenant: 365 days
    expect(await countIn(db.prisma, b!.archive)).toBe(0);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('removes nothing from a mailbox or a tenant on legal hold', async () => {
    const held = await seedTenant(db.prisma, 2);
    const [x, y] = held.boxes;
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: held.tenantId, id: x!.id } },
      data: { legalHold: true, legalHoldReason: 'case 42' },
    });
    await addMessages(db.prisma, held, x!.id, x!.trash, 3, 100);
    await addMessages(db.prisma, held, y!.id, y!.trash, 3, 100);
    const wholeTenant = await seedTenant(db.prisma);
    await db.prisma.tenant.update({ where: { id: wholeTenant.tenantId }, data: { legalHold: true } });
    await addMessages(db.prisma, wholeTenant, wholeTenant.boxes[0]!.id, wholeTenant.boxes[0]!.trash, 3, 100);

    await runRetention(ctx, undefined);

    expect(await countIn(db.prisma, x!.trash)).toBe(3);
    expect(await countIn(db.prisma, y!.trash)).toBe(0);
    expect(await countIn(db.prisma, wholeTenant.boxes[0]!.trash)).toBe(3);
  });

  it('deletes each message exactly once when two workers run at the same time, with small batches', async () => {
    const t = await seedTenant(db.prisma, 4);
    for (const box of t.boxes) {
      await addMessages(db.prisma, t, box.id, box.trash, 2_500, 40, 10);
      await addMessages(db.prisma, t, box.id, box.junk, 500, 40, 10);
      await addMessages(db.prisma, t, box.id, box.trash, 100, 5, 10);
    }
    const before = await db.prisma.message.count({ where: { tenantId: t.tenantId } });
    const second = createPrismaClient({ url: db.url, poolSize: 4, applicationName: 'mailroom-test-2' });
    try {
      const other: MaintenanceContext = { prisma: second, metrics: createMaintenanceMetrics(new Registry()) };
      const [r1, r2] = await Promise.all([
        runRetention(ctx, undefined, { batchSize: 200 }),
        runRetention(other, undefined, { batchSize: 200 }),
      ]);
      const expected = 4 * 3_000;
      expect(before - (await db.prisma.message.count({ where: { tenantId: t.tenantId } }))).toBe(expected);
      // Both runs counted what they deleted; a message deleted twice would count twice.
      const audits = await db.prisma.auditLog.findMany({ where: { tenantId: t.tenantId, action: 'retention.purge' } });
      const audited = audits.reduce((sum, a) => sum + Number((a.after as { messages: number }).messages), 0);
      expect(audited).toBe(expected);
      const runs = await db.prisma.jobRun.findMany({ where: { tenantId: t.tenantId, name: JobName.RetentionRun } });
      expect(runs.reduce((sum, r) => sum + Number((r.stats as { messagesDeleted: number }).messagesDeleted), 0)).toBe(
        expected,
      );
      expect((r1.messagesDeleted ?? 0) + (r2.messagesDeleted ?? 0)).toBeGreaterThanOrEqual(expected);
      await expectExactQuota(db.prisma, t.tenantId);
      for (const box of t.boxes) expect(await countIn(db.prisma, box.trash)).toBe(100);
    } finally {
      await second.$disconnect();
    }
  });

  it('resumes after a run is killed between batches and ends as an uninterrupted run would', async () => {
    const t = await seedTenant(db.prisma, 2);
    for (const box of t.boxes) await addMessages(db.prisma, t, box.id, box.trash, 1_000, 40, 10);
    // A run that dies after three committed batches that deleted mail: their work is all that is left.
    let batches = 0;
    const dying: MaintenanceContext = {
      ...ctx,
      prisma: new Proxy(db.prisma, {
        get(target, prop, receiver) {
          if (prop === '$transaction') {
            return async (...args: unknown[]) => {
              if (batches >= 3) throw new Error('killed');
              const result = await (target.$transaction as (...a: unknown[]) => Promise<{ deleted?: number }>)(...args);
              if ((result.deleted ?? 0) > 0) batches++;
              return result;
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }),
    };
    await expect(runRetention(dying, undefined, { batchSize: 250 })).rejects.toThrow('killed');
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId } })).toBe(2_000 - 750);
    await expectExactQuota(db.prisma, t.tenantId);

    await runRetention(ctx, undefined, { batchSize: 250 });
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId } })).toBe(0);
    await expectExactQuota(db.prisma, t.tenantId);
    const audits = await db.prisma.auditLog.findMany({ where: { tenantId: t.tenantId, action: 'retention.purge' } });
    expect(audits.reduce((sum, a) => sum + Number((a.after as { messages: number }).messages), 0)).toBe(2_000);
  });
});
