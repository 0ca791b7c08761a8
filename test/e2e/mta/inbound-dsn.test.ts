import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verpBounceAddress } from '@mailroom/mail';
import { createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';

describe('inbound MX: DSNs for our own outbound mail', () => {
  let h: Harness;
  let mx: RunningInbound;
  let acme: Awaited<ReturnType<Harness['seed']['hosted']>>;

  beforeAll(async () => {
    h = await createHarness();
    acme = await h.seed.hosted('acme.test', ['alice']);
    mx = await h.start();
  });
  afterAll(async () => h?.close());

  async function send(to: string[], body: string, from: string) {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(client, from, to, body);
    return { client, replies, last: replies.at(-1)! };
  }

  it('turns a DSN to our bounce address into a bounced delivery and a suppression, not a mailbox message', async () => {
    const blob = Buffer.from('Subject: out\r\n\r\nx\r\n');
    await h.prisma.messageBlob.create({
      data: { tenantId: acme.tenant.id, sha256: 'f'.repeat(64), size: blob.length, bytes: blob },
    });
    const outbound = await h.prisma.outboundMessage.create({
      data: {
        tenantId: acme.tenant.id,
        kind: 'submission',
        envelopeFrom: 'alice@acme.test',
        fromDomain: 'acme.test',
        blobSha256: 'f'.repeat(64),
        size: blob.length,
      },
    });
    const delivery = await h.prisma.delivery.create({
      data: {
        tenantId: acme.tenant.id,
        outboundMessageId: outbound.id,
        recipient: 'Gone@Remote.example',
        recipientDomain: 'remote.example',
        status: 'delivered',
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    // A bounce is recorded as the worker records one, webhook event included (libs/delivery BounceRepository).
    await h.prisma.webhook.create({
      data: {
        tenantId: acme.tenant.id,
        url: 'https://hooks.example/x',
        secretEncrypted: 'x',
        events: ['delivery.bounced'],
      },
    });
    const dsn = [
      'From: MAILER-DAEMON@remote.example',
      'Subject: Undelivered Mail Returned to Sender',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'Could not deliver.',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; remote.example',
      '',
      'Final-Recipient: rfc822; gone@remote.example',
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 <gone@remote.example>: User unknown',
      '',
      '--b--',
      '',
    ].join('\r\n');
    const bounceAddress = verpBounceAddress(acme.tenant.id, delivery.id, 'mx.mailroom.test');
    const { client, last } = await send([bounceAddress], dsn, '');
    expect(last.code).toBe(250);
    expect((await client.command('MAIL FROM:<>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bounces+nonsense@mx.mailroom.test>')).text).toMatch(/^550 5\.1\.1 /);
    expect(
      (await client.command(`RCPT TO:<${verpBounceAddress(randomUUID(), randomUUID(), 'mx.mailroom.test')}>`)).code,
    ).toBe(250);
    client.close();
    const after = await h.prisma.delivery.findFirstOrThrow({ where: { id: delivery.id }, include: { events: true } });
    expect(after).toMatchObject({ status: 'bounced', lastResponseCode: 550 });
    expect(after.events).toEqual([expect.objectContaining({ type: 'bounced', enhancedCode: '5.1.1', smtpCode: 550 })]);
    expect(
      await h.prisma.suppression.findFirst({ where: { tenantId: acme.tenant.id, address: 'gone@remote.example' } }),
    ).toMatchObject({ reason: 'hard_bounce' });
    expect(await h.prisma.message.count({ where: { subject: 'Undelivered Mail Returned to Sender' } })).toBe(0);
    const hooks = await h.prisma.webhookDelivery.findMany({ where: { tenantId: acme.tenant.id } });
    expect(hooks.map((w) => w.event)).toEqual(['delivery.bounced']);
    expect(hooks[0]!.payload).toMatchObject({ data: { deliveryId: delivery.id, recipient: 'Gone@Remote.example' } });
  });
});
