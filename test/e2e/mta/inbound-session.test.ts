import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inbound MX: session and limits', () => {
  let h: Harness;
  let mx: RunningInbound;
  let mailboxId: string;

  beforeAll(async () => {
    h = await createHarness();
    const acme = await h.seed.hosted('acme.test', ['alice']);
    mailboxId = acme.mailboxes[0]!.id;
    mx = await h.start({
      SMTP_MAX_CONNECTIONS_PER_IP: '3',
      SMTP_MAX_COMMANDS: '12',
      SMTP_MAX_ERRORS: '3',
      SMTP_IDLE_TIMEOUT_MS: '1500',
      SMTP_SESSION_TIMEOUT_MS: '4000',
      MAX_MESSAGE_BYTES: '20000',
    });
  });
  afterAll(async () => h?.close());

  const count = (subject: string) => h.prisma.message.count({ where: { mailboxId, subject } });

  it('answers pipelined commands in order, one reply each', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    client.write('MAIL FROM:<s@sender.test>\r\nRCPT TO:<alice@acme.test>\r\nRCPT TO:<nobody@acme.test>\r\nDATA\r\n');
    const replies = [await client.read(), await client.read(), await client.read(), await client.read()];
    expect(replies.map((r) => r.code)).toEqual([250, 250, 550, 354]);
    client.write(`${basicMessage('s@sender.test', 'alice@acme.test', 'pipelined')}.\r\nQUIT\r\n`);
    expect((await client.read()).code).toBe(250);
    expect((await client.read()).code).toBe(221);
    expect(await count('pipelined')).toBe(1);
  });

  it('sends the replies to one pipelined group in one write, as Postfix does', async () => {
    // The MTA runs in this process: count the writes its sockets hand to the kernel (net.Socket's
    // one internal write path, for write and writev alike). A client here cannot tell one write
    // from four, since it reads only after the server's turn of the event loop.
    const proto = net.Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
    const writes = vi.spyOn(proto, '_writeGeneric');
    const serverWrites = () => writes.mock.contexts.filter((s) => (s as net.Socket).localPort === mx.port).length;
    const client = await RawSmtp.connect(mx.port);
    const perGroup: number[] = [];
    try {
      await client.command('EHLO client.test');
      // Until a group is answered from memory: the first also warms the recipient lookups, which
      // wait for the database then (and while the recipient cache's LISTEN is not up yet).
      for (let group = 0; group < 5 && perGroup.at(-1) !== 1; group++) {
        const before = serverWrites();
        client.write(
          'MAIL FROM:<s@sender.test>\r\nRCPT TO:<alice@acme.test>\r\nRCPT TO:<nobody@acme.test>\r\nDATA\r\n',
        );
        const replies = [await client.read(), await client.read(), await client.read(), await client.read()];
        expect(replies.map((r) => r.code)).toEqual([250, 250, 550, 354]);
        perGroup.push(serverWrites() - before);
        client.write(`${basicMessage('s@sender.test', 'alice@acme.test', `grouped ${group}`)}.\r\n`);
        expect((await client.read()).code).toBe(250);
      }
      // One write for the four replies (four without the coalescing, every time).
      expect(perGroup.at(-1)).toBe(1);
      expect((await client.command('QUIT')).code).toBe(221);
    } finally {
      writes.mockRestore();
      client.close();
    }
    expect(await count(`grouped ${perGroup.length - 1}`)).toBe(1);
  });

  it('upgrades with STARTTLS and records the TLS hop in the Received header', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    expect((await client.command('STARTTLS')).code).toBe(220);
    await client.startTls();
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo.lines.some((l) => l.includes('STARTTLS'))).toBe(false);
    const replies = await transaction(
      client,
      's@sender.test',
      ['alice@acme.test'],
      basicMessage('s@sender.test', 'alice@acme.test', 'over tls'),
    );
    client.close();
    expect(replies.at(-1)!.code).toBe(250);
    const row = await h.prisma.message.findFirstOrThrow({ where: { subject: 'over tls' } });
    const blob = await h.prisma.messageBlob.findFirstOrThrow({ where: { sha256: row.blobSha256 } });
    expect(Buffer.from(blob.bytes!).toString()).toMatch(
      /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.mailroom\.test \(Mailroom\) with ESMTPS id [0-9a-f]{16}\r\n\t\(using TLSv1\.[23] with cipher /m,
    );
  });

  it('answers EHLO and STARTTLS sent in one packet, the 220 in plaintext before the handshake', async () => {
    const client = await RawSmtp.connect(mx.port);
    client.write('EHLO client.test\r\nSTARTTLS\r\n');
    expect((await client.read()).code).toBe(250);
    expect((await client.read()).code).toBe(220);
    await client.startTls();
    expect((await client.command('EHLO client.test')).code).toBe(250);
    expect((await client.command('NOOP')).text).toBe('250 2.0.0 OK');
    client.close();
  });

  it('discards commands pipelined behind STARTTLS (no command injection)', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    client.write('STARTTLS\r\nRSET\r\nMAIL FROM:<injected@evil.test>\r\n');
    expect((await client.read()).code).toBe(220);
    await client.startTls();
    const first = await client.command('NOOP');
    expect(first.text).toBe('250 2.0.0 OK');
    await client.command('EHLO client.test');
    expect((await client.command('RCPT TO:<alice@acme.test>')).code).toBe(503);
    client.close();
  });

  it('refuses a client that talks before the greeting with 421', async () => {
    const client = await RawSmtp.connect(mx.port, { greeting: false });
    client.write('EHLO early.test\r\n');
    const reply = await client.read();
    expect(reply.code).toBe(421);
    expect(reply.text).toMatch(/talk too soon/);
    await client.closed;
  });

  it('refuses a command line over 512 octets with 500 5.5.2 and the session goes on', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    // 510 octets plus CRLF: the longest line RFC 5321 §4.5.3.1.4 allows.
    expect((await client.command(`NOOP ${'x'.repeat(505)}`)).code).toBe(250);
    expect((await client.command(`NOOP ${'x'.repeat(506)}`)).text).toBe('500 5.5.2 Line too long');
    expect((await client.command('NOOP')).code).toBe(250);
    // MAIL and RCPT get the room their extensions' parameters need (RFC 1870, RFC 3461 §4).
    const label = 'b'.repeat(63);
    const from = `${'a'.repeat(64)}@${label}.${label}.test`;
    expect(
      (await client.command(`MAIL FROM:<${from}> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=${'x'.repeat(100)}`)).text,
    ).toMatch(/^250 /);
    expect((await client.command(`RCPT TO:<alice@acme.test> NOTIFY=NEVER ${'X'.repeat(1000)}`)).text).toBe(
      '500 5.5.2 Line too long',
    );
    expect((await client.command('RCPT TO:<alice@acme.test> NOTIFY=FAILURE ORCPT=rfc822;alice@acme.test')).code).toBe(
      250,
    );
    expect((await client.command('DATA')).code).toBe(354);
    expect((await client.command(basicMessage(from, 'alice@acme.test', 'after a long line') + '.')).code).toBe(250);
    client.close();
    expect(await count('after a long line')).toBe(1);
  });

  it("hangs up with 421 on a line past smtp-server's hard limit (16 KB), which its parser cannot recover from", async () => {
    const client = await RawSmtp.connect(mx.port);
    client.write(`NOOP ${'x'.repeat(17 * 1024)}\r\n`);
    const reply = await client.read();
    expect(reply.code).toBe(421);
    expect(reply.text).toMatch(/too long/i);
    await client.closed;
  });

  it('disconnects a session after too many errors, and other sessions carry on', async () => {
    const good = await RawSmtp.connect(mx.port);
    await good.command('EHLO good.test');
    const bad = await RawSmtp.connect(mx.port);
    expect((await bad.command('FOO')).code).toBe(500);
    expect((await bad.command('BAR')).code).toBe(500);
    expect((await bad.command('BAZ')).code).toBe(500);
    const cut = await bad.read();
    expect(cut.text).toMatch(/^421 4\.7\.0 mx\.mailroom\.test Too many errors, closing connection$/);
    await bad.closed;
    const replies = await transaction(
      good,
      's@sender.test',
      ['alice@acme.test'],
      basicMessage('s@sender.test', 'alice@acme.test', 'still fine'),
    );
    good.close();
    expect(replies.at(-1)!.code).toBe(250);
  });

  it('disconnects a session after too many commands', async () => {
    const client = await RawSmtp.connect(mx.port);
    for (let i = 0; i < 12; i++) expect((await client.command('NOOP')).code).toBe(250);
    expect((await client.command('NOOP')).text).toMatch(/^421 4\.7\.0 .*Too many commands/);
    await client.closed;
  });

  it('limits connections per client address', async () => {
    const open = [await RawSmtp.connect(mx.port), await RawSmtp.connect(mx.port), await RawSmtp.connect(mx.port)];
    const fourth = await RawSmtp.connect(mx.port, { greeting: false });
    const reply = await fourth.read();
    expect(reply.text).toMatch(/^421 4\.7\.0 .*Too many connections from your address/);
    await fourth.closed;
    for (const c of open) c.close();
    await Promise.all(open.map((c) => c.closed));
    // The server forgets closed connections when it sees them close; wait for that, not for a time.
    let greeted = false;
    for (let i = 0; i < 100 && !greeted; i++) {
      const again = await RawSmtp.connect(mx.port, { greeting: false });
      greeted = (await again.read()).code === 220;
      again.close();
      if (!greeted) await sleep(50);
    }
    expect(greeted).toBe(true);
  });

  it('closes an idle session with 421', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const reply = await client.read();
    expect(reply.code).toBe(421);
    expect(reply.text).toMatch(/Timeout/);
    await client.closed;
  });

  it('cuts a client that drips DATA past the session deadline, storing nothing', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<s@sender.test>');
    await client.command('RCPT TO:<alice@acme.test>');
    expect((await client.command('DATA')).code).toBe(354);
    client.write('Subject: drip\r\n\r\n');
    const reply = client.read();
    while (!client.isClosed) {
      client.write('x');
      await sleep(200);
    }
    expect((await reply).text).toMatch(/^421 4\.4\.2 .*Session time limit exceeded/);
    expect(await count('drip')).toBe(0);
  });

  it('refuses SIZE= over the limit at MAIL with 552 5.3.4', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<s@sender.test> SIZE=20001')).text).toMatch(/^552 5\.3\.4 /);
    client.close();
  });

  it('refuses a message that grows past the limit while streaming with 552 5.3.4, and the session goes on', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const big = basicMessage('s@sender.test', 'alice@acme.test', 'too big').replace('Hello.', 'y'.repeat(25_000));
    const replies = await transaction(client, 's@sender.test', ['alice@acme.test'], big);
    expect(replies.at(-1)!.text).toMatch(/^552 5\.3\.4 /);
    expect((await client.command('RSET')).code).toBe(250);
    client.close();
    expect(await count('too big')).toBe(0);
  });
});
