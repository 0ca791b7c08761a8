import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '@test/support/smtp/harness';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

// The fixtures and what Dovecot answered for them (dovecot-sort-oracle.mjs records it).
const FIXTURES = path.resolve(__dirname, '../../../apps/imap/src/imap/fixtures/sort-thread');

interface Corpus {
  dir: string;
  manifest: { internalDates: Record<string, string>; commands: string[] };
}

function corpus(dir: string): Corpus {
  return { dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Corpus['manifest'] };
}

function dovecotAnswers(file: string): Record<string, string> {
  return (JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as { answers: Record<string, string> })
    .answers;
}

const fixtures = corpus(FIXTURES);
const manifest = fixtures.manifest;
const dovecot = { answers: dovecotAnswers('dovecot-sort-expected.json') };

describe('imap: SORT and THREAD (RFC 5256)', () => {
  let x: ImapHarness;
  let user: { id: string; address: string };

  beforeAll(async () => {
    x = await createImapHarness({ appendLimit: 100_000 });
    user = await x.user('sorter');
    await appendAll(user, fixtures);
  });
  afterAll(async () => x?.close());

  /** APPENDs a corpus to the user's INBOX in manifest order, with each INTERNALDATE. */
  async function appendAll(to: { address: string }, c: Corpus): Promise<void> {
    const raw = await session(false, to);
    for (const [file, date] of Object.entries(c.manifest.internalDates)) {
      const bytes = fs.readFileSync(path.join(c.dir, file));
      raw.write(`a APPEND INBOX "${date}" {${bytes.length}+}\r\n`);
      raw.write(Buffer.concat([bytes, Buffer.from('\r\n')]));
      expect((await raw.until('a')).at(-1)).toMatch(/^a OK \[APPENDUID \d+ \d+\] APPEND completed$/);
    }
    raw.close();
  }

  async function session(select = true, as: { address: string } = user): Promise<RawImap> {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    expect((await raw.command('l', `LOGIN ${as.address} "${PASSWORD}"`)).at(-1)).toMatch(/^l OK /);
    if (select) expect((await raw.command('s', 'SELECT INBOX')).at(-1)).toBe('s OK [READ-WRITE] SELECT completed');
    return raw;
  }

  async function answersOf(raw: RawImap, commands = manifest.commands): Promise<Record<string, string>> {
    const answers: Record<string, string> = {};
    for (const [i, command] of commands.entries()) {
      const lines = await raw.command(`t${i}`, command);
      expect(lines.at(-1)).toBe(`t${i} OK ${/^(UID )?(SORT|THREAD)/.exec(command)![0]} completed`);
      const untagged = lines.find((l) => /^\* (SORT|THREAD|ESEARCH)\b/.test(l)) ?? '(none)';
      answers[command] = untagged.replace(`(TAG "t${i}")`, '(TAG "t")');
    }
    return answers;
  }

  it('advertises SORT, SORT=DISPLAY, ESORT and both THREAD algorithms', async () => {
    const raw = await session(false);
    const [caps] = await raw.command('c', 'CAPABILITY');
    expect(caps).toContain(' SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES');
    raw.close();
  });

  it('answers every SORT and THREAD of the fixture set exactly as Dovecot does', async () => {
    const raw = await session();
    expect(await answersOf(raw)).toEqual(dovecot.answers);
    raw.close();
  });

  it('answers as Dovecot does on a seeded random corpus of 200 tangled messages', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sort-corpus-'));
    try {
      const made = spawnSync(process.execPath, [path.join(FIXTURES, 'random-corpus.mjs'), dir, '7919']);
      expect(made.status, made.stderr.toString()).toBe(0);
      const random = corpus(dir);
      const other = await x.user('random');
      await appendAll(other, random);
      const raw = await session(true, other);
      expect(await answersOf(raw, random.manifest.commands)).toEqual(dovecotAnswers('dovecot-random-expected.json'));
      raw.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('sorts rows stored without sort keys (older rows) the same, filling their keys from the blob', async () => {
    const db = x.h.prisma;
    const where = { tenantId: x.tenantId, mailboxId: user.id };
    const cleared = await db.message.updateMany({
      where,
      data: { sortSubject: null, subjectIsReply: null, sortFrom: null, sortTo: null, sortCc: null, threadRefs: [] },
    });
    expect(cleared.count).toBe(Object.keys(manifest.internalDates).length);
    const raw = await session();
    expect(await answersOf(raw)).toEqual(dovecot.answers);
    raw.close();
    expect(await db.message.count({ where: { ...where, sortSubject: null } })).toBe(0);
  });

  it('stores the keys of delivered mail with the header summary', async () => {
    const other = await x.user('keys');
    await x.deliver(
      other.address,
      message({
        From: '"Zoe Q" <zoe.q@sender.test>',
        To: other.address,
        Cc: 'Team <team@sender.test>',
        Subject: 'Re: [ops] Fwd: Stra\u00dfe (fwd)',
        'Message-ID': '<k2@sender.test>',
        'In-Reply-To': '<k1@sender.test>',
      }),
    );
    const row = await x.h.prisma.message.findFirstOrThrow({ where: { tenantId: x.tenantId, mailboxId: other.id } });
    expect(row).toMatchObject({
      sortSubject: 'STRA\u00dfE',
      subjectIsReply: true,
      sortFrom: 'ZOE.Q',
      sortTo: 'KEYS',
      sortCc: 'TEAM',
      sortDisplayFrom: 'ZOE Q',
      threadRefs: ['k1@sender.test'],
    });
  });

  it('answers bad SORT and THREAD arguments with BAD or NO [BADCHARSET] and goes on', async () => {
    const raw = await session();
    expect(await raw.command('b1', 'SORT (BOGUS) UTF-8 ALL')).toEqual([
      'b1 BAD Unknown sort key "BOGUS": use ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM or DISPLAYTO, each optionally after REVERSE',
    ]);
    expect(await raw.command('b2', 'SORT (DATE)')).toEqual([
      'b2 BAD SORT needs a charset (UTF-8 or US-ASCII) and search criteria, e.g. UTF-8 ALL',
    ]);
    expect(await raw.command('b3', 'SORT (DATE) UTF-8')).toEqual([
      'b3 BAD SORT needs a charset (UTF-8 or US-ASCII) and search criteria, e.g. UTF-8 ALL',
    ]);
    expect(await raw.command('b4', 'SORT (DATE) KOI8-R ALL')).toEqual([
      'b4 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset',
    ]);
    expect(await raw.command('b5', 'SORT DATE UTF-8 ALL')).toEqual([
      'b5 BAD SORT needs a parenthesised list of sort keys first, e.g. SORT (DATE) UTF-8 ALL',
    ]);
    expect(await raw.command('b6', 'SORT (DATE REVERSE) UTF-8 ALL')).toEqual([
      'b6 BAD REVERSE must be followed by a sort key',
    ]);
    expect(await raw.command('b7', 'SORT (DATE) UTF-8 FROBNICATE')).toEqual(['b7 BAD unknown search key FROBNICATE']);
    expect(await raw.command('b8', 'THREAD THREADS UTF-8 ALL')).toEqual([
      'b8 BAD Unknown threading algorithm "THREADS": use ORDEREDSUBJECT or REFERENCES',
    ]);
    expect(await raw.command('b9', 'THREAD REFERENCES KOI8-R ALL')).toEqual([
      'b9 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset',
    ]);
    expect(await raw.command('b10', 'UID THREAD REFERENCES UTF-8')).toEqual([
      'b10 BAD THREAD needs a charset (UTF-8 or US-ASCII) and search criteria, e.g. UTF-8 ALL',
    ]);
    expect(await raw.command('b11', 'SORT RETURN (SAVE) (DATE) UTF-8 ALL')).toEqual([
      'b11 BAD Unknown RETURN option "SAVE": SORT takes MIN, MAX, ALL and COUNT',
    ]);
    expect(await raw.command('ok', 'NOOP')).toEqual(['ok OK NOOP completed']);
    raw.close();
  });

  it('answers an empty match with an empty SORT or THREAD', async () => {
    const raw = await session();
    expect(await raw.command('e1', 'SORT (SUBJECT) UTF-8 SUBJECT nothing-like-this')).toEqual([
      '* SORT',
      'e1 OK SORT completed',
    ]);
    expect(await raw.command('e2', 'UID THREAD REFERENCES UTF-8 SUBJECT nothing-like-this')).toEqual([
      '* THREAD',
      'e2 OK UID THREAD completed',
    ]);
    raw.close();
  });

  it('ends SORT with the highest MODSEQ of the found messages when the criteria have MODSEQ (RFC 7162)', async () => {
    const raw = await session();
    expect((await raw.command('m0', 'ENABLE CONDSTORE')).at(-1)).toBe('m0 OK ENABLE completed');
    const stored = await raw.command('m1', 'STORE 3,5 +FLAGS (\\Flagged)');
    const modseqs = stored.map((l) => /MODSEQ \((\d+)\)/.exec(l)?.[1]).filter((m) => m !== undefined);
    expect(modseqs).toHaveLength(2);
    const since = modseqs[0]!;
    expect(await raw.command('m2', `SORT (REVERSE DATE) UTF-8 MODSEQ ${since}`)).toEqual([
      `* SORT 5 3 (MODSEQ ${since})`,
      'm2 OK SORT completed',
    ]);
    raw.close();
  });

  it('needs a selected mailbox', async () => {
    const raw = await session(false);
    expect((await raw.command('n1', 'SORT (DATE) UTF-8 ALL')).at(-1)).toMatch(/^n1 BAD /);
    raw.close();
  });
});
