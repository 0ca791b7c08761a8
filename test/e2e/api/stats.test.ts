import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectProblem, expectStatus, Session, startApi, type TestApi } from '@test/support/api';
import { queueOutboundRows } from '@test/support/outbound-rows';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;
const DAY = 86_400_000;
/** Noon UTC `n` days ago: well inside that UTC day whatever the hour of the run. */
const daysAgo = (n: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 12) - n * DAY);
};
const dateOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * A tenant's mail for the charts: `inbound` messages per days-ago (in its INBOX), one Sent copy
 * today, `outbound` outbound messages per days-ago, and a mailbox storing `usedBytes`.
 */
async function seedMail(
  db: TestDatabase,
  tenantId: string,
  spec: { inbound: Record<number, number>; outbound: Record<number, number>; mailboxes: Record<string, bigint> },
) {
  const domain = await addDomain(db, tenantId);
  const raw = Buffer.from(`Subject: chart ${tenantId}\r\n\r\nbody\r\n`);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  await db.prisma.messageBlob.create({ data: { tenantId, sha256, size: raw.length, bytes: raw } });
  const ids: Record<string, string> = {};
  for (const [localPart, usedBytes] of Object.entries(spec.mailboxes)) {
    const m = await db.prisma.mailbox.create({
      data: { tenantId, domainId: domain.id, localPart, passwordHash: 'x', usedBytes, quotaBytes: 1n << 30n },
    });
    ids[localPart] = m.id;
  }
  const mailboxId = Object.values(ids)[0]!;
  const inbox = await db.prisma.folder.create({ data: { tenantId, mailboxId, name: 'INBOX', kind: 'inbox' } });
  const sent = await db.prisma.folder.create({ data: { tenantId, mailboxId, name: 'Sent', kind: 'sent' } });
  let uid = 0;
  const message = (folderId: string, receivedAt: Date) => ({
    tenantId,
    mailboxId,
    folderId,
    blobSha256: sha256,
    uid: ++uid,
    size: raw.length,
    envelopeFrom: 'someone@elsewhere.example',
    envelopeTo: `a@${domain.name}`,
    receivedAt,
  });
  await db.prisma.message.createMany({
    data: [
      ...Object.entries(spec.inbound).flatMap(([ago, n]) =>
        Array.from({ length: n }, () => message(inbox.id, daysAgo(Number(ago)))),
      ),
      message(sent.id, daysAgo(0)),
    ],
  });
  for (const [ago, n] of Object.entries(spec.outbound)) {
    for (let i = 0; i < n; i++) {
      const [deliveryId] = await queueOutboundRows(db.prisma, {
        tenantId,
        raw,
        envelopeFrom: `a@${domain.name}`,
        recipients: ['partner@elsewhere.example'],
      });
      const delivery = await db.prisma.delivery.findFirstOrThrow({ where: { tenantId, id: deliveryId } });
      await db.prisma.outboundMessage.update({
        where: { tenantId_id: { tenantId, id: delivery.outboundMessageId } },
        data: { createdAt: daysAgo(Number(ago)) },
      });
      await db.prisma.delivery.update({
        where: { tenantId_id: { tenantId, id: deliveryId! } },
        data: { createdAt: daysAgo(Number(ago)) },
      });
    }
  }
  return { domain, mailboxIds: ids };
}

describe('stats for the dashboard charts', () => {
  let db: TestDatabase;
  let api: TestApi;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let tenant: Tenant;
  let other: Tenant;
  let domainName: string;
  const at = () => ({ params: { path: { tenantId: tenant.id } } });

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    const sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller);
    other = await sut.newTenant(await sut.newReseller());
    const seeded = await seedMail(db, tenant.id, {
      inbound: { 0: 3, 1: 2, 29: 1, 30: 4 },
      outbound: { 0: 2, 5: 1, 40: 1 },
      mailboxes: { big: 5_000_000n, middle: 2_000_000n, small: 1_000n },
    });
    domainName = seeded.domain.name;
    // The other tenant's mail must never show in this tenant's numbers.
    await seedMail(db, other.id, { inbound: { 0: 7 }, outbound: { 0: 5 }, mailboxes: { huge: 9_000_000_000n } });
    // Outcomes: of the three deliveries of the last 30 days, one delivered, one bounced, one deferred.
    const recent = await db.prisma.delivery.findMany({
      where: { tenantId: tenant.id, createdAt: { gte: daysAgo(29) } },
      orderBy: { createdAt: 'asc' },
    });
    expect(recent).toHaveLength(3);
    for (const [i, status] of (['delivered', 'bounced', 'deferred'] as const).entries()) {
      await db.prisma.delivery.update({
        where: { tenantId_id: { tenantId: tenant.id, id: recent[i]!.id } },
        data: { status },
      });
    }
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('counts messages in and out per UTC day for the last 30 days, every day listed', async () => {
    const res = expectStatus(await tenant.viewer.typed.GET('/v1/tenants/{tenantId}/stats/messages', at()), 200);
    expect(res.days).toHaveLength(30);
    expect(res.days[29]).toEqual({ date: dateOf(daysAgo(0)), in: 3, out: 2 });
    expect(res.days[28]).toEqual({ date: dateOf(daysAgo(1)), in: 2, out: 0 });
    expect(res.days[0]).toEqual({ date: dateOf(daysAgo(29)), in: 1, out: 0 });
    expect(res.days[24]).toEqual({ date: dateOf(daysAgo(5)), in: 0, out: 1 });
    expect(res.from).toBe(`${dateOf(daysAgo(29))}T00:00:00.000Z`);
    // The Sent copy, day 30 and day 40 are outside: 6 in, 3 out.
    expect(res.days.reduce((s, d) => s + d.in, 0)).toBe(6);
    expect(res.days.reduce((s, d) => s + d.out, 0)).toBe(3);

    const week = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/stats/messages', {
        params: { path: { tenantId: tenant.id }, query: { days: 7 } },
      }),
      200,
    );
    expect(week.days.map((d) => d.in)).toEqual([0, 0, 0, 0, 0, 2, 3]);
  });

  it('counts the deliveries of the window by outcome', async () => {
    const res = expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/stats/deliveries', at()), 200);
    expect(res.total).toBe(3);
    expect(res.outcomes).toEqual([
      { status: 'queued', count: 0 },
      { status: 'sending', count: 0 },
      { status: 'deferred', count: 1 },
      { status: 'delivered', count: 1 },
      { status: 'bounced', count: 1 },
      { status: 'cancelled', count: 0 },
    ]);
    const all = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/stats/deliveries', {
        params: { path: { tenantId: tenant.id }, query: { days: 90 } },
      }),
      200,
    );
    expect(all.total).toBe(4);
    expect(all.outcomes.find((o) => o.status === 'queued')?.count).toBe(1);
  });

  it('names the largest mailboxes and sums the rest', async () => {
    const res = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/stats/storage', {
        params: { path: { tenantId: tenant.id }, query: { limit: 2 } },
      }),
      200,
    );
    expect(res).toEqual({
      totalBytes: 7_001_000,
      mailboxCount: 3,
      mailboxes: [
        { id: expect.any(String), address: `big@${domainName}`, usedBytes: 5_000_000, quotaBytes: 1 << 30 },
        { id: expect.any(String), address: `middle@${domainName}`, usedBytes: 2_000_000, quotaBytes: 1 << 30 },
      ],
      otherBytes: 1_000,
    });
  });

  it('refuses bad windows, other tenants and credentials without the scope', async () => {
    const bad = await tenant.admin.typed.GET('/v1/tenants/{tenantId}/stats/messages', {
      params: { path: { tenantId: tenant.id }, query: { days: 91 } },
    });
    expect(expectProblem(bad, 422).errors).toEqual([expect.objectContaining({ field: 'days' })]);
    expectProblem(await other.admin.typed.GET('/v1/tenants/{tenantId}/stats/storage', at()), 404);
    // The everything-key of the test session has no deliveries:read.
    expectProblem(await tenant.key.typed.GET('/v1/tenants/{tenantId}/stats/deliveries', at()), 403);
    expectStatus(await tenant.key.typed.GET('/v1/tenants/{tenantId}/stats/storage', at()), 200);
  });

  it("lists a reseller's tenants with their usage when asked", async () => {
    const res = expectStatus(
      await reseller.admin.typed.GET('/v1/tenants', { params: { query: { include: 'usage' } } }),
      200,
    );
    expect(res.items.map((t) => t.id)).toEqual([tenant.id]);
    expect(res.items[0]!.usage).toEqual({
      domains: 1,
      mailboxes: 3,
      storageBytes: 7_001_000,
      messagesIn24h: expect.any(Number),
      messagesOut24h: expect.any(Number),
    });
    const single = expectStatus(await reseller.admin.typed.GET('/v1/tenants/{tenantId}', at()), 200);
    expect(res.items[0]!.usage).toEqual(single.usage);
    const plain = expectStatus(await reseller.admin.typed.GET('/v1/tenants'), 200);
    expect(plain.items[0]).not.toHaveProperty('usage');
  });
});
