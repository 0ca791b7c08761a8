import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapHarness, type ImapHarness } from './imap-harness';
import { code, QresyncClients } from './qresync-clients';

// Once QRESYNC is enabled, expunges are told as VANISHED; [CLOSED] marks a folder switch; bad
// QRESYNC and VANISHED input gets BAD with a sentence.
describe('imap: QRESYNC VANISHED and CLOSED (RFC 7162)', () => {
  let x: ImapHarness;
  const c = new QresyncClients(() => x);

  beforeAll(async () => {
    x = await createImapHarness();
  });
  afterAll(async () => {
    await c.close();
    await x?.close();
  });

  it('sends VANISHED instead of EXPUNGE for expunges and moves, its own and those of other sessions', async () => {
    const box = await c.mailbox(6);
    const watcher = await c.login(box);
    await watcher.command('s', 'SELECT INBOX');
    const actor = await c.login(box, false);
    await actor.command('s', 'SELECT INBOX');

    await actor.command('d', 'UID STORE 2 +FLAGS.SILENT (\\Deleted)');
    // A session without QRESYNC still hears EXPUNGE.
    expect(await actor.command('x', 'UID EXPUNGE 2')).toEqual(['* 2 EXPUNGE', 'x OK UID EXPUNGE completed']);
    expect(await watcher.command('n1', 'NOOP')).toEqual(['* VANISHED 2', 'n1 OK NOOP completed']);
    await actor.command('m', 'UID MOVE 4 Archive');
    expect(await watcher.command('n2', 'NOOP')).toEqual(['* VANISHED 4', 'n2 OK NOOP completed']);

    // Its own EXPUNGE: VANISHED, and the new HIGHESTMODSEQ in the tagged OK (RFC 7162 §3.2.7).
    await watcher.command('d', 'UID STORE 1,5 +FLAGS.SILENT (\\Deleted)');
    const expunged = await watcher.command('x', 'EXPUNGE');
    expect(expunged[0]).toBe('* VANISHED 1,5');
    expect(expunged[1]).toMatch(/^x OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed$/);
    const status = await actor.command('st', 'STATUS INBOX (HIGHESTMODSEQ)');
    expect(status[0]).toBe(`* STATUS "INBOX" (HIGHESTMODSEQ ${code(expunged, 'HIGHESTMODSEQ')})`);

    const moved = await watcher.command('m', 'UID MOVE 3 Archive');
    expect(moved[0]).toMatch(/^\* OK \[COPYUID \d+ 3 2\] Moved$/);
    expect(moved.slice(1)).toEqual(['* VANISHED 3', 'm OK UID MOVE completed']);
    // The sequence numbers followed: only uid 6 is left, as message 1.
    const left = await watcher.command('f', 'FETCH 1:* (UID)');
    expect(left).toHaveLength(2);
    expect(left[0]).toMatch(/^\* 1 FETCH \(.*UID 6\b.*\)$/);
  });

  it('holds VANISHED during FETCH and meanwhile tells a HIGHESTMODSEQ below the waiting expunge', async () => {
    const box = await c.mailbox(3);
    const watcher = await c.login(box);
    const selected = await watcher.command('s', 'SELECT INBOX');
    const before = code(selected, 'HIGHESTMODSEQ');
    await c.change(box, '2');
    // FETCH may not announce expunges (RFC 9051 §7.5.1); once the notification has reached the
    // session, each FETCH says a modseq from before the expunge instead (RFC 7162 §3.2).
    let fetched: string[] = [];
    for (let i = 0; i < 200 && !fetched.some((l) => l.includes('HIGHESTMODSEQ')); i++) {
      fetched = await watcher.command(`f${i}`, 'FETCH 1 (FLAGS)');
      expect(fetched.filter((l) => l.includes('VANISHED'))).toEqual([]);
      if (!fetched.some((l) => l.includes('HIGHESTMODSEQ'))) await new Promise((r) => setTimeout(r, 10));
    }
    expect(fetched.at(-2)).toBe(`* OK [HIGHESTMODSEQ ${before}] Expunges are pending`);
    expect(await watcher.command('n', 'NOOP')).toEqual(['* VANISHED 2', 'n OK NOOP completed']);
    expect((await watcher.command('g', 'FETCH 1 (FLAGS)')).some((l) => l.includes('HIGHESTMODSEQ'))).toBe(false);
  });

  it('says [CLOSED] when SELECT replaces a selected folder, QRESYNC enabled or not', async () => {
    const box = await c.mailbox(1);
    const raw = await c.login(box, false);
    expect((await raw.command('s1', 'SELECT INBOX')).some((l) => l.includes('[CLOSED]'))).toBe(false);
    const again = await raw.command('s2', 'EXAMINE Archive');
    expect(again[0]).toBe('* OK [CLOSED] Previous mailbox closed');
    expect(again.at(-1)).toBe('s2 OK [READ-ONLY] EXAMINE completed');
  });

  it('answers malformed QRESYNC and VANISHED with BAD and a sentence, and goes on', async () => {
    const box = await c.mailbox(2);
    const plain = await c.login(box, false);
    expect(await plain.command('b1', 'SELECT INBOX (QRESYNC (1 1))')).toEqual([
      'b1 BAD QRESYNC needs ENABLE QRESYNC first',
    ]);
    await plain.command('s', 'SELECT INBOX');
    expect(await plain.command('b2', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)')).toEqual([
      'b2 BAD VANISHED needs ENABLE QRESYNC first',
    ]);

    const raw = await c.login(box);
    const cases: Array<[string, string]> = [
      ['SELECT INBOX (QRESYNC (1 0))', 'QRESYNC needs a mod-sequence from 1 to 9223372036854775807'],
      ['SELECT INBOX (QRESYNC (0 5))', 'QRESYNC needs the UIDVALIDITY the client knows, a number from 1 to 4294967295'],
      ['SELECT INBOX (QRESYNC (1 5 1:*))', 'QRESYNC known UIDs may not contain *'],
      ['SELECT INBOX (QRESYNC (1 5 1:3 (1:2 4)))', 'QRESYNC match data needs as many UIDs as message numbers'],
      ['SELECT INBOX (QRESYNC)', 'QRESYNC needs a list: (uidvalidity modseq [known-uids])'],
      ['SELECT INBOX (QRESYNC (1 5) QRESYNC (1 5))', 'QRESYNC given twice'],
    ];
    for (const [i, [command, sentence]] of cases.entries()) {
      expect(await raw.command(`q${i}`, command)).toEqual([`q${i} BAD ${sentence}`]);
    }
    await raw.command('s', 'SELECT INBOX');
    expect(await raw.command('v1', 'FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)')).toEqual([
      'v1 BAD VANISHED is only allowed with UID FETCH',
    ]);
    expect(await raw.command('v2', 'UID FETCH 1:* (FLAGS) (VANISHED)')).toEqual(['v2 BAD VANISHED needs CHANGEDSINCE']);
    expect(await raw.command('v3', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 FROB)')).toEqual([
      'v3 BAD Unexpected FETCH modifier FROB',
    ]);
    expect((await raw.command('ok', 'UID FETCH 1:* (FLAGS)')).at(-1)).toBe('ok OK UID FETCH completed');
  });
});
