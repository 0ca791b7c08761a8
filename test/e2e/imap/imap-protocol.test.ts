import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage } from '@test/support/smtp/harness';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

describe('imap: protocol edges on the wire', () => {
  let x: ImapHarness;
  let address: string;

  beforeAll(async () => {
    x = await createImapHarness({ appendLimit: 100_000 });
    ({ address } = await x.user('bob'));
    for (let i = 0; i < 3; i++) await x.deliver(address, basicMessage('someone@sender.test', address, `p${i}`));
  });
  afterAll(async () => x?.close());

  async function session(select = true): Promise<RawImap> {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    expect((await raw.command('l', `LOGIN ${address} "${PASSWORD}"`)).at(-1)).toMatch(/^l OK /);
    if (select) expect((await raw.command('s', 'SELECT INBOX')).at(-1)).toBe('s OK [READ-WRITE] SELECT completed');
    return raw;
  }

  it('answers malformed commands with BAD and goes on', async () => {
    const raw = await session();
    expect(await raw.command('b1', 'FETCH')).toEqual(['b1 BAD Wrong number of arguments']);
    expect((await raw.command('b2', 'FROB 1'))[0]).toBe('b2 BAD Unknown command');
    expect((await raw.command('b3', 'FETCH 1:x FLAGS'))[0]).toBe('b3 BAD Invalid sequence set');
    expect((await raw.command('b4', 'SELECT "INBOX'))[0]).toBe('b4 BAD Unterminated quoted string');
    expect((await raw.command('b5', 'FETCH 1 (FLAGS'))[0]).toMatch(/^b5 BAD /);
    raw.write('\r\n');
    expect(await raw.line()).toMatch(/^\* BAD /);
    expect((await raw.command('ok', 'NOOP')).at(-1)).toBe('ok OK NOOP completed');
    raw.close();
  });

  it('CREATE, RENAME, SUBSCRIBE, DELETE folders, with the RFC 5530 codes when they fail', async () => {
    const raw = await session(false);
    expect((await raw.command('c1', 'CREATE Projects/2026')).at(-1)).toBe('c1 OK CREATE completed');
    expect((await raw.command('c2', 'CREATE Projects/2026')).at(-1)).toBe(
      'c2 NO [ALREADYEXISTS] Mailbox already exists',
    );
    expect(await raw.command('c3', 'LIST "" "Projects*"')).toEqual([
      '* LIST (\\HasChildren) "/" "Projects"',
      '* LIST (\\HasNoChildren) "/" "Projects/2026"',
      'c3 OK LIST completed',
    ]);
    expect((await raw.command('c4', 'RENAME Projects/2026 Projects/Done')).at(-1)).toBe('c4 OK RENAME completed');
    expect((await raw.command('c5', 'SUBSCRIBE Projects/Done')).at(-1)).toBe('c5 OK SUBSCRIBE completed');
    expect(await raw.command('c6', 'LSUB "" "Projects/*"')).toEqual([
      '* LSUB () "/" "Projects/Done"',
      'c6 OK LSUB completed',
    ]);
    expect((await raw.command('c7', 'DELETE Projects/Done')).at(-1)).toBe('c7 OK DELETE completed');
    expect((await raw.command('c8', 'DELETE Nowhere')).at(-1)).toBe('c8 NO [NONEXISTENT] No such mailbox');
    expect((await raw.command('c9', 'DELETE INBOX')).at(-1)).toMatch(/^c9 NO \[CANNOT\] /);
    expect((await raw.command('c10', 'SELECT Nowhere')).at(-1)).toBe('c10 NO [NONEXISTENT] No such mailbox');
    raw.close();
  });

  it('answers FETCH with unknown items BAD', async () => {
    const raw = await session();
    expect((await raw.command('f1', 'FETCH 1 (FLAGS BOGUS)')).at(-1)).toMatch(/^f1 BAD /);
    expect((await raw.command('f2', 'SEARCH CHARSET KOI9 ALL')).at(-1)).toMatch(/^f2 NO \[BADCHARSET/);
    raw.close();
  });

  it('skips a command line longer than 64 KiB with BAD and goes on', async () => {
    const raw = await session(false);
    expect(await raw.command('long', `NOOP ${'x'.repeat(70_000)}`)).toEqual(['long BAD Command line too long']);
    expect((await raw.command('ok', 'NOOP')).at(-1)).toBe('ok OK NOOP completed');
    raw.close();
  });

  it('refuses an APPEND literal over APPENDLIMIT before reading it, and the session goes on', async () => {
    const raw = await session(false);
    raw.write('a1 APPEND INBOX {200000}\r\n');
    expect(await raw.line()).toBe('a1 NO [TOOBIG] Message larger than APPENDLIMIT');
    // No '+' came, so the client sends no literal: the next command is read as a command.
    expect((await raw.command('a2', 'NOOP')).at(-1)).toBe('a2 OK NOOP completed');
    raw.close();
  });

  it('closes after refusing a non-synchronising literal that is too large (RFC 7888)', async () => {
    const raw = await session(false);
    raw.write('a1 APPEND INBOX {200000+}\r\n');
    expect(await raw.line()).toBe('a1 NO [TOOBIG] Message larger than APPENDLIMIT');
    expect(await raw.line()).toMatch(/^\* BYE /);
    await raw.waitClosed();
  });

  it('accepts LITERAL+ and synchronising literals', async () => {
    const raw = await session(false);
    const msg = 'Subject: lit\r\n\r\nhi\r\n';
    raw.write(`a1 APPEND Drafts (\\Draft) {${msg.length}+}\r\n${msg}\r\n`);
    expect((await raw.until('a1')).at(-1)).toMatch(/^a1 OK \[APPENDUID \d+ 1\] APPEND completed$/);
    raw.write(`a2 APPEND Drafts {${msg.length}}\r\n`);
    expect(await raw.line()).toMatch(/^\+ /);
    raw.write(`${msg}\r\n`);
    expect((await raw.until('a2')).at(-1)).toMatch(/^a2 OK \[APPENDUID \d+ 2\]/);
    raw.close();
  });

  it('FETCH BODY[] without PEEK sets \\Seen and reports the FLAGS', async () => {
    const raw = await session();
    const res = await raw.command('f1', 'FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])');
    expect(res[0]).toMatch(/^\* 1 FETCH \(BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}$/);
    expect(res[1]).toBe('Subject: p0');
    expect(res.join('\n')).toMatch(/FLAGS \(\\Seen\)\)/);
    const flags = await raw.command('f2', 'FETCH 1 FLAGS');
    expect(flags[0]).toBe('* 1 FETCH (FLAGS (\\Seen))');
    raw.close();
  });

  it('STORE UNCHANGEDSINCE answers [MODIFIED] for a message changed meanwhile (CONDSTORE)', async () => {
    const raw = await session();
    const before = await raw.command('m1', 'FETCH 2 (MODSEQ)');
    const modseq = /MODSEQ \((\d+)\)/.exec(before[0]!)![1]!;
    await raw.command('m2', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
    const res = await raw.command('m3', `STORE 2 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Answered)`);
    expect(res.at(-1)).toMatch(/^m3 OK \[MODIFIED 2\] /);
    raw.close();
  });

  it('answers ESEARCH to SEARCH RETURN and to IMAP4rev2 sessions', async () => {
    const raw = await session();
    const res = await raw.command('s1', 'SEARCH RETURN (MIN MAX COUNT) ALL');
    expect(res[0]).toBe('* ESEARCH (TAG "s1") MIN 1 MAX 3 COUNT 3');
    expect((await raw.command('e', 'ENABLE IMAP4rev2'))[0]).toBe('* ENABLED IMAP4rev2');
    const uid = await raw.command('s2', 'UID SEARCH ALL');
    expect(uid[0]).toBe('* ESEARCH (TAG "s2") UID ALL 1:3');
    const fetched = await raw.command('s3', 'FETCH 1:3 (MODSEQ)');
    const highest = Math.max(...fetched.slice(0, 3).map((l) => Number(/MODSEQ \((\d+)\)/.exec(l)![1])));
    const mod = await raw.command('s4', 'SEARCH MODSEQ 1');
    expect(mod[0]).toBe(`* ESEARCH (TAG "s4") ALL 1:3 MODSEQ ${highest}`);
    raw.close();
  });

  it('LIST with RETURN (SPECIAL-USE) and STATUS with SIZE and HIGHESTMODSEQ', async () => {
    const raw = await session(false);
    const list = await raw.command('l1', 'LIST "" "*" RETURN (SPECIAL-USE)');
    expect(list).toContain('* LIST (\\HasNoChildren \\Sent) "/" "Sent"');
    expect(list).toContain('* LIST (\\HasNoChildren) "/" "INBOX"');
    const status = await raw.command('s1', 'STATUS INBOX (MESSAGES UNSEEN SIZE HIGHESTMODSEQ)');
    expect(status[0]).toMatch(/^\* STATUS "INBOX" \(MESSAGES 3 UNSEEN \d SIZE \d+ HIGHESTMODSEQ \d+\)$/);
    const quota = await raw.command('q1', 'GETQUOTAROOT INBOX');
    expect(quota[0]).toBe('* QUOTAROOT "INBOX" ""');
    expect(quota[1]).toMatch(/^\* QUOTA "" \(STORAGE \d+ \d+\)$/);
    raw.close();
  });

  it('serves another session while one pipelines 10,000 commands', async () => {
    const busy = await session();
    busy.write(Array.from({ length: 10_000 }, (_, i) => `p${i} NOOP\r\n`).join(''));
    const other = await session();
    const started = Date.now();
    expect((await other.command('o1', 'FETCH 1 FLAGS')).at(-1)).toBe('o1 OK FETCH completed');
    expect(Date.now() - started).toBeLessThan(2_000);
    const last = await busy.until('p9999', 60_000);
    expect(last.at(-1)).toBe('p9999 OK NOOP completed');
    busy.close();
    other.close();
  }, 90_000);

  it('ends live sessions with BYE when the mailbox is signed out everywhere', async () => {
    const raw = await session();
    const mailbox = await x.h.prisma.mailbox.findFirstOrThrow({ where: { localPart: 'bob' } });
    await x.h.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: x.tenantId, id: mailbox.id } },
      data: { authVersion: { increment: 1 } },
    });
    expect(await raw.line(3_000)).toBe('* BYE Access to this mailbox was revoked; please sign in again');
    await raw.waitClosed();
  });
});
