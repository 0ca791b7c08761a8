import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp } from '@test/support/smtp/smtp-client';
import {
  createSubmissionHarness,
  sendError,
  transport,
  type RunningSubmission,
  type SubmissionHarness,
} from '@test/support/smtp/submission-harness';

// The mail store refuses at commit; each SMTP edge answers with its own code and sentence.

describe('inbound MX: the mail store refusing at commit', () => {
  let h: Harness;
  let mx: RunningInbound;
  let acme: Awaited<ReturnType<Harness['seed']['hosted']>>;

  beforeAll(async () => {
    h = await createHarness();
    acme = await h.seed.hosted('acme.test', ['alice']);
    mx = await h.start();
  });
  afterAll(async () => h?.close());

  it('answers 450 4.2.1 when the mailbox was disabled between RCPT and the end of DATA, and stores nothing', async () => {
    const box = await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'leaving');
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<s@sender.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<leaving@acme.test>')).code).toBe(250);
    await h.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: acme.tenant.id, id: box.id } },
      data: { status: 'disabled' },
    });
    expect((await client.command('DATA')).code).toBe(354);
    client.write(basicMessage('s@sender.test', 'leaving@acme.test', 'raced'));
    client.write('\r\n.\r\n');
    const sut = await client.read();
    client.close();
    expect(sut.text).toBe('450 4.2.1 Mailbox unavailable, please try again later');
    expect(await h.prisma.message.count({ where: { mailboxId: box.id } })).toBe(0);
  });
});

describe('submission: the mail store refusing the Sent copy', () => {
  const PASSWORD = 'correct horse battery staple';
  let h: SubmissionHarness;
  let mta: RunningSubmission;
  let tenantId: string;

  beforeAll(async () => {
    h = await createSubmissionHarness();
    const acme = await h.seed.hosted('acme.test', []);
    tenantId = acme.tenant.id;
    const full = await h.user(tenantId, acme.domain.id, 'full', PASSWORD);
    await h.prisma.mailbox.update({ where: { tenantId_id: { tenantId, id: full.id } }, data: { quotaBytes: 100n } });
    mta = await h.start();
  });
  afterAll(async () => h?.close());

  it('answers 452 4.2.2 with a sentence about the Sent copy when the sender is full, and queues nothing', async () => {
    const sut = await sendError(
      transport(mta.securePort, 'full@acme.test', PASSWORD).sendMail({
        from: 'full@acme.test',
        to: 'x@example.net',
        subject: 'no room',
        text: 'x'.repeat(500),
      }),
    );
    expect(sut).toBe('452 4.2.2 Your mailbox is full, so no copy can be kept in Sent; free some space and send again');
    expect(await h.prisma.outboundMessage.count({ where: { tenantId } })).toBe(0);
    expect(await h.prisma.message.count({ where: { tenantId } })).toBe(0);
    expect(mta.queued).toHaveLength(0);
  });
});
