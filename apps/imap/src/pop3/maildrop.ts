import type { Logger } from '@mailroom/logger';
import { FolderNotFound } from '@mailroom/mailstore';
import type { Pop3MessageMeta, Pop3Store, Pop3User } from './pop3-types';

export interface MaildropMessage {
  folderId: string;
  uid: number;
  /** The message row's id: immutable, so the UIDL built from it holds for years. */
  id: string;
  size: number;
  sha256: string;
  deleted: boolean;
  /** RETR sent the whole message (markRead sets \Seen at QUIT). */
  retrieved: boolean;
}

const META_BATCH = 1_000;

/**
 * The messages of one POP3 session: the served folders as they were at login (RFC 1939
 * section 8 lets the maildrop stay fixed for the session; mail arriving later is seen by the
 * next one), oldest first across folders, numbered from 1. DELE only marks; `update` applies
 * the marks in the UPDATE state, so a dropped connection deletes nothing.
 */
export class Maildrop {
  private constructor(readonly messages: MaildropMessage[]) {}

  /** The snapshot; hidden (legal-hold) messages are not in the store's snapshot at all. */
  static async load(store: Pop3Store, user: Pop3User): Promise<Maildrop> {
    const rows: Array<Pop3MessageMeta & { folderId: string; rank: number }> = [];
    for (const [rank, folderId] of user.pop3.folderIds.entries()) {
      const snap = await store.snapshot(user.tenantId, folderId).catch((err: unknown) => {
        // A served folder deleted since the settings were saved serves nothing.
        if (err instanceof FolderNotFound) return { messages: [] };
        throw err;
      });
      const uids = snap.messages.map((m) => m.uid);
      for (let i = 0; i < uids.length; i += META_BATCH) {
        const metas = await store.messages(user.tenantId, folderId, uids.slice(i, i + META_BATCH));
        rows.push(...metas.map((m) => ({ ...m, folderId, rank })));
      }
    }
    rows.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || a.rank - b.rank || a.uid - b.uid);
    return new Maildrop(
      rows.map((r) => ({
        folderId: r.folderId,
        uid: r.uid,
        id: r.id,
        size: r.size,
        sha256: r.blobSha256,
        deleted: false,
        retrieved: false,
      })),
    );
  }

  /** Message `n` (1-based), deleted or not; null when there is none. */
  get(n: number): MaildropMessage | null {
    return this.messages[n - 1] ?? null;
  }

  /** RFC 1939 STAT: messages not marked deleted, and their octets. */
  stat(): { count: number; size: number } {
    let count = 0;
    let size = 0;
    for (const m of this.messages) {
      if (m.deleted) continue;
      count++;
      size += m.size;
    }
    return { count, size };
  }

  reset(): void {
    for (const m of this.messages) m.deleted = false;
  }

  /**
   * The UPDATE state: \Seen for what RETR downloaded (markRead), then the deletions as the
   * mailbox's deleteMode says. Returns false when some of it failed (QUIT then answers -ERR).
   */
  async update(store: Pop3Store, user: Pop3User, logger: Logger): Promise<boolean> {
    let ok = true;
    const folders = new Map<string, { seen: number[]; deleted: number[] }>();
    for (const m of this.messages) {
      const f = folders.get(m.folderId) ?? { seen: [], deleted: [] };
      if (m.retrieved && user.pop3.markRead) f.seen.push(m.uid);
      if (m.deleted) f.deleted.push(m.uid);
      folders.set(m.folderId, f);
    }
    for (const [folderId, f] of folders) {
      try {
        if (f.seen.length > 0) await store.setFlags(user.tenantId, folderId, f.seen, 'add', ['\\Seen']);
        if (f.deleted.length > 0) await this.remove(store, user, folderId, f.deleted, logger);
      } catch (err) {
        logger.error({ err, mailboxId: user.mailboxId, folderId }, 'pop3 update failed');
        ok = false;
      }
    }
    return ok;
  }

  private async remove(store: Pop3Store, user: Pop3User, folderId: string, uids: number[], logger: Logger) {
    const { tenantId } = user;
    let mode = user.pop3.deleteMode;
    if (mode === 'trash') {
      const trash = (await store.listFolders(tenantId, user.mailboxId)).find((f) => f.kind === 'trash');
      if (trash && trash.id !== folderId) {
        await store.move(tenantId, folderId, uids, trash.id);
        return;
      }
      // Deleting from Trash itself deletes; a mailbox without a Trash folder keeps its mail.
      if (!trash) logger.warn({ mailboxId: user.mailboxId }, 'pop3 deleteMode trash without a Trash folder: kept');
      mode = trash ? 'delete' : 'keep';
    }
    if (mode === 'keep') {
      // The server keeps its copy (a collector elsewhere must not empty the mailbox); the
      // message is marked read so IMAP shows that it was downloaded.
      await store.setFlags(tenantId, folderId, uids, 'add', ['\\Seen']);
      return;
    }
    await store.setFlags(tenantId, folderId, uids, 'add', ['\\Deleted']);
    await store.expunge(tenantId, folderId, uids);
  }
}

/** RFC 1939 section 7: 1 to 70 characters 0x21-0x7E. The row id (a UUID) without its dashes. */
export function uidlOf(m: MaildropMessage): string {
  return m.id.replace(/-/g, '');
}
