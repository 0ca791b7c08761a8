import { randomBytes } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage, message } from '@test/support/smtp/harness';
import { createImapHarness, type ImapHarness } from './imap-harness';

/** imapflow's typings allow `false` for a failed command; these must have worked. */
function must<T>(value: T | false): T {
  if (value === false) throw new Error('command failed');
  return value;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('imap: reading and changing mail', () => {
  let x: ImapHarness;

  beforeAll(async () => {
    x = await createImapHarness();
  });
  afterAll(async () => x?.close());

  async function fresh(): Promise<{ address: string; client: ImapFlow }> {
    const user = await x.user(`u${randomBytes(4).toString('hex')}`);
    return { address: user.address, client: await x.client(user.address) };
  }

  it('reads back byte for byte a message the MTA accepted on port 25', async () => {
    const { address, client } = await fresh();
    const body = basicMessage('someone@sender.test', address, 'byte for byte');
    await x.deliver(address, body);
    const row = await x.h.prisma.message.findFirstOrThrow({ where: { subject: 'byte for byte' } });
    const blob = await x.h.prisma.messageBlob.findFirstOrThrow({ where: { sha256: row.blobSha256 } });
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msg = await client.fetchOne('*', { source: true, uid: true, size: true, flags: true });
      expect(msg && msg.source?.equals(Buffer.from(blob.bytes!))).toBe(true);
      // What the MTA stored is the sender's bytes after our trace headers.
      expect(msg && msg.source?.toString('latin1').endsWith(body)).toBe(true);
      expect(msg && msg.size).toBe(blob.size);
      // BODY[] without PEEK (imapflow's source uses BODY.PEEK[]): still unseen
      expect(msg && [...msg.flags!]).toEqual([]);
    } finally {
      lock.release();
    }
  });

  it('SELECT and STATUS give the numbers of the folder', async () => {
    const { address, client } = await fresh();
    for (let i = 0; i < 3; i++) await x.deliver(address, basicMessage('someone@sender.test', address, `n${i}`));
    const status = must(
      await client.status('INBOX', { messages: true, unseen: true, uidNext: true, uidValidity: true }),
    );
    expect(status).toMatchObject({ messages: 3, unseen: 3, uidNext: 4 });
    const box = await client.mailboxOpen('INBOX');
    expect(box.exists).toBe(3);
    expect(box.uidNext).toBe(4);
    expect(box.uidValidity).toBe(BigInt(status.uidValidity!));
    expect(box.permanentFlags?.has('\\*')).toBe(true);
    expect(typeof box.highestModseq).toBe('bigint');
  });

  it('APPENDs to Sent, then FETCHes the same bytes with APPENDUID and flags', async () => {
    const { client } = await fresh();
    const raw = message({ From: 'me@acme.test', To: 'you@example.org', Subject: 'appended' }, 'Draft body.');
    const res = await client.append('Sent', raw, ['\\Seen', '$Label1'], new Date('2024-01-02T03:04:05Z'));
    expect(res).toMatchObject({ destination: 'Sent', uid: 1 });
    await client.mailboxOpen('Sent');
    const msg = await client.fetchOne('1', { source: true, flags: true, internalDate: true, envelope: true });
    expect(msg && msg.source?.toString()).toBe(raw);
    expect(msg && [...msg.flags!].sort()).toEqual(['$Label1', '\\Seen']);
    expect(msg && new Date(msg.internalDate!).toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(msg && msg.envelope?.subject).toBe('appended');
  });

  it('refuses APPEND to a folder that does not exist with [TRYCREATE]', async () => {
    const { client } = await fresh();
    await expect(client.append('Nope', 'Subject: x\r\n\r\nx\r\n')).rejects.toThrow();
  });

  it('STOREs flags and keywords', async () => {
    const { address, client } = await fresh();
    await x.deliver(address, basicMessage('someone@sender.test', address, 'flags'));
    await client.mailboxOpen('INBOX');
    expect(await client.messageFlagsAdd('1', ['\\Flagged', 'Important'])).toBe(true);
    await client.messageFlagsRemove('1', ['\\Flagged']);
    let msg = await client.fetchOne('1', { flags: true });
    expect(msg && [...msg.flags!]).toEqual(['Important']);
    await client.messageFlagsSet('1', ['$Forwarded', 'Important']);
    msg = await client.fetchOne('1', { flags: true });
    expect(msg && [...msg.flags!].sort()).toEqual(['$Forwarded', 'Important']);
    const rows = await x.h.prisma.message.findMany({ where: { subject: 'flags' } });
    expect(rows.map((r) => [...r.flags].sort())).toEqual([['$Forwarded', 'Important']]);
  });

  it('COPY and MOVE answer COPYUID; MOVE expunges the source', async () => {
    const { address, client } = await fresh();
    for (let i = 0; i < 3; i++) await x.deliver(address, basicMessage('someone@sender.test', address, `m${i}`));
    await client.mailboxOpen('INBOX');
    const copied = must(await client.messageCopy('1:2', 'Archive'));
    expect(copied).toMatchObject({ destination: 'Archive', uidValidity: expect.any(BigInt) });
    expect([...copied.uidMap!.entries()]).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const moved = must(await client.messageMove('3', 'Trash'));
    expect([...moved.uidMap!.entries()]).toEqual([[3, 1]]);
    expect(client.mailbox && client.mailbox.exists).toBe(2);
    const trash = must(await client.status('Trash', { messages: true }));
    expect(trash.messages).toBe(1);
    const archive = must(await client.status('Archive', { messages: true }));
    expect(archive.messages).toBe(2);
  });

  it('EXPUNGE removes messages flagged \\Deleted', async () => {
    const { address, client } = await fresh();
    for (let i = 0; i < 3; i++) await x.deliver(address, basicMessage('someone@sender.test', address, `e${i}`));
    await client.mailboxOpen('INBOX');
    await client.messageDelete('2'); // STORE +FLAGS \Deleted then EXPUNGE (UID EXPUNGE with UIDPLUS)
    expect(client.mailbox && client.mailbox.exists).toBe(2);
    const uids = [];
    for await (const m of client.fetch('1:*', { uid: true })) uids.push(m.uid);
    expect(uids).toEqual([1, 3]);
  });

  it('SEARCH finds by flag, header and uid', async () => {
    const { address, client } = await fresh();
    await x.deliver(address, basicMessage('someone@sender.test', address, 'alpha report'));
    await x.deliver(address, basicMessage('someone@sender.test', address, 'beta notes'));
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd('2', ['\\Seen']);
    expect(await client.search({ seen: false })).toEqual([1]);
    expect(await client.search({ subject: 'beta' })).toEqual([2]);
    expect(await client.search({ uid: '2:*' }, { uid: true })).toEqual([2]);
    expect(await client.search({ all: true })).toEqual([1, 2]);
  });

  it('IDLE sees a message from the MTA within a second', async () => {
    const { address, client } = await fresh();
    await client.mailboxOpen('INBOX');
    const seen: number[] = [];
    client.on('exists', (e: { count: number }) => seen.push(e.count));
    // imapflow goes into IDLE by itself when no command runs; idle() resolves when it ends.
    void client.idle().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await x.deliver(address, basicMessage('someone@sender.test', address, 'idle'));
    await waitFor(() => (seen.includes(1) ? true : undefined), 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("two sessions see each other's flag changes and expunges", async () => {
    const { address, client: a } = await fresh();
    const b = await x.client(address);
    for (let i = 0; i < 2; i++) await x.deliver(address, basicMessage('someone@sender.test', address, `t${i}`));
    await a.mailboxOpen('INBOX');
    await b.mailboxOpen('INBOX');
    const flags: Array<{ seq: number; flags: string[] }> = [];
    const expunges: number[] = [];
    b.on('flags', (e: { seq: number; flags: Set<string> }) => flags.push({ seq: e.seq, flags: [...e.flags] }));
    b.on('expunge', (e: { seq: number }) => expunges.push(e.seq));
    await a.messageFlagsAdd('1', ['\\Flagged']);
    await b.noop();
    expect(flags).toContainEqual({ seq: 1, flags: ['\\Flagged'] });
    await a.messageDelete('1');
    await b.noop();
    expect(expunges).toEqual([1]);
    expect(b.mailbox && b.mailbox.exists).toBe(1);
  });

  it('FETCHes 130 messages of mixed sizes in one command byte for byte, and caches their structures', async () => {
    const { client } = await fresh();
    const attachment = (kib: number) =>
      message(
        { Subject: `mix large ${kib}`, 'Content-Type': 'multipart/mixed; boundary="b"' },
        [
          '--b',
          'Content-Type: text/plain',
          '',
          'see attached',
          '--b',
          'Content-Type: application/octet-stream',
          'Content-Transfer-Encoding: base64',
          '',
          randomBytes(kib * 768)
            .toString('base64')
            .replace(/.{76}/g, '$&\r\n'),
          '--b--',
        ].join('\r\n'),
      );
    // Two messages larger than a batch reads inline, among more messages than one batch holds.
    const sent = Array.from({ length: 130 }, (_, i) =>
      i === 40 ? attachment(400) : i === 101 ? attachment(1200) : message({ Subject: `mix ${i}` }, 'x'.repeat(i * 97)),
    );
    for (const raw of sent) await client.append('Archive', raw);
    await client.mailboxOpen('Archive');
    for (const pass of ['parsed', 'cached']) {
      const got: Array<{ uid: number; source: string; type: string; subject: string }> = [];
      for await (const msg of client.fetch('1:*', {
        uid: true,
        source: true,
        bodyStructure: true,
        headers: ['subject'],
      })) {
        got.push({
          uid: msg.uid,
          source: msg.source!.toString(),
          type: msg.bodyStructure!.type,
          subject: msg.headers!.toString().trim(),
        });
      }
      expect(
        got.map((m) => m.uid),
        pass,
      ).toEqual(sent.map((_, i) => i + 1));
      expect(
        got.every((m, i) => m.source === sent[i]),
        pass,
      ).toBe(true);
      expect(got[40]).toMatchObject({ type: 'multipart/mixed', subject: 'Subject: mix large 400' });
      expect(got[101]).toMatchObject({ type: 'multipart/mixed', subject: 'Subject: mix large 1200' });
      expect(got[7]).toMatchObject({ type: 'text/plain', subject: 'Subject: mix 7' });
    }
    // The first pass stored the trees it parsed (one statement per batch).
    const [cache] = await x.h.prisma.$queryRaw<Array<{ messages: number; cached: number }>>`
      SELECT count(*)::int AS messages, count(b.mime_structure)::int AS cached
      FROM messages m JOIN message_blobs b ON b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256
      WHERE m.tenant_id = ${x.tenantId}::uuid AND m.subject LIKE 'mix %'`;
    expect(cache).toEqual({ messages: 130, cached: 130 });
  });
});
