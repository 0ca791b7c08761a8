import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFound, MailStore, TenantUsage, searchStatement, type SearchQuery } from '@mailroom/mailstore';
import { parsePendingMessages } from '@mailroom/worker/processors/parse.processor';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { appendTo, rawMessage } from '@test/support/mail-fixtures';
import { seedTenant } from '@test/support/worker-fixtures';

// SEARCH keys and blob reads of the mail store, against real PostgreSQL.

let db: TestDatabase;
let sut: MailStore;
let t: Awaited<ReturnType<typeof seedTenant>>;
let inbox: string;
let secondModseq: bigint;

const base64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  db = await createTestDatabase();
  sut = new MailStore(db.prisma, { usage: new TenantUsage() });
  t = await seedTenant(db.prisma, 1);
  inbox = t.boxes[0]!.inbox;
  const at = { tenantId: t.tenantId, mailboxId: t.boxes[0]!.id, folderId: inbox };
  await appendTo(
    sut,
    at,
    rawMessage(
      {
        From: '"Alice Example" <alice@a.test>',
        To: 'bob@b.test',
        Cc: 'carol@c.test',
        Subject: 'Quarterly report',
        'X-Project': 'apollo',
        Date: 'Fri, 09 Jan 2026 10:00:00 +0000',
      },
      'the numbers are in',
    ),
    {
      flags: ['\\Seen'],
      receivedAt: new Date('2026-01-10T12:00:00Z'),
      subject: 'Quarterly report',
      from: 'alice@a.test',
      sentAt: new Date('2026-01-09T10:00:00Z'),
    },
  );
  const second = await appendTo(
    sut,
    at,
    rawMessage(
      {
        From: 'dave@d.test',
        To: 'erin@e.test',
        Bcc: 'frank@f.test',
        Subject: `=?UTF-8?B?${base64('Grüße aus Köln')}?=`,
        'MIME-Version': '1.0',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Transfer-Encoding': 'base64',
      },
      base64('secret password rotation'),
    ),
    { flags: ['$Work'], receivedAt: new Date('2026-02-01T08:00:00Z'), subject: 'Grüße aus Köln', from: 'dave@d.test' },
  );
  secondModseq = second.modseq;
  await appendTo(sut, at, rawMessage({ From: 'alice@a.test', Subject: 'lunch?' }, `${'x'.repeat(10_000)} needle`), {
    flags: ['\\Flagged', '\\Deleted'],
    receivedAt: new Date('2026-03-05T23:30:00Z'),
    subject: 'lunch?',
    from: 'alice@a.test',
  });
});
afterAll(() => db.drop());

const search = (q: SearchQuery) => sut.search(t.tenantId, inbox, q);
const header = (field: string, value: string): SearchQuery => ({ op: 'header', field, value });

/** Keys answered the same before and after the worker parses the messages. */
const stable: Array<[string, SearchQuery, number[]]> = [
  ['ALL', { op: 'all' }, [1, 2, 3]],
  ['SUBJECT report', header('SUBJECT', 'REPORT'), [1]],
  ['FROM alice', header('FROM', 'alice'), [1, 3]],
  ['FROM "Alice Example"', header('FROM', 'alice example'), [1]],
  ['TO bob', header('TO', 'bob@'), [1]],
  ['CC carol', header('CC', 'carol'), [1]],
  ['BCC frank', header('BCC', 'frank'), [2]],
  ['HEADER X-Project apollo', header('X-Project', 'apollo'), [1]],
  ['HEADER X-Project ""', header('x-project', ''), [1]],
  ['HEADER X-Missing ""', header('X-Missing', ''), []],
  ['BODY numbers', { op: 'body', value: 'Numbers' }, [1]],
  ['BODY Quarterly (only in a header)', { op: 'body', value: 'Quarterly' }, []],
  ['TEXT Quarterly', { op: 'text', value: 'quarterly' }, [1]],
  ['TEXT needle', { op: 'text', value: 'needle' }, [3]],
  ['SEEN', { op: 'flag', flag: '\\Seen', set: true }, [1]],
  ['UNSEEN', { op: 'flag', flag: '\\Seen', set: false }, [2, 3]],
  ['KEYWORD $Work', { op: 'flag', flag: '$Work', set: true }, [2]],
  ['UID 2:3', { op: 'uid', uids: [[3, 2]] }, [2, 3]],
  [
    'UID 1,3',
    {
      op: 'uid',
      uids: [
        [1, 1],
        [3, 3],
      ],
    },
    [1, 3],
  ],
  [
    'OR UID 1 FLAGGED',
    {
      op: 'or',
      of: [
        { op: 'uid', uids: [[1, 1]] },
        { op: 'flag', flag: '\\Flagged', set: true },
      ],
    },
    [1, 3],
  ],
  ['NOT FROM alice', { op: 'not', of: header('FROM', 'alice') }, [2]],
  ['NOT BODY nothing', { op: 'not', of: { op: 'body', value: 'nothing-like-this' } }, [1, 2, 3]],
  [
    'DELETED UNSEEN',
    {
      op: 'and',
      of: [
        { op: 'flag', flag: '\\Deleted', set: true },
        { op: 'flag', flag: '\\Seen', set: false },
      ],
    },
    [3],
  ],
  ['LARGER 1000', { op: 'size', cmp: 'larger', bytes: 1000 }, [3]],
  ['SMALLER 1000', { op: 'size', cmp: 'smaller', bytes: 1000 }, [1, 2]],
  ['BEFORE 1-Feb-2026', { op: 'internaldate', cmp: 'before', date: '2026-02-01' }, [1]],
  ['ON 1-Feb-2026', { op: 'internaldate', cmp: 'on', date: '2026-02-01' }, [2]],
  ['SINCE 1-Feb-2026', { op: 'internaldate', cmp: 'since', date: '2026-02-01' }, [2, 3]],
  ['ON 5-Mar-2026 (late in the day)', { op: 'internaldate', cmp: 'on', date: '2026-03-05' }, [3]],
  ['SENTON 9-Jan-2026', { op: 'sentdate', cmp: 'on', date: '2026-01-09' }, [1]],
  ['SENTBEFORE 1-Jan-2026', { op: 'sentdate', cmp: 'before', date: '2026-01-01' }, []],
  ['a LIKE wildcard is a literal', header('SUBJECT', '%'), []],
  ['a quote is a value, not SQL', header('SUBJECT', "' OR 1=1 --"), []],
  ['a regex character is a literal', header('SUBJECT', 'lunch?'), [3]],
];

describe('SEARCH before the worker parsed the messages (raw blob scan)', () => {
  it.each(stable)('%s', async (_name, query, uids) => {
    expect(await search(query)).toEqual(uids);
  });

  it('answers UNSEEN from the partial index of unseen messages, even with a generic plan', async () => {
    const unseen: SearchQuery = { op: 'and', of: [{ op: 'flag', flag: '\\Seen', set: false }] };
    const plan = await db.prisma.$transaction(async (tx) => {
      // The table is tiny here: forbid the sequential scan a 100,000-row folder would not get.
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      await tx.$executeRaw`SET LOCAL plan_cache_mode = force_generic_plan`;
      // A named prepared statement, as a driver that caches statements would run it.
      const statement = searchStatement(t.tenantId, inbox, unseen);
      await tx.$executeRawUnsafe(`PREPARE unseen_search AS ${statement.text}`);
      const args = statement.values.map((v) => `'${String(v)}'`).join(', ');
      const rows = await tx.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN EXECUTE unseen_search(${args})`);
      await tx.$executeRawUnsafe('DEALLOCATE unseen_search');
      return rows;
    });
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index (Only )?Scan using messages_unseen_idx/);
  });

  it('MODSEQ', async () => {
    expect(await search({ op: 'modseq', min: secondModseq })).toEqual([2, 3]);
  });
});

describe('SEARCH after the worker parsed them (trigram-indexed text)', () => {
  beforeAll(async () => {
    expect(await parsePendingMessages(new MailStore(db.prisma))).toMatchObject({ parsed: 3 });
  });

  it.each(stable)('%s', async (_name, query, uids) => {
    expect(await search(query)).toEqual(uids);
  });

  it('finds decoded text: an RFC 2047 subject and a base64 body', async () => {
    expect(await search(header('SUBJECT', 'Köln'))).toEqual([2]);
    expect(await search(header('FROM', 'Alice Example'))).toEqual([1]);
    expect(await search({ op: 'body', value: 'password rotation' })).toEqual([2]);
    expect(await search({ op: 'text', value: 'Grüße' })).toEqual([2]);
  });
});

describe('blobs', () => {
  let big: Buffer;
  let sha256: string;

  beforeAll(async () => {
    const body = randomBytes(3 * 1024 * 1024).toString('base64');
    big = Buffer.concat([rawMessage({ Subject: 'big' }, ''), Buffer.from(body)]).subarray(0, 3 * 1024 * 1024);
    const at = { tenantId: t.tenantId, mailboxId: t.boxes[0]!.id, folderId: t.boxes[0]!.archive };
    const stored = await appendTo(sut, at, big);
    sha256 = (await sut.messages(t.tenantId, at.folderId, [stored.uid]))[0]!.blobSha256;
  });

  async function read(range?: { start: number; end: number }) {
    const chunks: Buffer[] = [];
    for await (const chunk of sut.readBlob(t.tenantId, sha256, range)) chunks.push(chunk);
    return chunks;
  }

  it('reads a 3 MB message whole in 256 KiB chunks, byte for byte', async () => {
    const chunks = await read();
    expect(chunks.map((c) => c.length)).toEqual(Array(12).fill(256 * 1024));
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });

  it('reads a range exactly, and clamps one past the end', async () => {
    const chunks = await read({ start: 1000, end: 700_000 });
    expect(chunks.map((c) => c.length)).toEqual([262_144, 262_144, 699_000 - 524_288]);
    expect(Buffer.concat(chunks).equals(big.subarray(1000, 700_000))).toBe(true);
    const tail = await read({ start: big.length - 10, end: big.length + 100 });
    expect(Buffer.concat(tail).equals(big.subarray(big.length - 10))).toBe(true);
    expect(await read({ start: 5, end: 5 })).toEqual([]);
  });

  it('refuses an unknown blob with BlobNotFound', async () => {
    const other = sut.readBlob(t.tenantId, 'f'.repeat(64));
    await expect(other[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(BlobNotFound);
  });

  it('caches a MIME structure per blob', async () => {
    expect(await sut.mimeStructure(t.tenantId, sha256)).toBeNull();
    const tree = { type: 'text/plain', header: { start: 0, end: 16 }, body: { start: 16, end: big.length } };
    await sut.setMimeStructure(t.tenantId, sha256, tree);
    expect(await sut.mimeStructure(t.tenantId, sha256)).toEqual(tree);
  });
});

describe('FETCH reads', () => {
  const opts = { structures: true, bodies: true, inlineMax: 1024 * 1024, blobRows: 2, blobBytes: 1024 * 1024 };

  async function whole(sha256: string) {
    const chunks: Buffer[] = [];
    for await (const chunk of sut.readBlob(t.tenantId, sha256)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  it('reads the rows with the bytes and cached trees of the first blobs, within the row and byte limits', async () => {
    const uids = (await sut.snapshot(t.tenantId, inbox)).messages.map((m) => m.uid);
    expect(uids.length).toBeGreaterThanOrEqual(3);
    const first = (await sut.messages(t.tenantId, inbox, [uids[0]!]))[0]!;
    await sut.setMimeStructures(t.tenantId, [{ sha256: first.blobSha256, tree: { cached: 1 } }]);
    const rows = await sut.fetchMessages(t.tenantId, inbox, [...uids].reverse(), opts);
    expect(rows.map((r) => r.uid)).toEqual(uids);
    expect(rows[0]).toMatchObject({ ...first, blob: { size: first.size, structure: { cached: 1 } } });
    expect(rows[0]!.blob!.bytes!.equals(await whole(first.blobSha256))).toBe(true);
    expect(rows[1]!.blob!.bytes!.equals(await whole(rows[1]!.blobSha256))).toBe(true);
    expect(rows[1]!.blob!.structure).toBeNull();
    expect(rows.slice(2).map((r) => r.blob)).toEqual(rows.slice(2).map(() => null));
    const tight = await sut.fetchMessages(t.tenantId, inbox, uids, { ...opts, blobBytes: first.size - 1 });
    expect(tight.map((r) => r.blob)).toEqual(uids.map(() => null));
    // Without bodies, bytes come only to parse a tree that is not cached.
    const trees = await sut.fetchMessages(t.tenantId, inbox, uids, { ...opts, bodies: false });
    expect(trees[0]!.blob).toEqual({ size: first.size, object: null, structure: { cached: 1 }, bytes: null });
    expect(trees[1]!.blob!.bytes!.equals(rows[1]!.blob!.bytes!)).toBe(true);
  });

  it('reads a batch of blobs in one call, leaving the bytes of large ones to readBlob', async () => {
    const [small] = await sut.messages(t.tenantId, inbox, [1]);
    const archive = t.boxes[0]!.archive;
    const [big] = await sut.messages(
      t.tenantId,
      archive,
      (await sut.snapshot(t.tenantId, archive)).messages.map((m) => m.uid),
    );
    const blobs = await sut.fetchBlobs(
      t.tenantId,
      [big!.blobSha256, small!.blobSha256, small!.blobSha256, 'f'.repeat(64)],
      { structures: false, bodies: true, inlineMax: 256 * 1024 },
    );
    expect([...blobs.keys()].sort()).toEqual([big!.blobSha256, small!.blobSha256].sort());
    expect(blobs.get(big!.blobSha256)).toEqual({ size: big!.size, object: null, structure: null, bytes: null });
    expect(blobs.get(small!.blobSha256)!.bytes!.equals(await whole(small!.blobSha256))).toBe(true);
  });
});
