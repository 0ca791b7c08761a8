import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { smtplib } from '@test/support/smtp/smtplib';

describe('inbound MX with Python smtplib', () => {
  let h: Harness;
  let mx: RunningInbound;
  let mailboxId: string;

  beforeAll(async () => {
    h = await createHarness();
    const acme = await h.seed.hosted('acme.test', ['alice']);
    await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'off', { status: 'disabled' });
    mailboxId = acme.mailboxes[0]!.id;
    mx = await h.start({ MAX_MESSAGE_BYTES: '100000' });
  });
  afterAll(async () => h?.close());

  it('delivers over STARTTLS', async () => {
    const sut = await smtplib({
      port: mx.port,
      starttls: true,
      from: 'py@sender.test',
      to: ['alice@acme.test'],
      message: basicMessage('py@sender.test', 'alice@acme.test', 'from python'),
    });
    expect(sut.ehlo).toBe(250);
    expect(sut.features).toEqual(
      expect.arrayContaining(['8bitmime', 'enhancedstatuscodes', 'pipelining', 'size', 'smtputf8', 'starttls']),
    );
    expect(sut.starttls).toBe(220);
    expect(sut.refused).toEqual({});
    const row = await h.prisma.message.findFirstOrThrow({ where: { mailboxId, subject: 'from python' } });
    expect(row.heloName).toBe('py.client.test');
  });

  it('reports per-recipient refusals: 550 5.1.1 and 550 5.2.1 next to an accepted recipient', async () => {
    const sut = await smtplib({
      port: mx.port,
      from: 'py@sender.test',
      to: ['alice@acme.test', 'ghost@acme.test', 'off@acme.test'],
      message: basicMessage('py@sender.test', 'alice@acme.test', 'partly refused'),
    });
    expect(sut.refused).toEqual({
      'ghost@acme.test': [550, '5.1.1 <ghost@acme.test>: Recipient address rejected: User unknown'],
      'off@acme.test': [550, '5.2.1 <off@acme.test>: Recipient address rejected: Mailbox disabled'],
    });
    expect(await h.prisma.message.count({ where: { subject: 'partly refused' } })).toBe(1);
  });

  it('is refused relaying with 554 5.7.1', async () => {
    const sut = await smtplib({
      port: mx.port,
      from: 'py@sender.test',
      to: ['x@gmail.example'],
      message: 'Subject: relay\r\n\r\nx\r\n',
    });
    expect(sut.recipientsRefused).toEqual({ 'x@gmail.example': [554, '5.7.1 <x@gmail.example>: Relay access denied'] });
  });

  it('is refused a declared SIZE over the limit with 552 5.3.4', async () => {
    const sut = await smtplib({ port: mx.port, from: 'py@sender.test', mail_options: ['SIZE=100001'] });
    expect(sut.mail?.[0]).toBe(552);
    expect(sut.mail?.[1]).toMatch(/^5\.3\.4 /);
  });
});
