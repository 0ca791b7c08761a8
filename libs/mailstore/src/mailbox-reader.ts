import type { PrismaClient } from '@mailroom/db';
import { blobStore, objectOf } from './blob-store';
import { BlobNotFound, FolderNotFound } from './errors';
import { createFolderIn, deleteFolderIn, renameFolderIn } from './folder-ops';
import { normaliseFolderName } from './folder-name';
import {
  countFolder,
  folderHighestModseq,
  folderInfo,
  folderRowByName,
  folderRows,
  updateSubscribed,
} from './folder.repository';
import type {
  BlobPlace,
  ByteRange,
  CopyResult,
  FolderChanges,
  FolderCounts,
  FolderInfo,
  FetchBlob,
  FetchBlobOptions,
  FetchMessage,
  FetchReadOptions,
  FolderSnapshot,
  MessageMeta,
  SearchQuery,
  SortCriterion,
  ThreadMessage,
} from './mailbox.types';
import { createSpecialFolder } from './message.repository';
import {
  blobInfo,
  blobMimeStructure,
  blobSlice,
  blobsForFetch,
  changesAfter,
  folderMessageStates,
  messageMetas,
  messagesForFetch,
  metaOf,
  type FetchBlobRow,
  parseStates,
  saveMimeStructure,
  saveMimeStructures,
} from './read.repository';
import { searchFolder } from './search.repository';
import { sortFolder, threadMessages } from './sort.repository';
import { tenantUsage as sharedUsage, type TenantUsage } from './tenant-usage';
import { copyIn, expungeIn, moveIn } from './transfer';
import type { MailStoreOptions, StoreTx } from './types';

// A 50 MB insert over a slow link takes a while; Prisma's default of 5 s would abort it.
const TX_TIMEOUT_MS = 120_000;
function fetchBlob(tenantId: string, sha256: string, r: Omit<FetchBlobRow, 'sha256'>): FetchBlob {
  return {
    size: r.size,
    object: objectOf(tenantId, sha256, r),
    structure: r.tree ? (JSON.parse(r.tree) as unknown) : null,
    bytes: r.storage === 'db' ? r.bytes : null,
  };
}

/** FETCH reads blobs in slices of this size: memory per streamed message stays bounded. */
export const BLOB_CHUNK_BYTES = 256 * 1024;

/**
 * The mail store as IMAP and POP3 see a mailbox: folders by name, per-folder state by uid and
 * modseq, blobs streamed in slices, SEARCH, and the folder changes of a mail client (COPY, MOVE,
 * EXPUNGE, CREATE, RENAME, DELETE). Methods take the tenant id first. Hidden (legal-hold)
 * messages and folders are never returned. Every change notifies 'mailroom_mail' on commit.
 * MailStore extends it, so one object serves the MTA, the worker and the IMAP server.
 */
export class MailboxReader {
  protected readonly usage: TenantUsage;

  constructor(
    protected readonly prisma: PrismaClient,
    options: MailStoreOptions = {},
  ) {
    this.usage = options.usage ?? sharedUsage;
  }

  /**
   * A transaction long enough for a large message, for callers that add rows of their own;
   * `timeoutMs` for work that must hold its locks longer (or give them up sooner).
   */
  transaction<T>(work: (tx: StoreTx) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.prisma.$transaction(work, { timeout: options.timeoutMs ?? TX_TIMEOUT_MS, maxWait: 10_000 });
  }

  /** LIST: the mailbox's folders by name; an INBOX is made if the mailbox has none yet. */
  async listFolders(tenantId: string, mailboxId: string): Promise<FolderInfo[]> {
    let rows = await folderRows(this.prisma, tenantId, mailboxId);
    if (!rows.some((r) => r.kind === 'inbox')) {
      await createSpecialFolder(this.prisma, tenantId, mailboxId, 'inbox');
      rows = await folderRows(this.prisma, tenantId, mailboxId);
    }
    return rows.map(folderInfo);
  }

  /** SELECT/STATUS/APPEND target: a folder by name ('INBOX' in any case is the inbox); null when none. */
  async folderByName(tenantId: string, mailboxId: string, name: string): Promise<FolderInfo | null> {
    let n: string;
    try {
      n = normaliseFolderName(name);
    } catch {
      return null; // a name we could never have created
    }
    let row = await folderRowByName(this.prisma, tenantId, mailboxId, n);
    if (!row && n === 'INBOX') {
      // Every mailbox has an INBOX (RFC 3501 5.1), also one made before its folders.
      await createSpecialFolder(this.prisma, tenantId, mailboxId, 'inbox');
      row = await folderRowByName(this.prisma, tenantId, mailboxId, n);
    }
    return row ? folderInfo(row) : null;
  }

  /** CREATE, with missing superiors. Throws FolderExists, InvalidFolderName. */
  createFolder(tenantId: string, mailboxId: string, name: string): Promise<FolderInfo> {
    return this.transaction((tx) => createFolderIn(tx, tenantId, mailboxId, name));
  }

  /** RENAME, inferiors included; INBOX moves its messages (RFC 3501 6.3.5). FolderNotFound, FolderExists. */
  renameFolder(tenantId: string, mailboxId: string, from: string, to: string): Promise<void> {
    return this.transaction((tx) => renameFolderIn(tx, tenantId, mailboxId, from, to));
  }

  /** DELETE: FolderProtected for INBOX and special use, FolderHasChildren, FolderNotFound. */
  deleteFolder(tenantId: string, mailboxId: string, name: string): Promise<void> {
    return this.transaction((tx) => deleteFolderIn(tx, tenantId, mailboxId, name));
  }

  /** SUBSCRIBE/UNSUBSCRIBE. FolderNotFound when there is no such folder. */
  async setSubscribed(tenantId: string, mailboxId: string, name: string, subscribed: boolean): Promise<void> {
    const folder = await this.folderByName(tenantId, mailboxId, name);
    if (!folder) throw new FolderNotFound(tenantId, name);
    await updateSubscribed(this.prisma, tenantId, folder.id, subscribed);
  }

  /** STATUS counts. FolderNotFound when the folder is gone. */
  async folderCounts(tenantId: string, folderId: string): Promise<FolderCounts> {
    const counts = await countFolder(this.prisma, tenantId, folderId);
    if (!counts) throw new FolderNotFound(tenantId, folderId);
    return counts;
  }

  /** SELECT: the folder and its visible messages in uid order, read in one statement. */
  async snapshot(tenantId: string, folderId: string): Promise<FolderSnapshot> {
    const row = await folderMessageStates(this.prisma, tenantId, folderId);
    if (!row) throw new FolderNotFound(tenantId, folderId);
    return { folder: folderInfo(row), messages: parseStates(row.states) };
  }

  /**
   * The folder's highest modseq, read alone: whether anything changed since a session's modseq
   * (NOOP, CHECK, the IDLE safety poll) without reading messages. Null when the folder is gone.
   */
  highestModseq(tenantId: string, folderId: string): Promise<bigint | null> {
    return folderHighestModseq(this.prisma, tenantId, folderId);
  }

  /** Resync after a notification or reconnect: changed and new messages above `modseq`, expunged uids. */
  async changesSince(tenantId: string, folderId: string, modseq: bigint): Promise<FolderChanges> {
    const changes = await changesAfter(this.prisma, tenantId, folderId, modseq);
    if (!changes) throw new FolderNotFound(tenantId, folderId);
    return changes;
  }

  /** FETCH metadata of visible messages among `uids`, uid order (uids that are gone are left out). */
  messages(tenantId: string, folderId: string, uids: number[]): Promise<MessageMeta[]> {
    return messageMetas(this.prisma, tenantId, folderId, uids);
  }

  /**
   * A blob's bytes (or `range`: start inclusive, end exclusive, clamped to the size) in slices of
   * BLOB_CHUNK_BYTES, one query each (or one ranged GET for an object-stored blob): a large
   * message never sits whole in memory. `place` is what a FETCH batch read of the blob (its size
   * and object key); without it, one query reads them first.
   */
  async *readBlob(tenantId: string, sha256: string, range?: ByteRange, place?: BlobPlace): AsyncIterable<Buffer> {
    const at = place ?? (await this.blobPlace(tenantId, sha256));
    if (at.object) {
      yield* blobStore().readObject(at.object, at.size, range, BLOB_CHUNK_BYTES);
      return;
    }
    const start = Math.min(Math.max(range?.start ?? 0, 0), at.size);
    const end = Math.min(Math.max(range?.end ?? at.size, start), at.size);
    for (let from = start; from < end; from += BLOB_CHUNK_BYTES) {
      yield await blobSlice(this.prisma, tenantId, sha256, {
        start: from,
        end: Math.min(end, from + BLOB_CHUNK_BYTES),
      });
    }
  }

  /** A blob's size and where its bytes are, in one query. BlobNotFound when there is no such blob. */
  private async blobPlace(tenantId: string, sha256: string): Promise<BlobPlace> {
    const info = await blobInfo(this.prisma, tenantId, sha256);
    if (!info) throw new BlobNotFound(tenantId, sha256);
    return { size: info.size, object: objectOf(tenantId, sha256, info) };
  }

  /**
   * What a FETCH batch needs of its blobs, in one statement: sizes, cached MIME trees (with
   * `structures`) and the bytes of the blobs up to `inlineMax` bytes (with `bodies`, else only to
   * parse a tree that is not cached); larger ones stay for
   * readBlob. Blobs that are gone are missing from the map.
   */
  async fetchBlobs(tenantId: string, sha256s: string[], options: FetchBlobOptions): Promise<Map<string, FetchBlob>> {
    const unique = [...new Set(sha256s)];
    const rows = await blobsForFetch(this.prisma, tenantId, unique, options);
    return new Map(rows.map((r) => [r.sha256, fetchBlob(tenantId, r.sha256, r)]));
  }

  /**
   * FETCH: the visible messages among `uids` in uid order (as `messages`) and, in the same
   * statement, the blobs (as fetchBlobs) of the first ones within `blobRows` and `blobBytes`;
   * the others have `blob` null.
   */
  async fetchMessages(
    tenantId: string,
    folderId: string,
    uids: number[],
    options: FetchReadOptions,
  ): Promise<FetchMessage[]> {
    const rows = await messagesForFetch(this.prisma, tenantId, folderId, uids, options);
    return rows.map((r) => ({
      ...metaOf(r),
      blob:
        r.storage === null
          ? null
          : fetchBlob(tenantId, r.blob_sha256, { ...r, size: r.blob_size!, storage: r.storage }),
    }));
  }

  /** Caches the parsed MIME trees of several blobs in one statement. */
  setMimeStructures(tenantId: string, trees: Array<{ sha256: string; tree: unknown }>): Promise<void> {
    return saveMimeStructures(this.prisma, tenantId, trees);
  }

  /** The cached MIME tree of a blob (what setMimeStructure stored), or null. */
  mimeStructure(tenantId: string, sha256: string): Promise<unknown> {
    return blobMimeStructure(this.prisma, tenantId, sha256);
  }

  /** Caches a blob's parsed MIME tree (JSON-serialisable). */
  setMimeStructure(tenantId: string, sha256: string, tree: unknown): Promise<void> {
    return saveMimeStructure(this.prisma, tenantId, sha256, tree);
  }

  /** SEARCH: uids ascending of the visible messages matching `query` (one parameterised statement). */
  search(tenantId: string, folderId: string, query: SearchQuery): Promise<number[]> {
    return searchFolder(this.prisma, tenantId, folderId, query);
  }

  /** SORT (RFC 5256): uids of the matching messages in the order of `criteria`, ordered in SQL. */
  sort(tenantId: string, folderId: string, query: SearchQuery, criteria: SortCriterion[]): Promise<number[]> {
    return sortFolder(this.prisma, tenantId, folderId, query, criteria);
  }

  /** THREAD (RFC 5256): the threading fields of the matching messages, by uid. */
  threadMessages(tenantId: string, folderId: string, query: SearchQuery): Promise<ThreadMessage[]> {
    return threadMessages(this.prisma, tenantId, folderId, query);
  }

  /** COPY within a mailbox; QuotaExceeded (mailbox or tenant), FolderNotFound for the target. */
  copy(tenantId: string, fromFolderId: string, uids: number[], toFolderId: string): Promise<CopyResult> {
    return this.transaction((tx) => copyIn(tx, this.usage, tenantId, fromFolderId, uids, toFolderId));
  }

  /** MOVE within a mailbox: the same messages under new uids; sources logged as expunged. */
  move(tenantId: string, fromFolderId: string, uids: number[], toFolderId: string): Promise<CopyResult> {
    return this.transaction((tx) => moveIn(tx, tenantId, fromFolderId, uids, toFolderId));
  }

  /** EXPUNGE (or UID EXPUNGE with `uids`): messages flagged \Deleted removed; their uids ascending. */
  expunge(tenantId: string, folderId: string, uids?: number[]): Promise<number[]> {
    return this.transaction((tx) => expungeIn(tx, tenantId, folderId, uids ?? null));
  }
}
