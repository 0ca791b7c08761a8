import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '@test/support/smtp/harness';
import { RawPop3, plainToken } from '@test/support/pop3/pop3-client';
import { createPop3Harness, type Pop3Harness, type Pop3User } from '@test/support/pop3/pop3-harness';

function msg(subject: string, body = 'Hello.'): string {
  return message(
    { From: 'x@example.net', To: 'y@acme.test', Subject: subject, 'Message-ID': `<${subject.replace(/\W/g, '')}@t>` },
    body,
  );
}

describe('POP3: transaction and update states', () => {
  let sut: Pop3Harness;

  beforeAll(async () => {
    sut = await createPop3Harness();
  });
  afterAll(async () => sut?.close());

  async function login(user: Pop3User, port = sut.pop3.ports.pop3s): Promise<RawPop3> {
    const { client } = await RawPop3.connect(port, { tls: true });
    const reply = await client.command(`AUTH PLAIN ${plainToken('', user.address, user.password)}`);
    if (reply !== '+OK Logged in.') throw new Error(reply);
    return client;
  }

  async function quit(client: RawPop3): Promise<string> {
    const reply = await client.command('QUIT');
    await client.closed;
    return reply;
  }

  const rows = (user: Pop3User) =>
    sut.prisma.message.findMany({ where: { mailboxId: user.mailboxId }, orderBy: { receivedAt: 'asc' } });

  it('answers STAT, LIST, UIDL, TOP and RETR over the snapshot, oldest first', async () => {
    const u = await sut.user('list');
    const a = await sut.deliver(u.address, msg('first', 'line 1\r\n.dot line\r\nline 3'));
    const b = await sut.deliver(u.address, msg('second'));
    const client = await login(u);
    const stat = await client.command('STAT');
    expect(stat).toBe(`+OK 2 ${a.blob.length + b.blob.length}`);
    const list = await client.multi('LIST');
    expect(list.status).toBe(`+OK 2 messages (${a.blob.length + b.blob.length} octets)`);
    expect(list.lines).toEqual([`1 ${a.blob.length}`, `2 ${b.blob.length}`]);
    expect(await client.command('LIST 2')).toBe(`+OK 2 ${b.blob.length}`);
    const uidl = await client.multi('UIDL');
    expect(uidl.lines).toEqual([`1 ${a.id.replace(/-/g, '')}`, `2 ${b.id.replace(/-/g, '')}`]);
    expect(await client.command('UIDL 1')).toBe(`+OK 1 ${a.id.replace(/-/g, '')}`);
    const top = await client.multi('TOP 1 2');
    const header = a.blob.toString('latin1').split('\r\n\r\n')[0]!;
    expect(top.body.toString('latin1')).toBe(`${header}\r\n\r\nline 1\r\n..dot line\r\n`);
    const top0 = await client.multi('TOP 1 0');
    expect(top0.body.toString('latin1')).toBe(`${header}\r\n\r\n`);
    const retr = await client.multi('RETR 1');
    expect(retr.status).toBe(`+OK ${a.blob.length} octets`);
    expect(retr.body.toString('latin1').replace(/^\.\./gm, '.')).toBe(a.blob.toString('latin1'));
    expect(await client.command('NOOP')).toBe('+OK');
    expect(await quit(client)).toBe('+OK Logging out.');
  });

  it.each([
    ['RETR 0', '-ERR Invalid message number: 0'],
    ['RETR x', '-ERR Invalid message number: x'],
    ['RETR -1', '-ERR Invalid message number: -1'],
    ['RETR 3', "-ERR There's no message 3."],
    ['LIST 99', "-ERR There's no message 99."],
    ['UIDL 1 2', '-ERR Syntax: UIDL [msg]'],
    ['TOP 1', '-ERR Syntax: TOP msg n'],
    ['TOP 1 -1', '-ERR Invalid number of lines.'],
    ['RETR', '-ERR Syntax: RETR msg'],
    ['DELE', '-ERR Syntax: DELE msg'],
    ['STAT 1', '-ERR Syntax: STAT'],
    ['XYZZY', '-ERR Unknown command.'],
    ['USER me', '-ERR Command not valid in this state.'],
  ])('answers %s with -ERR and the session goes on', async (command, expected) => {
    const u = await sut.user(`bad${Math.random().toString(36).slice(2, 8)}`);
    await sut.deliver(u.address, msg('one'));
    await sut.deliver(u.address, msg('two'));
    const client = await login(u);
    expect(await client.command(command)).toBe(expected);
    expect(await client.command('STAT')).toMatch(/^\+OK 2 \d+$/);
    client.close();
  });

  it('DELE marks, RSET unmarks, a deleted message is refused, and nothing is deleted when the connection drops', async () => {
    const u = await sut.user('drop');
    await sut.deliver(u.address, msg('keep me 1'));
    await sut.deliver(u.address, msg('keep me 2'));
    const client = await login(u);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await client.command('DELE 1')).toBe('-ERR Message is deleted.');
    expect(await client.command('RETR 1')).toBe('-ERR Message is deleted.');
    expect(await client.command('STAT')).toMatch(/^\+OK 1 /);
    expect((await client.multi('LIST')).lines).toEqual([expect.stringMatching(/^2 /)]);
    expect(await client.command('RSET')).toMatch(/^\+OK 2 messages/);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await client.command('DELE 2')).toBe('+OK Marked to be deleted.');
    client.close();
    await client.closed;
    await new Promise((r) => setTimeout(r, 300));
    expect(await rows(u)).toHaveLength(2);
    // And the lock went with the connection: the next session gets in.
    const next = await login(u);
    expect(await next.command('STAT')).toMatch(/^\+OK 2 /);
    expect(await quit(next)).toBe('+OK Logging out.');
  });

  it("deleteMode 'delete' expunges DELE'd messages at QUIT and the mailbox usage drops", async () => {
    const u = await sut.user('del');
    const a = await sut.deliver(u.address, msg('gone'));
    const b = await sut.deliver(u.address, msg('stays'));
    const mailbox = () => sut.prisma.mailbox.findFirstOrThrow({ where: { id: u.mailboxId } });
    expect((await mailbox()).usedBytes).toBe(BigInt(a.blob.length + b.blob.length));
    const client = await login(u);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await quit(client)).toBe('+OK Logging out.');
    const left = await rows(u);
    expect(left.map((r) => r.id)).toEqual([b.id]);
    expect((await mailbox()).usedBytes).toBe(BigInt(b.blob.length));
    expect(left[0]!.flags).not.toContain('\\Seen');
  });

  it("deleteMode 'keep' leaves DELE'd messages on the server, marked \\Seen", async () => {
    const u = await sut.user('keep', { pop3DeleteMode: 'keep' });
    const a = await sut.deliver(u.address, msg('kept'));
    const client = await login(u);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await quit(client)).toBe('+OK Logging out.');
    const [row] = await rows(u);
    expect(row!.id).toBe(a.id);
    expect(row!.flags).toContain('\\Seen');
    expect(row!.flags).not.toContain('\\Deleted');
  });

  it("deleteMode 'trash' moves DELE'd messages to Trash, and the UIDL stays (the row id moves with it)", async () => {
    const u = await sut.user('trash', { pop3DeleteMode: 'trash' });
    const trash = await sut.prisma.folder.create({
      data: { tenantId: u.tenantId, mailboxId: u.mailboxId, name: 'Trash', kind: 'trash' },
    });
    const a = await sut.deliver(u.address, msg('to trash'));
    const client = await login(u);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await quit(client)).toBe('+OK Logging out.');
    const [row] = await rows(u);
    expect(row!.id).toBe(a.id);
    expect(row!.folderId).toBe(trash.id);
  });

  it('markRead: RETR sets \\Seen at QUIT, TOP does not, and a dropped session sets nothing', async () => {
    const u = await sut.user('seen', { pop3MarkRead: true });
    const a = await sut.deliver(u.address, msg('retrieved'));
    const b = await sut.deliver(u.address, msg('peeked'));
    const dropped = await login(u);
    await dropped.multi('RETR 1');
    dropped.close();
    await dropped.closed;
    await new Promise((r) => setTimeout(r, 300));
    expect((await rows(u)).every((r) => !r.flags.includes('\\Seen'))).toBe(true);
    const client = await login(u);
    expect((await client.multi('RETR 1')).status).toMatch(/^\+OK/);
    expect((await client.multi('TOP 2 5')).status).toMatch(/^\+OK/);
    expect(await quit(client)).toBe('+OK Logging out.');
    const flags = new Map((await rows(u)).map((r) => [r.id, r.flags]));
    expect(flags.get(a.id)).toContain('\\Seen');
    expect(flags.get(b.id)).not.toContain('\\Seen');
  });

  it('without markRead, RETR leaves the IMAP state alone', async () => {
    const u = await sut.user('noseen');
    await sut.deliver(u.address, msg('unread'));
    const client = await login(u);
    await client.multi('RETR 1');
    await quit(client);
    expect((await rows(u))[0]!.flags).not.toContain('\\Seen');
  });

  it('gives a second concurrent session [IN-USE], and lets it in once the first QUIT', async () => {
    const u = await sut.user('inuse');
    const first = await login(u);
    const { client: second } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await second.command(`AUTH PLAIN ${plainToken('', u.address, u.password)}`)).toBe(
      '-ERR [IN-USE] Mailbox is locked by another POP3 session; try again when it has ended',
    );
    // The lock holds across processes: another server on the same Redis refuses too.
    const other = await sut.startPop3();
    const { client: third } = await RawPop3.connect(other.ports.pop3s, { tls: true });
    expect(await third.command(`AUTH PLAIN ${plainToken('', u.address, u.password)}`)).toMatch(/^-ERR \[IN-USE\]/);
    await quit(first);
    expect(await second.command(`AUTH PLAIN ${plainToken('', u.address, u.password)}`)).toBe('+OK Logged in.');
    second.close();
    third.close();
  });

  it('takes a snapshot at login: mail arriving later is seen by the next session; UIDLs stay the same', async () => {
    const u = await sut.user('snap');
    const a = await sut.deliver(u.address, msg('before'));
    const client = await login(u);
    await sut.deliver(u.address, msg('during'));
    expect(await client.command('STAT')).toMatch(/^\+OK 1 /);
    const firstUidl = (await client.multi('UIDL')).lines;
    await quit(client);
    const next = await login(u);
    const uidl = (await next.multi('UIDL')).lines;
    expect(uidl).toHaveLength(2);
    expect(uidl[0]).toBe(firstUidl[0]);
    expect(uidl[0]).toBe(`1 ${a.id.replace(/-/g, '')}`);
    await quit(next);
  });

  it('never shows hidden (legal-hold) messages', async () => {
    const u = await sut.user('hold');
    const a = await sut.deliver(u.address, msg('hidden'));
    await sut.deliver(u.address, msg('visible'));
    await sut.prisma.message.update({
      where: { tenantId_id: { tenantId: u.tenantId, id: a.id } },
      data: { deletedAt: new Date() },
    });
    const client = await login(u);
    expect(await client.command('STAT')).toMatch(/^\+OK 1 /);
    expect((await client.multi('UIDL')).lines[0]).not.toContain(a.id.replace(/-/g, ''));
    client.close();
  });

  it('serves the folders of the settings (Inbox and Junk), ordered by received time', async () => {
    const u = await sut.user('junky', { pop3Folders: ['INBOX', 'Junk'] });
    const a = await sut.deliver(u.address, msg('inbox one'));
    const junk = await sut.prisma.folder.findFirstOrThrow({ where: { mailboxId: u.mailboxId, kind: 'junk' } });
    const b = await sut.deliver(u.address, msg('to junk'));
    await sut.prisma.$executeRaw`UPDATE messages SET folder_id = ${junk.id}::uuid WHERE id = ${b.id}::uuid`;
    const c = await sut.deliver(u.address, msg('inbox two'));
    const client = await login(u);
    const ids = (await client.multi('UIDL')).lines.map((l) => l.split(' ')[1]);
    expect(ids).toEqual([a.id, b.id, c.id].map((id) => id.replace(/-/g, '')));
    client.close();
  });

  it('answers 200 pipelined commands in order, one at a time', async () => {
    const u = await sut.user('pipe');
    await sut.deliver(u.address, msg('piped'));
    const client = await login(u);
    client.write('STAT\r\nRETR 1\r\nNOOP\r\n'.repeat(200));
    for (let i = 0; i < 200; i++) {
      expect(await client.line()).toMatch(/^\+OK 1 \d+$/);
      expect((await client.readMulti()).status).toMatch(/^\+OK \d+ octets$/);
      expect(await client.line()).toBe('+OK');
    }
    client.close();
  });

  it('ends a live session when access is revoked (password changed), applying nothing', async () => {
    const u = await sut.user('revoked');
    await sut.deliver(u.address, msg('stay'));
    const client = await login(u);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    await sut.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: u.tenantId, id: u.mailboxId } },
      data: { passwordHash: 'changed' },
    });
    expect(await client.line()).toBe('-ERR [AUTH] Session ended: access to this mailbox was revoked');
    await client.closed;
    expect(await rows(u)).toHaveLength(1);
  });

  it('closes a logged-in session idle past its timeout, deleting nothing', async () => {
    const quick = await sut.startPop3({ idleTimeoutMs: 400 });
    const u = await sut.user('idle');
    await sut.deliver(u.address, msg('idle'));
    const client = await login(u, quick.ports.pop3s);
    expect(await client.command('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await client.line()).toBe('-ERR Disconnected for inactivity.');
    await client.closed;
    expect(await rows(u)).toHaveLength(1);
  });
});
