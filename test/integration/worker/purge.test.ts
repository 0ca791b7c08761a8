import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { JobName } from '@mailroom/queue';
import { createMaintenanceMetrics, type MaintenanceContext } from '@mailroom/worker/maintenance/job-run';
import { runPurge } from '@mailroom/worker/maintenance/purge';
import { maintenanceHandlers } from '@mailroom/worker/processors/maintenance.processor';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { addMessages, seedTenant } from '@test/support/worker-fixtures';

const DAY = 86_400_000;

describe(JobName.PurgeDeleted, () => {
  let db: TestDatabase;
  let ctx: MaintenanceContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = { prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) };
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function withRules(tenantId: string, mailboxId: string) {
    await db.prisma.filterRule.create({
      data: { tenantId, mailboxId, position: 1, name: 'r', conditions: [], actions: [] },
    });
    await db.prisma.forwardingRule.create({ data: { tenantId, mailboxId, targets: ['x@example.net'] } });
    await db.prisma.retentionPolicy.create({ data: { tenantId, mailboxId, folderKind: 'inbox', days: 5 } });
  }

  it('purges a deleted mailbox in batches with its folders and rules, and keeps held and live ones', async () => {
    const t = await seedTenant(db.prisma, 3);
    const [gone, held, live] = t.boxes;
    for (const box of t.boxes) {
      await addMessages(db.prisma, t, box.id, box.inbox, 2_500, 1, 10);
      await withRules(t.tenantId, box.id);
    }
    await db.prisma.mailbox.updateMany({
      where: { tenantId: t.tenantId, id: { in: [gone!.id, held!.id] } },
      data: { status: 'deleted', deletedAt: new Date() },
    });
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: held!.id } },
      data: { legalHold: true },
    });

    const sut = await runPurge(ctx, undefined);

    expect(sut).toMatchObject({ mailboxes: 1, messagesDeleted: 2_500, bytesFreed: 25_000 });
    expect(await db.prisma.mailbox.findMany({ where: { tenantId: t.tenantId }, select: { id: true } })).toHaveLength(2);
    for (const [table, n] of [
      ['messages', 0],
      ['folders', 0],
      ['filter_rules', 0],
      ['forwarding_rules', 0],
      ['retention_policies', 0],
    ] as const) {
      const rows = await db.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${table}" WHERE mailbox_id = $1::uuid`,
        gone!.id,
      );
      expect(rows[0]!.n, table).toBe(n);
    }
    expect(await db.prisma.message.count({ where: { mailboxId: held!.id } })).toBe(2_500);
    expect(await db.prisma.message.count({ where: { mailboxId: live!.id } })).toBe(2_500);
    const audit = await db.prisma.auditLog.findMany({ where: { tenantId: t.tenantId, action: 'mailbox.purge' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.after).toMatchObject({ messages: 2_500, bytes: 25_000, removed: 1 });
  });

  it('purges a deleted domain: its mailboxes, aliases and DKIM keys', async () => {
    const t = await seedTenant(db.prisma, 2);
    await addMessages(db.prisma, t, t.boxes[0]!.id, t.boxes[0]!.inbox, 10, 1);
    await db.prisma.alias.create({
      data: { tenantId: t.tenantId, domainId: t.domainId, localPart: 'sales', destinations: ['u0@x'] },
    });
    await db.prisma.dkimKey.create({
      data: { tenantId: t.tenantId, domainId: t.domainId, selector: 's1', publicKey: 'p', privateKeyEncrypted: 'k' },
    });
    await db.prisma.domain.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: t.domainId } },
      data: { deletedAt: new Date(), status: 'suspended' },
    });

    await runPurge(ctx, undefined);

    expect(await db.prisma.domain.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect(await db.prisma.mailbox.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect(await db.prisma.alias.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect(await db.prisma.dkimKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect(await db.prisma.auditLog.count({ where: { tenantId: t.tenantId, action: 'domain.purge' } })).toBe(1);
  });

  it('purges a deleted tenant only after its grace period, and never one on legal hold', async () => {
    const inGrace = await seedTenant(db.prisma);
    const due = await seedTenant(db.prisma);
    const dueHeld = await seedTenant(db.prisma);
    for (const t of [inGrace, due, dueHeld]) await addMessages(db.prisma, t, t.boxes[0]!.id, t.boxes[0]!.inbox, 5, 1);
    const mark = (id: string, purgeAfter: Date, legalHold = false) =>
      db.prisma.tenant.update({
        where: { id },
        data: { status: 'deleted', deletedAt: new Date(), purgeAfter, legalHold },
      });
    await mark(inGrace.tenantId, new Date(Date.now() + DAY));
    await mark(due.tenantId, new Date(Date.now() - 1_000));
    await mark(dueHeld.tenantId, new Date(Date.now() - 1_000), true);

    await runPurge(ctx, undefined);

    expect(await db.prisma.tenant.findUnique({ where: { id: due.tenantId } })).toBeNull();
    expect(await db.prisma.messageBlob.count({ where: { tenantId: due.tenantId } })).toBe(0);
    expect(await db.prisma.auditLog.count({ where: { tenantId: due.tenantId, action: 'tenant.purge' } })).toBe(1);
    for (const kept of [inGrace, dueHeld]) {
      expect(await db.prisma.message.count({ where: { tenantId: kept.tenantId } })).toBe(5);
      expect(await db.prisma.domain.count({ where: { tenantId: kept.tenantId, deletedAt: null } })).toBe(1);
    }
  });

  it('cleanup-history deletes old delivery events and finished webhook deliveries', async () => {
    const t = await seedTenant(db.prisma);
    const outbound = await db.prisma.outboundMessage.create({
      data: {
        tenantId: t.tenantId,
        kind: 'submission',
        envelopeFrom: 'a@x',
        fromDomain: 'x',
        blobSha256: t.sha256,
        size: 1,
      },
    });
    const delivery = await db.prisma.delivery.create({
      data: {
        tenantId: t.tenantId,
        outboundMessageId: outbound.id,
        recipient: 'b@y',
        recipientDomain: 'y',
        expiresAt: new Date(Date.now() + DAY),
      },
    });
    const old = new Date(Date.now() - 91 * DAY);
    await db.prisma.deliveryEvent.createMany({
      data: [
        { tenantId: t.tenantId, deliveryId: delivery.id, type: 'queued', createdAt: old },
        { tenantId: t.tenantId, deliveryId: delivery.id, type: 'attempt' },
      ],
    });
    const hook = await db.prisma.webhook.create({
      data: { tenantId: t.tenantId, url: 'https://h.example', secretEncrypted: 'x', events: ['*'] },
    });
    await db.prisma.webhookDelivery.createMany({
      data: [
        { tenantId: t.tenantId, webhookId: hook.id, event: 'e', payload: {}, status: 'delivered', createdAt: old },
        { tenantId: t.tenantId, webhookId: hook.id, event: 'e', payload: {}, status: 'pending', createdAt: old },
        { tenantId: t.tenantId, webhookId: hook.id, event: 'e', payload: {}, status: 'failed' },
      ],
    });

    const handlers = maintenanceHandlers({
      prisma: db.prisma,
      config: {
        DELIVERY_EVENT_RETENTION_DAYS: 90,
        WEBHOOK_LOG_RETENTION_DAYS: 30,
        JOB_RUN_RETENTION_DAYS: 90,
        EXPUNGE_LOG_RETENTION_DAYS: 90,
      },
      agent: { sweep: async () => [] },
      producer: { add: async () => undefined },
    });
    const sut = await handlers[JobName.CleanupHistory]({}, {} as never);

    expect(sut).toMatchObject({ deliveryEvents: 1, webhookDeliveries: 1 });
    expect(await db.prisma.deliveryEvent.count({ where: { tenantId: t.tenantId } })).toBe(1);
    expect(
      (await db.prisma.webhookDelivery.findMany({ where: { tenantId: t.tenantId } })).map((d) => d.status).sort(),
    ).toEqual(['failed', 'pending']);
  });

  it('cleanup-history keeps history for as many days as the settings say', async () => {
    const t = await seedTenant(db.prisma);
    const outbound = await db.prisma.outboundMessage.create({
      data: {
        tenantId: t.tenantId,
        kind: 'submission',
        envelopeFrom: 'a@x',
        fromDomain: 'x',
        blobSha256: t.sha256,
        size: 100,
      },
    });
    const delivery = await db.prisma.delivery.create({
      data: {
        tenantId: t.tenantId,
        outboundMessageId: outbound.id,
        recipient: 'b@y',
        recipientDomain: 'y',
        expiresAt: new Date(Date.now() + DAY),
      },
    });
    await db.prisma.deliveryEvent.createMany({
      data: [
        { tenantId: t.tenantId, deliveryId: delivery.id, type: 'queued', createdAt: new Date(Date.now() - 11 * DAY) },
        { tenantId: t.tenantId, deliveryId: delivery.id, type: 'attempt', createdAt: new Date(Date.now() - 9 * DAY) },
      ],
    });
    const handlers = maintenanceHandlers({
      prisma: db.prisma,
      config: {
        DELIVERY_EVENT_RETENTION_DAYS: 10,
        WEBHOOK_LOG_RETENTION_DAYS: 30,
        JOB_RUN_RETENTION_DAYS: 90,
        EXPUNGE_LOG_RETENTION_DAYS: 90,
      },
      agent: { sweep: async () => [] },
      producer: { add: async () => undefined },
    });

    const sut = await handlers[JobName.CleanupHistory]({}, {} as never);

    expect(sut).toMatchObject({ deliveryEvents: 1 });
    expect((await db.prisma.deliveryEvent.findMany({ where: { tenantId: t.tenantId } })).map((e) => e.type)).toEqual([
      'attempt',
    ]);
  });
});
