import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('imap: greeting, TLS and login', () => {
  let x: ImapHarness;
  let alice: { id: string; address: string };

  beforeAll(async () => {
    x = await createImapHarness({ preAuthTimeoutMs: 1_500, preAuthMaxCommands: 5 });
    alice = await x.user('alice');
    await x.user('noimap', { imapEnabled: false });
  });
  afterAll(async () => x?.close());

  it('greets with capabilities and refuses LOGIN before STARTTLS on the plain port (LOGINDISABLED)', async () => {
    const raw = await RawImap.connect(x.imap.ports.imap);
    const greeting = await raw.line();
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*STARTTLS LOGINDISABLED\] /);
    expect(greeting).not.toContain('AUTH=PLAIN');
    const login = await raw.command('a1', `LOGIN ${alice.address} "${PASSWORD}"`);
    expect(login.at(-1)).toBe('a1 NO [PRIVACYREQUIRED] Use STARTTLS first (LOGINDISABLED)');
    expect(await raw.command('a2', 'STARTTLS')).toEqual(['a2 OK Begin TLS negotiation now']);
    await raw.startTls();
    const caps = await raw.command('a3', 'CAPABILITY');
    expect(caps[0]).toContain('AUTH=PLAIN');
    expect(caps[0]).not.toContain('LOGINDISABLED');
    const ok = await raw.command('a4', `LOGIN ${alice.address} "${PASSWORD}"`);
    expect(ok.at(-1)).toMatch(/^a4 OK \[CAPABILITY IMAP4rev1 .*IDLE.*\] Logged in$/);
    raw.close();
  });

  it('drops plaintext pipelined after STARTTLS (no command injection)', async () => {
    const raw = await RawImap.connect(x.imap.ports.imap);
    await raw.line();
    raw.write('a1 STARTTLS\r\na2 CAPABILITY\r\n');
    expect(await raw.line()).toBe('a1 OK Begin TLS negotiation now');
    await raw.startTls();
    expect(await raw.command('a3', 'NOOP')).toEqual(['a3 OK NOOP completed']);
    raw.close();
  });

  it('logs in over implicit TLS with imapflow (the self-signed certificate) and lists special-use folders', async () => {
    const client = await x.client(alice.address);
    const list = await client.list();
    const byPath = Object.fromEntries(list.map((f) => [f.path, f.specialUse ?? null]));
    expect(byPath).toEqual({
      INBOX: '\\Inbox',
      Sent: '\\Sent',
      Drafts: '\\Drafts',
      Trash: '\\Trash',
      Junk: '\\Junk',
      Archive: '\\Archive',
    });
    await client.logout();
  });

  it('answers a wrong password with NO [AUTHENTICATIONFAILED]', async () => {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    const res = await raw.command('a1', `LOGIN ${alice.address} "wrong password"`);
    expect(res.at(-1)).toBe('a1 NO [AUTHENTICATIONFAILED] Authentication failed.');
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: x.imap.ports.imaps,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: alice.address, pass: 'still wrong' },
      logger: false,
    });
    await expect(client.connect()).rejects.toThrow();
    raw.close();
  });

  it('logs in with AUTHENTICATE PLAIN, with SASL-IR and with a continuation', async () => {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    const ir = await raw.command('a1', `AUTHENTICATE PLAIN ${b64(`\0${alice.address}\0${PASSWORD}`)}`);
    expect(ir.at(-1)).toMatch(/^a1 OK /);
    raw.close();
    const raw2 = await RawImap.connect(x.imap.ports.imaps, true);
    await raw2.line();
    raw2.write('b1 AUTHENTICATE PLAIN\r\n');
    expect(await raw2.line()).toBe('+ ');
    raw2.write(`${b64(`\0${alice.address}\0${PASSWORD}`)}\r\n`);
    expect(await raw2.line()).toMatch(/^b1 OK /);
    raw2.close();
  });

  it("gives the provider's sentence when the mailbox's imap flag is off", async () => {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    const res = await raw.command('a1', `LOGIN noimap@acme.test "${PASSWORD}"`);
    expect(res.at(-1)).toBe(
      'a1 NO [AUTHORIZATIONFAILED] IMAP access is disabled for this mailbox; enable it in the dashboard',
    );
    raw.close();
  });

  it('closes an unauthenticated session that stays idle', async () => {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    expect(await raw.line(4_000)).toBe('* BYE Autologout; idle for too long');
    await raw.waitClosed();
  });

  it('closes an unauthenticated session that drip-feeds a command slower than the timeout', async () => {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    const started = Date.now();
    for (const c of 'a1 NOOP') {
      if (raw.closed) break;
      raw.write(c);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(await raw.line(4_000)).toBe('* BYE Autologout; idle for too long');
    await raw.waitClosed();
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('closes an unauthenticated session after too many commands', async () => {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    for (let i = 1; i <= 5; i++) expect((await raw.command(`n${i}`, 'NOOP')).at(-1)).toBe(`n${i} OK NOOP completed`);
    const last = await raw.command('n6', 'NOOP');
    expect(last).toEqual(['* BYE Too many commands without logging in']);
    await raw.waitClosed();
  });
});
