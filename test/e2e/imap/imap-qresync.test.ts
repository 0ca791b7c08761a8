import { MailStore } from '@mailroom/mailstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapHarness, type ImapHarness } from './imap-harness';
import { code, QresyncClients } from './qresync-clients';

// RFC 7162 QRESYNC as clients resync: SELECT/EXAMINE (QRESYNC ...), UID FETCH (CHANGEDSINCE n
// VANISHED), the trimmed expunge log, and imapflow with qresync: true.
describe('imap: QRESYNC resync (RFC 7162)', () => {
  let x: ImapHarness;
  const c = new QresyncClients(() => x);

  beforeAll(async () => {
    x = await createImapHarness();
  });
  afterAll(async () => {
    await c.close();
    await x?.close();
  });

  it('advertises QRESYNC, and ENABLE QRESYNC turns CONDSTORE on with it', async () => {
    const box = await c.mailbox(1);
    const raw = await c.login(box, false);
    expect((await raw.command('c', 'CAPABILITY'))[0]).toMatch(/ CONDSTORE QRESYNC /);
    expect(await raw.command('e', 'ENABLE QRESYNC CONDSTORE')).toEqual([
      '* ENABLED QRESYNC CONDSTORE',
      'e OK ENABLE completed',
    ]);
    await raw.command('s', 'SELECT INBOX');
    // CONDSTORE is on: FETCH shows MODSEQ unasked (RFC 7162 §3.1.4).
    expect((await raw.command('f', 'FETCH 1 (FLAGS)'))[0]).toMatch(/^\* 1 FETCH \(.*MODSEQ \(\d+\).*\)$/);
  });

  it("SELECT (QRESYNC) reports another session's expunges as VANISHED (EARLIER) and its flag changes as FETCH", async () => {
    const box = await c.mailbox(5);
    const known = await c.remember(box);
    await c.change(box, '2,5', '4');
    const raw = await c.login(box);
    const res = await raw.command('s', `SELECT INBOX (QRESYNC (${known.validity} ${known.modseq}))`);
    const highest = code(res, 'HIGHESTMODSEQ');
    expect(res).toContain('* 3 EXISTS');
    expect(res.slice(-3)).toEqual([
      '* VANISHED (EARLIER) 2,5',
      `* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (${highest}))`,
      's OK [READ-WRITE] SELECT completed',
    ]);
    expect(res.indexOf('* VANISHED (EARLIER) 2,5')).toBeGreaterThan(
      res.findIndex((l) => l.includes('[PERMANENTFLAGS')),
    );

    // Known uids narrow both answers; [CLOSED] parts the old folder's responses from the new.
    const narrow = await raw.command('n', `EXAMINE INBOX (QRESYNC (${known.validity} ${known.modseq} 1:3))`);
    expect(narrow[0]).toBe('* OK [CLOSED] Previous mailbox closed');
    expect(narrow.slice(-2)).toEqual(['* VANISHED (EARLIER) 2', 'n OK [READ-ONLY] EXAMINE completed']);

    // Nothing changed since the current modseq; another UIDVALIDITY gets no resync at all.
    const none = await raw.command('u', `EXAMINE INBOX (QRESYNC (${known.validity} ${highest}))`);
    expect(none.filter((l) => /VANISHED|FETCH/.test(l))).toEqual([]);
    const other = await raw.command('v', `EXAMINE INBOX (QRESYNC (${Number(known.validity) + 1} ${known.modseq}))`);
    expect(other.filter((l) => /VANISHED|FETCH/.test(l))).toEqual([]);
    expect(other.at(-1)).toBe('v OK [READ-ONLY] EXAMINE completed');
  });

  it('falls back to the current uids when the expunge log was trimmed past the client modseq', async () => {
    const box = await c.mailbox(6);
    await c.change(box, '1');
    const known = await c.remember(box);
    await c.change(box, '2');
    await c.change(box, '3');
    // The retention job trims uid 2's row (as if older than EXPUNGE_LOG_RETENTION_DAYS): the log
    // alone would now only tell of uid 3.
    const inbox = await x.h.prisma.folder.findFirstOrThrow({
      where: { tenantId: x.tenantId, mailboxId: box.id, kind: 'inbox' },
    });
    await x.h.prisma.messageExpunge.updateMany({
      where: { tenantId: x.tenantId, folderId: inbox.id, uid: 2 },
      data: { expungedAt: new Date(Date.now() - 100 * 86_400_000) },
    });
    expect(await new MailStore(x.h.prisma).trimExpungeLog(new Date(Date.now() - 90 * 86_400_000))).toBe(1);

    const raw = await c.login(box);
    // Every uid below UIDNEXT that is gone, uid 1 too (RFC 7162 §3.2.5.2 allows it): none missed.
    const res = await raw.command('s', `SELECT INBOX (QRESYNC (${known.validity} ${known.modseq}))`);
    expect(res.slice(-2)).toEqual(['* VANISHED (EARLIER) 1:3', 's OK [READ-WRITE] SELECT completed']);
    const known2 = await raw.command('k', `EXAMINE INBOX (QRESYNC (${known.validity} ${known.modseq} 2:6))`);
    expect(known2.slice(-2)).toEqual(['* VANISHED (EARLIER) 2:3', 'k OK [READ-ONLY] EXAMINE completed']);
    const fetched = await raw.command('f', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${known.modseq} VANISHED)`);
    expect(fetched).toEqual(['* VANISHED (EARLIER) 1:3', 'f OK UID FETCH completed']);
  });

  it('UID FETCH (CHANGEDSINCE n VANISHED) reports expunged uids of the set before the changed messages', async () => {
    const box = await c.mailbox(4);
    const known = await c.remember(box);
    await c.change(box, '2', '3');
    const raw = await c.login(box);
    await raw.command('s', 'SELECT INBOX');
    const res = await raw.command('f', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${known.modseq} VANISHED)`);
    expect(res).toHaveLength(3);
    expect(res[0]).toBe('* VANISHED (EARLIER) 2');
    expect(res[1]).toMatch(/^\* 2 FETCH \(.*UID 3 .*\)$/);
    expect(res[1]).toMatch(/FLAGS \(\\Flagged\)/);
    expect(res[2]).toBe('f OK UID FETCH completed');
    const part = await raw.command('p', `UID FETCH 3:4 (FLAGS) (CHANGEDSINCE ${known.modseq} VANISHED)`);
    expect(part.filter((l) => l.includes('VANISHED'))).toEqual([]);
  });

  it('imapflow with qresync: true hears of vanished uids on open, on fetch and while the folder is open', async () => {
    const box = await c.mailbox(5);
    const first = c.imapflow(box);
    await first.connect();
    const seen = await first.mailboxOpen('INBOX');
    await first.logout();

    await c.change(box, '2,3', '5');
    const second = c.imapflow(box);
    const events: Array<{ uid?: number; seq?: number; vanished: boolean; earlier?: boolean }> = [];
    second.on('expunge', (e: { uid?: number; seq?: number; vanished: boolean; earlier?: boolean }) => events.push(e));
    const flags: number[] = [];
    second.on('flags', (e: { uid?: number }) => flags.push(e.uid ?? 0));
    await second.connect();
    expect(second.enabled.has('QRESYNC')).toBe(true);
    const mailbox2 = await second.mailboxOpen('INBOX', {
      uidValidity: seen.uidValidity,
      changedSince: seen.highestModseq,
    });
    expect(mailbox2.exists).toBe(3);
    expect(events.map((e) => [e.uid, e.vanished, e.earlier])).toEqual([
      [2, true, true],
      [3, true, true],
    ]);
    expect(flags).toEqual([5]);

    // Another client deletes uid 4 while this one has the folder open.
    await c.change(box, '4');
    await second.noop();
    expect(events.slice(2).map((e) => [e.uid, e.vanished, e.earlier])).toEqual([[4, true, false]]);
    expect(second.mailbox && second.mailbox.exists).toBe(2);

    const changed = await second.fetchAll('1:*', { flags: true }, { uid: true, changedSince: seen.highestModseq });
    expect(changed.map((m) => m.uid)).toEqual([5]);
    expect(events.slice(3).map((e) => [e.uid, e.earlier])).toEqual([
      [2, true],
      [3, true],
      [4, true],
    ]);
  });
});
