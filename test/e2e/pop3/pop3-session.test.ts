import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPasswordKey, generateAppPassword } from '@mailroom/access';
import { basicMessage } from '@test/support/smtp/harness';
import { RawPop3, plainToken } from '@test/support/pop3/pop3-client';
import { PASSWORD, createPop3Harness, type Pop3Harness, type Pop3User } from '@test/support/pop3/pop3-harness';

const PLAINTEXT = '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections';
const FAILED = '-ERR [AUTH] Authentication failed';

describe('POP3: authorization state', () => {
  let sut: Pop3Harness;
  let alice: Pop3User;

  beforeAll(async () => {
    sut = await createPop3Harness();
    alice = await sut.user('alice');
  });
  afterAll(async () => sut?.close());

  async function plain() {
    const { client, greeting } = await RawPop3.connect(sut.pop3.ports.pop3);
    expect(greeting).toBe('+OK Mailroom POP3 ready.');
    return client;
  }

  async function afterStls() {
    const client = await plain();
    expect(await client.command('STLS')).toBe('+OK Begin TLS negotiation now.');
    await client.startTls();
    return client;
  }

  it('offers STLS but neither USER nor SASL before TLS on the plain port (RFC 2449 CAPA)', async () => {
    const client = await plain();
    const capa = await client.multi('CAPA');
    expect(capa.status).toBe('+OK Capability list follows');
    expect(capa.lines).toEqual([
      'TOP',
      'UIDL',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'PIPELINING',
      'STLS',
      'IMPLEMENTATION Mailroom',
    ]);
    client.close();
  });

  it('refuses USER, PASS and AUTH before TLS like Dovecot, and the session goes on', async () => {
    const client = await plain();
    expect(await client.command(`USER ${alice.address}`)).toBe(PLAINTEXT);
    expect(await client.command(`PASS ${alice.password}`)).toBe(PLAINTEXT);
    expect(await client.command(`AUTH PLAIN ${plainToken('', alice.address, alice.password)}`)).toBe(PLAINTEXT);
    expect(await client.command('STLS')).toBe('+OK Begin TLS negotiation now.');
    client.close();
  });

  it('after STLS lists USER and SASL PLAIN, no STLS, and refuses a second STLS', async () => {
    const client = await afterStls();
    const capa = await client.multi('CAPA');
    expect(capa.lines).toEqual([
      'TOP',
      'UIDL',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'PIPELINING',
      'USER',
      'SASL PLAIN',
      'IMPLEMENTATION Mailroom',
    ]);
    expect(await client.command('STLS')).toMatch(/^-ERR /);
    client.close();
  });

  it('drops commands pipelined in plaintext behind STLS instead of running them inside TLS', async () => {
    const client = await plain();
    client.write(`STLS\r\nUSER ${alice.address}\r\nPASS ${alice.password}\r\n`);
    expect(await client.line()).toBe('+OK Begin TLS negotiation now.');
    await client.startTls();
    // Had the injected USER/PASS run, this PASS would be answered by a login.
    expect(await client.command('PASS x')).toBe('-ERR No username given.');
    client.close();
  });

  it('logs in with STLS then AUTH PLAIN with an initial response', async () => {
    const client = await afterStls();
    expect(await client.command(`AUTH PLAIN ${plainToken('', alice.address, alice.password)}`)).toBe('+OK Logged in.');
    expect(await client.command('QUIT')).toBe('+OK Logging out.');
    await client.closed;
  });

  it('logs in with AUTH PLAIN and a continuation (RFC 5034), and "*" cancels one', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command('*')).toBe('-ERR Authentication aborted');
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command('not base64!')).toBe('-ERR [AUTH] Invalid SASL response');
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command(plainToken('', alice.address, alice.password))).toBe('+OK Logged in.');
    client.close();
  });

  it('lists its mechanisms for a bare AUTH, and refuses other mechanisms', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect((await client.multi('AUTH')).lines).toEqual(['PLAIN']);
    expect(await client.command('AUTH CRAM-MD5')).toBe('-ERR [AUTH] Unsupported authentication mechanism');
    client.close();
  });

  it('logs in with USER/PASS on the TLS port, a password with spaces whole', async () => {
    const { client, greeting } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(greeting).toBe('+OK Mailroom POP3 ready.');
    expect((await client.multi('CAPA')).lines).not.toContain('STLS');
    expect(await client.command(`USER ${alice.address}`)).toBe('+OK');
    expect(await client.command(`PASS ${alice.password}`)).toBe('+OK Logged in.');
    client.close();
  });

  it('answers a wrong password and an unknown user alike with [AUTH]', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command(`AUTH PLAIN ${plainToken('', alice.address, 'wrong')}`)).toBe(FAILED);
    expect(await client.command(`AUTH PLAIN ${plainToken('', 'ghost@acme.test', 'wrong')}`)).toBe(FAILED);
    client.close();
  });

  it('closes the connection after three failed logins', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    for (let i = 0; i < 2; i++) {
      expect(await client.command(`AUTH PLAIN ${plainToken('', 'nobody@acme.test', 'x')}`)).toBe(FAILED);
    }
    expect(await client.command(`AUTH PLAIN ${plainToken('', 'nobody@acme.test', 'x')}`)).toBe(FAILED);
    expect(await client.line()).toBe('-ERR [AUTH] Too many failed logins; closing the connection');
    await client.closed;
  });

  it('tells a mailbox with POP3 off, after the password verified, how to turn it on', async () => {
    const off = await sut.user('nopop', { pop3Enabled: false });
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command(`AUTH PLAIN ${plainToken('', off.address, off.password)}`)).toBe(
      '-ERR [AUTH] POP3 access is disabled for this mailbox; enable it in the dashboard',
    );
    expect(await client.command(`AUTH PLAIN ${plainToken('', off.address, 'wrong')}`)).toBe(FAILED);
    client.close();
  });

  it('answers a disabled mailbox with [SYS/PERM]', async () => {
    const off = await sut.user('disabled');
    await sut.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: off.tenantId, id: off.mailboxId } },
      data: { status: 'disabled' },
    });
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command(`AUTH PLAIN ${plainToken('', off.address, off.password)}`)).toMatch(
      /^-ERR \[SYS\/PERM\] This mailbox is disabled/,
    );
    client.close();
  });

  it('answers unknown commands, transaction commands and over-long lines with -ERR, and the session goes on', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command('HELO there')).toBe('-ERR Unknown command.');
    expect(await client.command('STAT')).toBe('-ERR Command not valid in this state.');
    expect(await client.command('RETR 1')).toBe('-ERR Command not valid in this state.');
    expect(await client.command('NOOP')).toBe('-ERR Command not valid in this state.');
    expect(await client.command(`USER ${'x'.repeat(2_000)}`)).toBe('-ERR Input line too long.');
    expect(await client.command('')).toBe('-ERR Unknown command.');
    expect(await client.command(`user ${alice.address}`)).toBe('+OK');
    expect(await client.command(`pass ${alice.password}`)).toBe('+OK Logged in.');
    expect(await client.command('USER again')).toBe('-ERR Command not valid in this state.');
    expect(await client.command('BOGUS')).toBe('-ERR Unknown command.');
    expect(await client.command('NOOP')).toBe('+OK');
    client.close();
  });

  it('closes an unauthenticated session after too many commands', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    client.write('CAPA\r\n'.repeat(25));
    for (let i = 0; i < 20; i++) expect((await client.readMulti()).status).toBe('+OK Capability list follows');
    expect(await client.line()).toBe('-ERR Too many commands before login; closing the connection');
    await client.closed;
  });

  it('closes an idle unauthenticated session', async () => {
    const quick = await sut.startPop3({ authTimeoutMs: 300 });
    const { client } = await RawPop3.connect(quick.ports.pop3);
    expect(await client.line()).toBe('-ERR Disconnected for inactivity.');
    await client.closed;
  });

  it('keeps the lockout shared with SMTP AUTH: a locked account is refused even with the right password', async () => {
    const victim = await sut.user('victim');
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    for (let i = 0; i < 2; i++) await client.command(`AUTH PLAIN ${plainToken('', victim.address, `guess ${i}`)}`);
    client.close();
    const again = (await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true })).client;
    for (let i = 2; i < 4; i++) await again.command(`AUTH PLAIN ${plainToken('', victim.address, `guess ${i}`)}`);
    again.close();
    const last = (await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true })).client;
    await last.command(`AUTH PLAIN ${plainToken('', victim.address, 'guess 5')}`);
    expect(await last.command(`AUTH PLAIN ${plainToken('', victim.address, victim.password)}`)).toBe(FAILED);
    last.close();
  });

  it('takes an app password scoped to pop3, refuses one scoped to imap, and ends its session when it is revoked', async () => {
    const u = await sut.user('apps');
    const key = appPasswordKey(sut.config.MASTER_KEY);
    const make = async (protocols: string[]) => {
      const app = generateAppPassword(key);
      const row = await sut.prisma.appPassword.create({
        data: {
          tenantId: u.tenantId,
          mailboxId: u.mailboxId,
          name: protocols.join(),
          secretHash: app.secretHash,
          protocols,
        },
      });
      return { ...app, id: row.id };
    };
    const pop = await make(['pop3']);
    const imapOnly = await make(['imap']);
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command(`AUTH PLAIN ${plainToken('', u.address, imapOnly.password)}`)).toBe(FAILED);
    expect(await client.command(`USER ${u.address}`)).toBe('+OK');
    expect(await client.command(`PASS ${pop.password}`)).toBe('+OK Logged in.');
    await sut.prisma.appPassword.update({
      where: { tenantId_id: { tenantId: u.tenantId, id: pop.id } },
      data: { revokedAt: new Date() },
    });
    expect(await client.line()).toBe('-ERR [AUTH] Session ended: access to this mailbox was revoked');
    await client.closed;
  });

  it("refuses an address the tenant's IP rules deny for pop3, with a sentence", async () => {
    const walled = await sut.h.seed.hosted('walled.test', []);
    await sut.prisma.ipAccessRule.create({
      data: { tenantId: walled.tenant.id, cidr: '127.0.0.0/8', action: 'deny', service: 'pop3', priority: 10 },
    });
    const mailbox = await sut.h.seed.mailbox(walled.tenant.id, walled.domain.id, 'carol');
    await sut.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: walled.tenant.id, id: mailbox.id } },
      data: { passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }) },
    });
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await client.command(`AUTH PLAIN ${plainToken('', 'carol@walled.test', PASSWORD)}`)).toMatch(
      /^-ERR \[AUTH\] Access denied: your IP address is not allowed/,
    );
    client.close();
  });

  it('delivers mail through the MTA for the transaction tests to read', async () => {
    // (a smoke check of the harness itself: the MX stores into the Inbox POP3 serves)
    const bob = await sut.user('bob');
    const stored = await sut.deliver(bob.address, basicMessage('x@example.net', bob.address));
    expect(stored.folderId).toBe(bob.inboxId);
  });
});
