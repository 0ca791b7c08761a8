import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { MailStore, type DeliverRequest } from '@mailroom/mailstore';
import { createMaintenanceMetrics, type MaintenanceContext } from '@mailroom/worker/maintenance/job-run';
import { runPurge } from '@mailroom/worker/maintenance/purge';
import { runQuotaRecount } from '@mailroom/worker/maintenance/quota';
import { runRetention } from '@mailroom/worker/maintenance/retention';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { addMessages, expectExactQuota, seedTenant } from '@test/support/worker-fixtures';

const DAY = 86_400_000;

/** Retention, purge and the quota recount over rows the mail store wrote (real PostgreSQL). */
describe('maintenance jobs through the mail store', () => {
  let db: TestDatabase;
  let ctx: MaintenanceContext;
  let store: MailStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = { prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) };
    store = new MailStore(db.prisma);
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** One received message into a special folder of one mailbox, as the inbound MX stores it. */
  function inbound(tenantId: string, mailboxId: string, folder: 'inbox' | 'junk', n: number): DeliverRequest {
    const bytes = Buffer.from(`From: a@example.net\r\nSubject: m${n}\r\n\r\nbody ${n} ${'x'.repeat(n * 10)}\r\n`);
    return {
      bytes,
      envelopeFrom: 'a@example.net',
      forwardSender: 'a@example.net',
      remoteIp: '192.0.2.1',
      helo: 'mx.example.net',
      header: {
        messageId: null,
        subject: `m${n}`,
        fromAddress: 'a@example.net',
        fromName: null,
        toAddresses: [],
        sentAt: null,
        sortKeys: null,
      },
      spamScore: null,
      authResults: {},
      tenants: [
        {
          tenantId,
          copies: [
            {
              target: { mailboxId },
              envelopeTo: 'u0@example.org',
              folder: { kind: folder },
              flags: [],
              filterTrace: null,
            },
          ],
          forwards: [],
          vacations: [],
        },
      ],
      vacationReplies: new Map(),
    };
  }

  const modseqOf = async (tenantId: string, id: string) =>
    (await db.prisma.folder.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id } } })).highestModseq;

  it('gives a folder a new highest_modseq when retention deletes from it and when a message is expunged', async () => {
    const t = await seedTenant(db.prisma);
    const box = t.boxes[0]!;
    await addMessages(db.prisma, t, box.id, box.trash, 3, 40);
    const trashBefore = await modseqOf(t.tenantId, box.trash);
    const inboxBefore = await modseqOf(t.tenantId, box.inbox);

    await runRetention(ctx, undefined);

    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId, folderId: box.trash } })).toBe(0);
    expect(await modseqOf(t.tenantId, box.trash)).toBeGreaterThan(trashBefore);
    expect(await modseqOf(t.tenantId, box.inbox)).toBe(inboxBefore); // nothing deleted there

    const [id] = (await store.deliver(inbound(t.tenantId, box.id, 'inbox', 1))).messageIds;
    const afterDelivery = await modseqOf(t.tenantId, box.inbox);
    expect(afterDelivery).toBeGreaterThan(inboxBefore);

    const removed = await store.transaction((tx) => store.remove(tx, t.tenantId, [id!]));

    expect(removed.map((r) => r.id)).toEqual([id]);
    expect(await modseqOf(t.tenantId, box.inbox)).toBe(afterDelivery + 1n);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('leaves no usage drift for the quota recount after inbound, retention and purge on one mailbox', async () => {
    const t = await seedTenant(db.prisma);
    const box = t.boxes[0]!;
    const junk = (
      await db.prisma.folder.findFirstOrThrow({ where: { tenantId: t.tenantId, mailboxId: box.id, kind: 'junk' } })
    ).id;
    for (let n = 1; n <= 4; n++) await store.deliver(inbound(t.tenantId, box.id, 'junk', n));
    for (let n = 5; n <= 10; n++) await store.deliver(inbound(t.tenantId, box.id, 'inbox', n));
    await expectExactQuota(db.prisma, t.tenantId);

    // A month on, Junk's 30 days have passed for everything received now.
    const retention = await runRetention(ctx, undefined, { now: new Date(Date.now() + 31 * DAY) });

    expect(retention.messagesDeleted).toBe(4);
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId, folderId: junk } })).toBe(0);
    expect((await runQuotaRecount(ctx, undefined)).drifted).toBe(0);

    // The mailbox is deleted; a purge dies after its first batch of two, so the mailbox survives half-purged.
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: box.id } },
      data: { status: 'deleted', deletedAt: new Date() },
    });
    const inboxBefore = await modseqOf(t.tenantId, box.inbox);
    let batches = 0;
    const dying: MaintenanceContext = {
      ...ctx,
      prisma: new Proxy(db.prisma, {
        get(target, prop, receiver) {
          if (prop === '$transaction') {
            return async (...args: unknown[]) => {
              if (batches++ >= 1) throw new Error('killed');
              return (target.$transaction as (...a: unknown[]) => Promise<unknown>)(...args);
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }),
    };
    await expect(runPurge(dying, undefined, { batchSize: 2 })).rejects.toThrow('killed');

    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId, mailboxId: box.id } })).toBe(4);
    expect(await modseqOf(t.tenantId, box.inbox)).toBeGreaterThan(inboxBefore);
    const recount = await runQuotaRecount(ctx, undefined);
    expect(recount).toMatchObject({ drifted: 0, driftBytes: 0, driftMessages: 0 });
    expect(recount.mailboxes).toBeGreaterThanOrEqual(1);
    await expectExactQuota(db.prisma, t.tenantId);

    const purge = await runPurge(ctx, undefined, { batchSize: 2 });

    expect(purge).toMatchObject({ mailboxes: 1, messagesDeleted: 4 });
    expect(await db.prisma.mailbox.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect((await runQuotaRecount(ctx, undefined)).drifted).toBe(0);
  });
});
