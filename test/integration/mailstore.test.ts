import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  blobStore,
  MailboxUnavailable,
  MailStore,
  QuotaExceeded,
  TenantUsage,
  type DeliverRequest,
  type TenantDelivery,
  type VacationRequest,
} from '@mailroom/mailstore';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectExactQuota, seedTenant } from '@test/support/worker-fixtures';

// The mail store against real PostgreSQL: one rule for every writer of message rows.

let db: TestDatabase;
let sut: MailStore;
let t: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  db = await createTestDatabase();
  sut = new MailStore(db.prisma);
});
afterAll(() => db.drop());
beforeEach(async () => {
  t = await seedTenant(db.prisma, 2);
});

const header = {
  messageId: '<m@x>',
  subject: 'Hi',
  fromAddress: 'a@x.test',
  fromName: null,
  toAddresses: [],
  sentAt: null,
  sortKeys: null,
};
const raw = (text = 'hello') => Buffer.from(`Subject: Hi\r\n\r\n${text}\r\n`);

function request(
  tenants: TenantDelivery[],
  bytes = raw(),
  vacations = new Map<VacationRequest, Buffer>(),
): DeliverRequest {
  return {
    bytes,
    envelopeFrom: 'a@x.test',
    forwardSender: 'SRS0=x=y=x.test=a@bounce.test',
    remoteIp: '192.0.2.1',
    helo: 'x.test',
    header,
    spamScore: 0,
    authResults: {},
    tenants,
    vacationReplies: vacations,
  };
}

const copy = (mailboxId: string) => ({
  target: { mailboxId },
  envelopeTo: 'u@x',
  folder: { kind: 'inbox' as const },
  flags: [],
  filterTrace: null,
});

async function rowsOf(tenantId: string) {
  const [messages, outbound, vacationLogs] = await Promise.all([
    db.prisma.message.count({ where: { tenantId } }),
    db.prisma.outboundMessage.count({ where: { tenantId } }),
    db.prisma.vacationLog.count({ where: { tenantId } }),
  ]);
  return { messages, outbound, vacationLogs };
}

/**
 * Every writer of message rows, as its caller uses the store. Each one stores into the first
 * mailbox of the tenant `t`.
 */
const writers: Record<string, (mailboxId: string) => Promise<unknown>> = {
  inbound: (mailboxId) =>
    sut.deliver(request([{ tenantId: t.tenantId, copies: [copy(mailboxId)], forwards: [], vacations: [] }])),
  'forward keep-copy': (mailboxId) =>
    sut.deliver(
      request([
        {
          tenantId: t.tenantId,
          copies: [copy(mailboxId)],
          forwards: [{ mailboxId, fromDomain: 'x.test', recipients: ['elsewhere@remote.test'] }],
          vacations: [],
        },
      ]),
    ),
  vacation: (mailboxId) => {
    const vacation = { mailboxId, fromDomain: 'x.test', to: 'a@x.test', subject: 'Away' };
    return sut.deliver(
      request(
        [{ tenantId: t.tenantId, copies: [copy(mailboxId)], forwards: [], vacations: [vacation] }],
        raw(),
        new Map([[vacation, Buffer.from('Subject: Away\r\n\r\nback soon\r\n')]]),
      ),
    );
  },
  submission: (mailboxId) =>
    sut.submit({
      tenantId: t.tenantId,
      mailboxId,
      login: 'u0@x.test',
      bytes: raw(),
      envelopeFrom: 'u0@x.test',
      fromDomain: 'x.test',
      header,
      remoteIp: '192.0.2.1',
      helo: null,
      dsn: null,
      external: ['r@remote.test'],
      allRecipients: ['r@remote.test'],
      local: null,
    }),
  DSN: (mailboxId) =>
    sut.transaction((tx) =>
      sut.storeGenerated(tx, {
        tenantId: t.tenantId,
        mailboxId,
        folderKind: 'inbox',
        raw: raw('report'),
        envelopeFrom: '',
        envelopeTo: 'u0@x.test',
        subject: 'Undelivered Mail Returned to Sender',
        fromAddress: 'MAILER-DAEMON',
        messageId: null,
      }),
    ),
  'IMAP APPEND': async (mailboxId) => {
    const folder = await db.prisma.folder.findFirstOrThrow({
      where: { tenantId: t.tenantId, mailboxId, kind: 'archive' },
    });
    return sut.append({
      tenantId: t.tenantId,
      mailboxId,
      folderId: folder.id,
      raw: raw(),
      flags: ['\\Seen'],
      receivedAt: new Date('2020-01-02T03:04:05Z'),
      header,
    });
  },
};

describe('mail store: every writer enforces quota and status the same way', () => {
  for (const [name, write] of Object.entries(writers)) {
    it(`${name}: stores into an active mailbox with room, charging its usage exactly`, async () => {
      await write(t.boxes[0]!.id);
      const rows = await rowsOf(t.tenantId);
      expect(rows.messages).toBe(1);
      await expectExactQuota(db.prisma, t.tenantId);
    });

    it(`${name}: refuses a full mailbox with QuotaExceeded and writes nothing`, async () => {
      await db.prisma.mailbox.update({
        where: { tenantId_id: { tenantId: t.tenantId, id: t.boxes[0]!.id } },
        data: { quotaBytes: 10 },
      });
      const err = await write(t.boxes[0]!.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QuotaExceeded);
      expect((err as QuotaExceeded).scope).toBe('mailbox');
      expect((err as QuotaExceeded).mailboxId).toBe(t.boxes[0]!.id);
      expect(await rowsOf(t.tenantId)).toEqual({ messages: 0, outbound: 0, vacationLogs: 0 });
      await expectExactQuota(db.prisma, t.tenantId);
    });

    it(`${name}: refuses a disabled mailbox with MailboxUnavailable and writes nothing`, async () => {
      await db.prisma.mailbox.update({
        where: { tenantId_id: { tenantId: t.tenantId, id: t.boxes[0]!.id } },
        data: { status: 'disabled' },
      });
      const err = await write(t.boxes[0]!.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailboxUnavailable);
      expect((err as MailboxUnavailable).status).toBe('disabled');
      expect(await rowsOf(t.tenantId)).toEqual({ messages: 0, outbound: 0, vacationLogs: 0 });
    });

    it(`${name}: refuses when the tenant's storage plan is full, with QuotaExceeded (tenant)`, async () => {
      await db.prisma.tenant.update({ where: { id: t.tenantId }, data: { storageQuotaBytes: 5 } });
      const err = await write(t.boxes[0]!.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QuotaExceeded);
      expect((err as QuotaExceeded).scope).toBe('tenant');
      expect(await rowsOf(t.tenantId)).toEqual({ messages: 0, outbound: 0, vacationLogs: 0 });
    });
  }
});

describe('mail store: uids, modseqs and blobs', () => {
  it('gives each copy the next uid of its folder and the folder the next modseq', async () => {
    const mailboxId = t.boxes[0]!.id;
    for (let i = 0; i < 3; i++) {
      await writers.inbound!(mailboxId);
    }
    const folder = await db.prisma.folder.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: t.tenantId, id: t.boxes[0]!.inbox } },
    });
    const messages = await db.prisma.message.findMany({ where: { folderId: folder.id }, orderBy: { uid: 'asc' } });
    expect(messages.map((m) => m.uid)).toEqual([1, 2, 3]);
    expect(folder.uidNext).toBe(4);
    expect(messages.map((m) => m.modseq)).toEqual([2n, 3n, 4n]);
    expect(folder.highestModseq).toBe(4n);
  });

  it('stores one blob for a message to two mailboxes of a tenant', async () => {
    const before = await db.prisma.messageBlob.count({ where: { tenantId: t.tenantId } });
    await sut.deliver(
      request(
        [{ tenantId: t.tenantId, copies: [copy(t.boxes[0]!.id), copy(t.boxes[1]!.id)], forwards: [], vacations: [] }],
        raw('shared'),
      ),
    );
    expect(await db.prisma.messageBlob.count({ where: { tenantId: t.tenantId } })).toBe(before + 1);
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId } })).toBe(2);
  });

  it('commits copies to mailboxes of two tenants in one statement, no interactive transaction', async () => {
    const other = await seedTenant(db.prisma, 1);
    const transaction = vi.spyOn(sut, 'transaction');
    try {
      const result = await sut.deliver(
        request(
          [
            { tenantId: other.tenantId, copies: [copy(other.boxes[0]!.id)], forwards: [], vacations: [] },
            { tenantId: t.tenantId, copies: [copy(t.boxes[1]!.id), copy(t.boxes[0]!.id)], forwards: [], vacations: [] },
          ],
          raw('two tenants'),
        ),
      );
      // With BLOB_STORE=s3 (mailstore-s3.test.ts) the body is put while its row is held, in a transaction.
      if (blobStore().external(raw('two tenants').length)) expect(transaction).toHaveBeenCalledTimes(1);
      else expect(transaction).not.toHaveBeenCalled();
      expect(result.messageIds).toHaveLength(3);
      expect(new Set(result.messageIds).size).toBe(3);
    } finally {
      transaction.mockRestore();
    }
    for (const tenant of [t, other]) {
      const rows = await db.prisma.message.findMany({ where: { tenantId: tenant.tenantId } });
      expect(rows).toHaveLength(tenant === t ? 2 : 1);
      expect(rows.every((m) => m.uid === 1 && m.modseq === 2n && m.envelopeTo === 'u@x')).toBe(true);
      await expectExactQuota(db.prisma, tenant.tenantId);
    }
  });

  it('writes nothing in any tenant when one mailbox of the message is full, and says which', async () => {
    const other = await seedTenant(db.prisma, 1);
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: t.boxes[1]!.id } },
      data: { quotaBytes: 10 },
    });
    const err = await sut
      .deliver(
        request([
          { tenantId: other.tenantId, copies: [copy(other.boxes[0]!.id)], forwards: [], vacations: [] },
          { tenantId: t.tenantId, copies: [copy(t.boxes[0]!.id), copy(t.boxes[1]!.id)], forwards: [], vacations: [] },
        ]),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaExceeded);
    expect((err as QuotaExceeded).mailboxId).toBe(t.boxes[1]!.id);
    expect(await rowsOf(t.tenantId)).toEqual({ messages: 0, outbound: 0, vacationLogs: 0 });
    expect(await rowsOf(other.tenantId)).toEqual({ messages: 0, outbound: 0, vacationLogs: 0 });
    await expectExactQuota(db.prisma, t.tenantId);
    await expectExactQuota(db.prisma, other.tenantId);
  });

  it('APPEND keeps the flags and the internal date the client gave', async () => {
    const stored = (await writers['IMAP APPEND']!(t.boxes[0]!.id)) as { id: string; uid: number };
    const row = await db.prisma.message.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: t.tenantId, id: stored.id } },
    });
    expect(row.folderId).toBe(t.boxes[0]!.archive);
    expect(row.flags).toEqual(['\\Seen']);
    expect(row.receivedAt.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(stored.uid).toBe(1);
  });

  it('STORE gives changed messages a new modseq and leaves unchanged ones and HIGHESTMODSEQ alone', async () => {
    const mailboxId = t.boxes[0]!.id;
    await writers.inbound!(mailboxId);
    await writers.inbound!(mailboxId);
    const folderId = t.boxes[0]!.inbox;
    const { changed } = await sut.setFlags(t.tenantId, folderId, [1, 2], 'add', ['\\Seen']);
    expect(changed.map((c) => [c.uid, c.flags, c.modseq])).toEqual([
      [1, ['\\Seen'], 4n],
      [2, ['\\Seen'], 4n],
    ]);
    expect(await sut.setFlags(t.tenantId, folderId, [1, 2], 'add', ['\\Seen'])).toEqual({ changed: [], failed: [] });
    const folder = await db.prisma.folder.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: t.tenantId, id: folderId } },
    });
    expect(folder.highestModseq).toBe(4n);
    const { changed: removed } = await sut.setFlags(t.tenantId, folderId, [2], 'remove', ['\\Seen']);
    expect(removed).toEqual([{ uid: 2, flags: [], modseq: 5n }]);
  });

  it('remove takes the bytes off usage and moves the folder modseq', async () => {
    const mailboxId = t.boxes[0]!.id;
    await writers.inbound!(mailboxId);
    const [message] = await db.prisma.message.findMany({ where: { tenantId: t.tenantId } });
    const removed = await sut.transaction((tx) => sut.remove(tx, t.tenantId, [message!.id, message!.id]));
    expect(removed).toHaveLength(1);
    const mailbox = await db.prisma.mailbox.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: t.tenantId, id: mailboxId } },
    });
    expect(mailbox.usedBytes).toBe(0n);
    expect(mailbox.messageCount).toBe(0);
    const folder = await db.prisma.folder.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: t.tenantId, id: t.boxes[0]!.inbox } },
    });
    expect(folder.highestModseq).toBe(3n);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('makes the INBOX of a mailbox that has no folders yet', async () => {
    await db.prisma.folder.deleteMany({ where: { tenantId: t.tenantId, mailboxId: t.boxes[1]!.id } });
    await writers.inbound!(t.boxes[1]!.id);
    const folders = await db.prisma.folder.findMany({ where: { tenantId: t.tenantId, mailboxId: t.boxes[1]!.id } });
    expect(folders.map((f) => [f.name, f.kind])).toEqual([['INBOX', 'inbox']]);
  });
});

describe('tenant usage (the plan limit reads it)', () => {
  it('sums every mailbox of the tenant and no other, as a bigint, on the pool and in a transaction', async () => {
    await db.prisma.mailbox.updateMany({ where: { id: t.boxes[0]!.id }, data: { usedBytes: 5_000_000_000n } });
    await db.prisma.mailbox.updateMany({ where: { id: t.boxes[1]!.id }, data: { usedBytes: 2345n } });
    const other = await seedTenant(db.prisma, 1);
    await db.prisma.mailbox.updateMany({ where: { id: other.boxes[0]!.id }, data: { usedBytes: 999n } });

    expect(await new TenantUsage().used(db.prisma, t.tenantId)).toBe(5_000_002_345n);
    expect(await db.prisma.$transaction((tx) => new TenantUsage().used(tx, t.tenantId))).toBe(5_000_002_345n);
    expect(await new TenantUsage().used(db.prisma, other.tenantId)).toBe(999n);
    expect(await new TenantUsage().used(db.prisma, (await seedTenant(db.prisma, 0)).tenantId)).toBe(0n);
  });
});
