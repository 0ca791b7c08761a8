import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FolderExists,
  FolderHasChildren,
  FolderNotFound,
  FolderProtected,
  InvalidFolderName,
  MailStore,
  QuotaExceeded,
  TenantUsage,
} from '@mailroom/mailstore';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { appendTo, rawMessage } from '@test/support/mail-fixtures';
import { expectExactQuota, seedTenant } from '@test/support/worker-fixtures';

// The read and folder API IMAP and POP3 sit on, against real PostgreSQL.

let db: TestDatabase;
let sut: MailStore;
let t: Awaited<ReturnType<typeof seedTenant>>;
let box: { id: string; inbox: string; trash: string; junk: string; archive: string };

beforeAll(async () => {
  db = await createTestDatabase();
  sut = new MailStore(db.prisma, { usage: new TenantUsage() });
});
afterAll(() => db.drop());
beforeEach(async () => {
  t = await seedTenant(db.prisma, 1);
  box = t.boxes[0]!;
});

const at = (folderId: string) => ({ tenantId: t.tenantId, mailboxId: box.id, folderId });
const put = (folderId: string, text: string, flags: string[] = []) =>
  appendTo(sut, at(folderId), rawMessage({ Subject: text }, text), { flags });
const names = async () => (await sut.listFolders(t.tenantId, box.id)).map((f) => f.name);
const usage = () =>
  db.prisma.mailbox.findUniqueOrThrow({ where: { tenantId_id: { tenantId: t.tenantId, id: box.id } } });
const hold = () =>
  db.prisma.mailbox.update({ where: { tenantId_id: { tenantId: t.tenantId, id: box.id } }, data: { legalHold: true } });

describe('folders', () => {
  it('lists the folders subscribed, and finds INBOX in any case', async () => {
    const folders = await sut.listFolders(t.tenantId, box.id);
    expect(folders.map((f) => [f.name, f.kind, f.subscribed])).toEqual([
      ['Archive', 'archive', true],
      ['INBOX', 'inbox', true],
      ['Junk', 'junk', true],
      ['Trash', 'trash', true],
    ]);
    expect((await sut.folderByName(t.tenantId, box.id, 'iNbOx'))?.id).toBe(box.inbox);
    expect(await sut.folderByName(t.tenantId, box.id, 'Nope')).toBeNull();
    expect(await sut.folderByName(t.tenantId, box.id, 'a//b')).toBeNull();
  });

  it('gives a mailbox made without folders its INBOX on first look', async () => {
    const bare = await db.prisma.mailbox.create({
      data: { tenantId: t.tenantId, domainId: t.domainId, localPart: 'bare', passwordHash: 'x' },
    });
    const inbox = await sut.folderByName(t.tenantId, bare.id, 'INBOX');
    expect(inbox).toMatchObject({ name: 'INBOX', kind: 'inbox' });
    expect((await sut.listFolders(t.tenantId, bare.id)).map((f) => f.id)).toEqual([inbox!.id]);
  });

  it('creates a folder with its missing parents and a fresh UIDVALIDITY; refuses taken and invalid names', async () => {
    const created = await sut.createFolder(t.tenantId, box.id, 'Work/2026');
    expect(created).toMatchObject({ name: 'Work/2026', kind: 'custom', uidNext: 1, subscribed: true });
    expect(created.uidValidity).toBeGreaterThan(1_700_000_000);
    expect(await names()).toEqual(['Archive', 'INBOX', 'Junk', 'Trash', 'Work', 'Work/2026']);
    await expect(sut.createFolder(t.tenantId, box.id, 'Work/2026')).rejects.toBeInstanceOf(FolderExists);
    await expect(sut.createFolder(t.tenantId, box.id, 'inbox')).rejects.toBeInstanceOf(FolderExists);
    await expect(sut.createFolder(t.tenantId, box.id, 'a//b')).rejects.toBeInstanceOf(InvalidFolderName);
  });

  it('renames a folder with its children, keeping their messages', async () => {
    const child = await sut.createFolder(t.tenantId, box.id, 'Work/2026');
    await put(child.id, 'kept');
    await sut.renameFolder(t.tenantId, box.id, 'Work', 'Jobs/Old');
    expect(await names()).toEqual(['Archive', 'INBOX', 'Jobs', 'Jobs/Old', 'Jobs/Old/2026', 'Junk', 'Trash']);
    const moved = await sut.folderByName(t.tenantId, box.id, 'Jobs/Old/2026');
    expect(moved?.id).toBe(child.id);
    expect((await sut.snapshot(t.tenantId, child.id)).messages.map((m) => m.uid)).toEqual([1]);
    await expect(sut.renameFolder(t.tenantId, box.id, 'Jobs', 'Trash')).rejects.toBeInstanceOf(FolderExists);
    await expect(sut.renameFolder(t.tenantId, box.id, 'Nope', 'X')).rejects.toBeInstanceOf(FolderNotFound);
    await expect(sut.renameFolder(t.tenantId, box.id, 'Jobs', 'Jobs/Sub')).rejects.toBeInstanceOf(InvalidFolderName);
  });

  it('renaming INBOX moves its messages to the new folder and leaves INBOX empty (RFC 3501 6.3.5)', async () => {
    await put(box.inbox, 'one');
    await put(box.inbox, 'two');
    const before = await sut.folderCounts(t.tenantId, box.inbox);
    await sut.renameFolder(t.tenantId, box.id, 'INBOX', 'Old Mail');
    const target = await sut.folderByName(t.tenantId, box.id, 'Old Mail');
    expect((await sut.snapshot(t.tenantId, target!.id)).messages.map((m) => m.uid)).toEqual([1, 2]);
    const inbox = await sut.changesSince(t.tenantId, box.inbox, before.highestModseq);
    expect(inbox.expunged).toEqual([1, 2]);
    expect((await sut.folderCounts(t.tenantId, box.inbox)).messages).toBe(0);
    expect((await usage()).messageCount).toBe(2);
  });

  it('refuses to delete INBOX, special-use folders and folders with children', async () => {
    await expect(sut.deleteFolder(t.tenantId, box.id, 'INBOX')).rejects.toBeInstanceOf(FolderProtected);
    await expect(sut.deleteFolder(t.tenantId, box.id, 'Trash')).rejects.toBeInstanceOf(FolderProtected);
    await sut.createFolder(t.tenantId, box.id, 'A/B');
    await expect(sut.deleteFolder(t.tenantId, box.id, 'A')).rejects.toBeInstanceOf(FolderHasChildren);
    await expect(sut.deleteFolder(t.tenantId, box.id, 'Z')).rejects.toBeInstanceOf(FolderNotFound);
  });

  it('deletes a folder with its messages, and usage drops', async () => {
    const folder = await sut.createFolder(t.tenantId, box.id, 'Old');
    await put(folder.id, 'a');
    await put(box.inbox, 'b');
    await sut.deleteFolder(t.tenantId, box.id, 'Old');
    expect(await names()).not.toContain('Old');
    expect(await db.prisma.message.count({ where: { folderId: folder.id } })).toBe(0);
    expect((await usage()).messageCount).toBe(1);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('under legal hold a deleted folder and its messages are hidden, not removed, and the name is free', async () => {
    const folder = await sut.createFolder(t.tenantId, box.id, 'Evidence');
    await put(folder.id, 'a');
    await hold();
    await sut.deleteFolder(t.tenantId, box.id, 'Evidence');
    expect(await names()).not.toContain('Evidence');
    const rows = await db.prisma.message.findMany({ where: { folderId: folder.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deletedAt).not.toBeNull();
    expect((await usage()).messageCount).toBe(1);
    const again = await sut.createFolder(t.tenantId, box.id, 'Evidence');
    expect(again.id).not.toBe(folder.id);
    await expect(sut.snapshot(t.tenantId, folder.id)).rejects.toBeInstanceOf(FolderNotFound);
  });

  it('subscribes and unsubscribes', async () => {
    await sut.setSubscribed(t.tenantId, box.id, 'Junk', false);
    expect((await sut.folderByName(t.tenantId, box.id, 'Junk'))?.subscribed).toBe(false);
    await sut.setSubscribed(t.tenantId, box.id, 'Junk', true);
    expect((await sut.folderByName(t.tenantId, box.id, 'Junk'))?.subscribed).toBe(true);
    await expect(sut.setSubscribed(t.tenantId, box.id, 'Nope', true)).rejects.toBeInstanceOf(FolderNotFound);
  });
});

describe('folder state', () => {
  it('counts, snapshots and reads messages, never the hidden ones', async () => {
    const a = await put(box.inbox, 'a', ['\\Seen']);
    await put(box.inbox, 'bb', ['\\Deleted']);
    const c = await put(box.inbox, 'ccc');
    await db.prisma.message.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: c.id } },
      data: { deletedAt: new Date() },
    });
    const counts = await sut.folderCounts(t.tenantId, box.inbox);
    expect(counts).toMatchObject({ messages: 2, unseen: 1, deleted: 1, uidNext: 4, uidValidity: 1 });
    const sizeOfA = rawMessage({ Subject: 'a' }, 'a').length;
    expect(counts.sizeBytes).toBe(BigInt(sizeOfA + rawMessage({ Subject: 'bb' }, 'bb').length));
    const snap = await sut.snapshot(t.tenantId, box.inbox);
    expect(snap.folder).toMatchObject({ id: box.inbox, name: 'INBOX', kind: 'inbox', uidNext: 4 });
    expect(snap.messages.map((m) => [m.uid, m.flags])).toEqual([
      [1, ['\\Seen']],
      [2, ['\\Deleted']],
    ]);
    const metas = await sut.messages(t.tenantId, box.inbox, [1, 3, 99]);
    expect(metas.map((m) => [m.uid, m.id, m.size])).toEqual([[1, a.id, sizeOfA]]);
    expect(metas[0]!.blobSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await sut.search(t.tenantId, box.inbox, { op: 'all' })).toEqual([1, 2]);
  });

  it('changesSince reports flag changes, new messages, expunges and moves', async () => {
    await put(box.inbox, 'a');
    await put(box.inbox, 'b');
    await put(box.inbox, 'c');
    const base = (await sut.folderCounts(t.tenantId, box.inbox)).highestModseq;
    await sut.setFlags(t.tenantId, box.inbox, [1], 'add', ['\\Deleted']);
    await sut.move(t.tenantId, box.inbox, [2], box.archive);
    await put(box.inbox, 'd');
    expect(await sut.expunge(t.tenantId, box.inbox)).toEqual([1]);
    const changes = await sut.changesSince(t.tenantId, box.inbox, base);
    expect(changes.expunged).toEqual([1, 2]);
    expect(changes.changed.map((m) => m.uid)).toEqual([4]);
    expect(changes.highestModseq).toBe((await sut.folderCounts(t.tenantId, box.inbox)).highestModseq);
    expect((await sut.changesSince(t.tenantId, box.inbox, changes.highestModseq)).changed).toEqual([]);
  });

  it('trims old expunge-log rows and then says a resync from before them is incomplete', async () => {
    await put(box.inbox, 'a', ['\\Deleted']);
    await put(box.inbox, 'b', ['\\Deleted']);
    await sut.expunge(t.tenantId, box.inbox, [1]);
    const between = (await sut.folderCounts(t.tenantId, box.inbox)).highestModseq;
    await sut.expunge(t.tenantId, box.inbox, [2]);
    await db.prisma.messageExpunge.updateMany({
      where: { tenantId: t.tenantId, folderId: box.inbox, uid: 1 },
      data: { expungedAt: new Date(Date.now() - 10 * 86_400_000) },
    });
    expect(await sut.trimExpungeLog(new Date(Date.now() - 86_400_000), 1)).toBe(1);
    expect(await sut.changesSince(t.tenantId, box.inbox, 0n)).toMatchObject({ complete: false, expunged: [2] });
    expect(await sut.changesSince(t.tenantId, box.inbox, between)).toMatchObject({ complete: true, expunged: [2] });
  });

  it('STORE UNCHANGEDSINCE leaves messages changed after it and returns their uids', async () => {
    await put(box.inbox, 'a');
    await put(box.inbox, 'b');
    const first = await sut.setFlags(t.tenantId, box.inbox, [2], 'add', ['$Work']);
    const since = first.changed[0]!.modseq - 1n;
    const result = await sut.setFlags(t.tenantId, box.inbox, [1, 2], 'add', ['\\Flagged'], since);
    expect(result.failed).toEqual([2]);
    expect(result.changed.map((m) => [m.uid, m.flags])).toEqual([[1, ['\\Flagged']]]);
  });
});

describe('copy, move, expunge', () => {
  it('copies into the target with new uids sharing the blob, charging usage', async () => {
    const a = await put(box.inbox, 'a');
    await put(box.inbox, 'b');
    await put(box.archive, 'x');
    const result = await sut.copy(t.tenantId, box.inbox, [2, 1, 7], box.archive);
    expect(result).toEqual({
      uidValidity: 1,
      pairs: [
        [1, 2],
        [2, 3],
      ],
    });
    const copied = await sut.messages(t.tenantId, box.archive, [2]);
    expect(copied[0]!.blobSha256).toBe((await sut.messages(t.tenantId, box.inbox, [1]))[0]!.blobSha256);
    expect(copied[0]!.id).not.toBe(a.id);
    expect((await usage()).messageCount).toBe(5);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('refuses a copy past the quota with QuotaExceeded and writes nothing', async () => {
    await put(box.inbox, 'a');
    const { usedBytes } = await usage();
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: box.id } },
      data: { quotaBytes: usedBytes + 5n },
    });
    await expect(sut.copy(t.tenantId, box.inbox, [1], box.archive)).rejects.toBeInstanceOf(QuotaExceeded);
    expect(await sut.snapshot(t.tenantId, box.archive)).toMatchObject({ messages: [], folder: { uidNext: 1 } });
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('moves in place even in a full mailbox, logging the source uids as expunged', async () => {
    const a = await put(box.inbox, 'a');
    await put(box.inbox, 'b');
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: t.tenantId, id: box.id } },
      data: { quotaBytes: 1 },
    });
    expect(await sut.move(t.tenantId, box.inbox, [1], box.trash)).toEqual({ uidValidity: 1, pairs: [[1, 1]] });
    expect((await sut.messages(t.tenantId, box.trash, [1]))[0]!.id).toBe(a.id);
    expect((await sut.snapshot(t.tenantId, box.inbox)).messages.map((m) => m.uid)).toEqual([2]);
    expect((await sut.changesSince(t.tenantId, box.inbox, 0n)).expunged).toEqual([1]);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('expunges only \\Deleted messages (and only the uids given), taking them off usage', async () => {
    await put(box.inbox, 'a', ['\\Deleted']);
    await put(box.inbox, 'b');
    await put(box.inbox, 'c', ['\\Deleted']);
    expect(await sut.expunge(t.tenantId, box.inbox, [3])).toEqual([3]);
    expect(await sut.expunge(t.tenantId, box.inbox)).toEqual([1]);
    expect((await sut.snapshot(t.tenantId, box.inbox)).messages.map((m) => m.uid)).toEqual([2]);
    expect((await usage()).messageCount).toBe(1);
    await expectExactQuota(db.prisma, t.tenantId);
  });

  it('under legal hold an expunge hides the messages: gone for clients, kept and counted in storage', async () => {
    await put(box.inbox, 'a', ['\\Deleted']);
    await hold();
    expect(await sut.expunge(t.tenantId, box.inbox)).toEqual([1]);
    expect((await sut.snapshot(t.tenantId, box.inbox)).messages).toEqual([]);
    expect(await db.prisma.message.count({ where: { folderId: box.inbox, deletedAt: { not: null } } })).toBe(1);
    expect((await usage()).messageCount).toBe(1);
    expect((await sut.changesSince(t.tenantId, box.inbox, 0n)).expunged).toEqual([1]);
  });
});

describe('notifications', () => {
  it('a LISTEN client hears of a new message only after commit, with tenant:mailbox:folder:modseq', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query('LISTEN mailroom_mail');
    try {
      let stored: { modseq: bigint } | undefined;
      await sut.transaction(async (tx) => {
        stored = await sut.storeGenerated(tx, {
          tenantId: t.tenantId,
          mailboxId: box.id,
          folderKind: 'inbox',
          raw: rawMessage({ Subject: 'dsn' }),
          envelopeFrom: '',
          envelopeTo: 'u0@x.test',
          subject: 'dsn',
          fromAddress: 'MAILER-DAEMON',
          messageId: null,
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(heard).toEqual([]);
      });
      await expect
        .poll(() => heard, { timeout: 2000 })
        .toEqual([`${t.tenantId}:${box.id}:${box.inbox}:${stored!.modseq}`]);
      await sut.setFlags(t.tenantId, box.inbox, [1], 'add', ['\\Seen', '\\Deleted']);
      await sut.expunge(t.tenantId, box.inbox);
      await expect.poll(() => heard.length, { timeout: 2000 }).toBe(3);
      expect(heard.map((p) => p.split(':')[3])).toEqual([
        `${stored!.modseq}`,
        `${stored!.modseq + 1n}`,
        `${stored!.modseq + 2n}`,
      ]);
    } finally {
      await listener.end();
    }
  });

  it('COPY, MOVE and retention removal notify each folder they change', async () => {
    const a = await put(box.inbox, 'a');
    await put(box.inbox, 'b');
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query('LISTEN mailroom_mail');
    try {
      await sut.copy(t.tenantId, box.inbox, [1], box.archive);
      await sut.move(t.tenantId, box.inbox, [2], box.trash);
      await sut.transaction((tx) => sut.remove(tx, t.tenantId, [a.id]));
      await expect.poll(() => heard.length, { timeout: 2000 }).toBe(4);
      const folders = heard.map((p) => p.split(':')[2]);
      expect(folders).toEqual([box.archive, box.trash, box.inbox, box.inbox]);
      expect(heard.every((p) => p.startsWith(`${t.tenantId}:${box.id}:`))).toBe(true);
    } finally {
      await listener.end();
    }
  });
});
