import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, rcptReply, transaction } from '@test/support/smtp/smtp-client';
import { transport } from '@test/support/smtp/submission-harness';

/**
 * The MTA keeps its RCPT lookups in memory (RECIPIENT_CACHE_SIZE). These tests change rows after
 * a lookup was kept and watch the next RCPT: every change a tenant's admin or the API makes must
 * reach the next answer within moments (the tables' NOTIFY), far inside the cache's 30 s TTL.
 */
describe('inbound MX: RCPT lookups kept in memory', () => {
  let h: Harness;
  let mx: RunningInbound;

  beforeAll(async () => {
    h = await createHarness();
    mx = await h.start();
  });
  afterAll(async () => h?.close());

  const rcpt = (address: string, mailFrom?: string) => rcptReply(mx.port, address, mailFrom);

  /** The RCPT reply once it matches, or the last one after 3 s (the NOTIFY takes milliseconds). */
  async function rcptUntil(address: string, expected: RegExp) {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const reply = await rcpt(address);
      if (expected.test(reply.text) || Date.now() > deadline) return reply.text;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A change that sends no notification (triggers off for this statement's session). */
  async function silently(sql: string) {
    await h.prisma.$transaction([
      h.prisma.$executeRawUnsafe(`SET LOCAL session_replication_role = replica`),
      h.prisma.$executeRawUnsafe(sql),
    ]);
  }

  async function send(to: string, subject: string) {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      'sender@sender.test',
      [to],
      basicMessage('sender@sender.test', to, subject),
    );
    client.close();
    return replies.map((r) => r.text);
  }

  it('answers a recipient it has seen from memory: a change that sends no notification is not seen', async () => {
    const t = await h.seed.hosted('kept.test', ['ann']);
    // The seed's own notifications first: one arriving after the lookup below would drop it.
    await new Promise((r) => setTimeout(r, 500));
    expect((await rcpt('ann@kept.test')).code).toBe(250);
    await silently(`UPDATE mailboxes SET status = 'disabled' WHERE id = '${t.mailboxes[0]!.id}'`);
    // Served from memory: the database already says disabled.
    expect((await rcpt('ann@kept.test')).code).toBe(250);
  });

  it('refuses a mailbox disabled after its address was looked up', async () => {
    const t = await h.seed.hosted('disable.test', ['bea']);
    expect((await rcpt('bea@disable.test')).code).toBe(250);
    await h.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenant.id, id: t.mailboxes[0]!.id } },
      data: { status: 'disabled' },
    });
    expect(await rcptUntil('bea@disable.test', /^550 5\.2\.1 /)).toBe(
      '550 5.2.1 <bea@disable.test>: Recipient address rejected: Mailbox disabled',
    );
  });

  it('accepts a mailbox and an alias created after "User unknown" was answered for them', async () => {
    const t = await h.seed.hosted('new.test', ['cat']);
    expect((await rcpt('dan@new.test')).text).toMatch(/^550 5\.1\.1 /);
    expect((await rcpt('team@new.test')).text).toMatch(/^550 5\.1\.1 /);
    await h.seed.mailbox(t.tenant.id, t.domain.id, 'dan');
    await h.seed.alias(t.tenant.id, t.domain.id, 'team', ['cat@new.test']);
    expect(await rcptUntil('dan@new.test', /^250 /)).toMatch(/^250 /);
    expect(await rcptUntil('team@new.test', /^250 /)).toMatch(/^250 /);
  });

  it('follows a suspended tenant, a suspended domain and a changed alias', async () => {
    const t = await h.seed.hosted('suspend.test', ['eve', 'fay']);
    const u = await h.seed.hosted('domain-off.test', ['gus']);
    await h.seed.alias(t.tenant.id, t.domain.id, 'desk', ['eve@suspend.test']);
    expect((await rcpt('eve@suspend.test')).code).toBe(250);
    expect((await rcpt('gus@domain-off.test')).code).toBe(250);
    await h.prisma.tenant.update({ where: { id: t.tenant.id }, data: { status: 'suspended' } });
    await h.prisma.domain.update({
      where: { tenantId_id: { tenantId: u.tenant.id, id: u.domain.id } },
      data: { status: 'suspended' },
    });
    expect(await rcptUntil('eve@suspend.test', /^451 4\.7\.1 /)).toMatch(/^451 4\.7\.1 .*suspended/);
    expect(await rcptUntil('gus@domain-off.test', /^554 5\.7\.1 /)).toMatch(/^554 5\.7\.1 .*Relay access denied/);

    await h.prisma.tenant.update({ where: { id: t.tenant.id }, data: { status: 'active' } });
    expect(await rcptUntil('desk@suspend.test', /^250 /)).toMatch(/^250 /);
    await h.prisma.alias.updateMany({ where: { tenantId: t.tenant.id, localPart: 'desk' }, data: { enabled: false } });
    expect(await rcptUntil('desk@suspend.test', /^550 5\.1\.1 /)).toMatch(/^550 5\.1\.1 /);
  });

  it('runs a filter rule added after the mailbox was looked up', async () => {
    const t = await h.seed.hosted('rules-later.test', ['hal']);
    const hal = t.mailboxes[0]!;
    expect((await send('hal@rules-later.test', 'before the rule')).at(-1)).toMatch(/^250 /);
    expect((await rcpt('marker@rules-later.test')).text).toMatch(/^550 5\.1\.1 /);
    // The rule and a mailbox in one transaction: one notification for the tenant, so once the
    // new mailbox is accepted the lookup kept for hal (which says "no rules") is gone too.
    await h.prisma.$transaction([
      h.prisma.folder.create({ data: { tenantId: t.tenant.id, mailboxId: hal.id, name: 'Reports' } }),
      h.prisma.filterRule.create({
        data: {
          tenantId: t.tenant.id,
          mailboxId: hal.id,
          position: 1,
          name: 'reports',
          conditions: [{ field: 'subject', operator: 'contains', value: 'report' }],
          actions: [{ type: 'moveTo', folder: 'Reports' }],
        },
      }),
      h.prisma.mailbox.create({
        data: { tenantId: t.tenant.id, domainId: t.domain.id, localPart: 'marker', passwordHash: 'x' },
      }),
    ]);
    expect(await rcptUntil('marker@rules-later.test', /^250 /)).toMatch(/^250 /);
    expect((await send('hal@rules-later.test', 'weekly report')).at(-1)).toMatch(/^250 /);
    const stored = await h.prisma.message.findFirstOrThrow({
      where: { mailboxId: hal.id, subject: 'weekly report' },
      include: { folder: true },
    });
    expect(stored.folder.name).toBe('Reports');
  });

  it('counts what it stored itself: after two messages, a third that would not fit is 452 4.2.2 at RCPT', async () => {
    const t = await h.seed.hosted('fill.test', ['ivx']);
    // The size one such message takes when stored (trace fields included), from a twin mailbox.
    expect((await send('ivx@fill.test', 'one')).at(-1)).toMatch(/^250 /);
    const size = Number((await h.prisma.mailbox.findFirstOrThrow({ where: { id: t.mailboxes[0]!.id } })).usedBytes);
    await h.seed.mailbox(t.tenant.id, t.domain.id, 'ivy', { quotaBytes: BigInt(2 * size + 20) });
    expect((await send('ivy@fill.test', 'one')).at(-1)).toMatch(/^250 /);
    expect((await send('ivy@fill.test', 'two')).at(-1)).toMatch(/^250 /);
    // The lookup kept at the first message said 0 bytes used, and usage sends no notification.
    expect((await rcpt('ivy@fill.test', `MAIL FROM:<s@sender.test> SIZE=${size}`)).text).toBe(
      '452 4.2.2 <ivy@fill.test>: Recipient address rejected: Mailbox full',
    );
  });

  it('counts what its submission port stored: a local copy that fills a mailbox is seen at the next RCPT', async () => {
    const t = await h.seed.hosted('sub-fill.test', ['kim', 'lux']);
    const [kim, lux] = t.mailboxes as [(typeof t.mailboxes)[0], (typeof t.mailboxes)[0]];
    const password = 'a long enough submission password';
    await h.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenant.id, id: kim.id } },
      data: { passwordHash: await argon2.hash(password, { type: argon2.argon2id }) },
    });
    const submit = (to: string) =>
      transport(mx.submissionsPort, 'kim@sub-fill.test', password).sendMail({
        from: 'kim@sub-fill.test',
        to,
        subject: 'one',
        text: 'Hello.',
      });
    // The size such a message takes in a recipient's mailbox, then a quota it just fills.
    await submit('lux@sub-fill.test');
    const size = Number((await h.prisma.mailbox.findFirstOrThrow({ where: { id: lux.id } })).usedBytes);
    const mae = await h.seed.mailbox(t.tenant.id, t.domain.id, 'mae', { quotaBytes: BigInt(size + 20) });
    await new Promise((r) => setTimeout(r, 500)); // the seed's own notification first
    expect((await rcpt('mae@sub-fill.test')).code).toBe(250);
    await submit('mae@sub-fill.test');
    const used = Number((await h.prisma.mailbox.findFirstOrThrow({ where: { id: mae.id } })).usedBytes);
    expect(Math.abs(used - size)).toBeLessThan(10);
    // The lookup kept above said 0 bytes used; only the submission's charge tells it otherwise.
    expect((await rcpt('mae@sub-fill.test', 'MAIL FROM:<s@sender.test> SIZE=30')).text).toBe(
      '452 4.2.2 <mae@sub-fill.test>: Recipient address rejected: Mailbox full',
    );
  });

  it('reads a nearly full mailbox afresh each time: space freed elsewhere is seen at once', async () => {
    const t = await h.seed.hosted('freed.test', []);
    const jo = await h.seed.mailbox(t.tenant.id, t.domain.id, 'jo', { quotaBytes: 10_000n, usedBytes: 10_000n });
    expect((await rcpt('jo@freed.test')).text).toMatch(/^452 4\.2\.2 /);
    await silently(`UPDATE mailboxes SET used_bytes = 0 WHERE id = '${jo.id}'`);
    expect((await rcpt('jo@freed.test')).code).toBe(250);
  });
});
