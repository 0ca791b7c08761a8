import type { SortCriterion, ThreadMessage } from '@mailroom/mailstore';
import type { SortKeys } from '@mailroom/rules';

export type { SortCriterion, ThreadMessage };

/**
 * What the IMAP session needs of the mail store (contracts §2): `MailStore` of
 * @mailroom/mailstore satisfies it. The session depends on this port only, so tests and the
 * protocol code never reach past it.
 */
export type FolderKind = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'archive' | 'custom';

export interface FolderInfo {
  id: string;
  name: string;
  kind: FolderKind;
  uidValidity: number;
  uidNext: number;
  highestModseq: bigint;
  subscribed: boolean;
}

export interface FolderCounts {
  messages: number;
  unseen: number;
  deleted: number;
  sizeBytes: bigint;
  uidNext: number;
  uidValidity: number;
  highestModseq: bigint;
}

export interface MessageState {
  uid: number;
  flags: string[];
  modseq: bigint;
}

export interface MessageMeta extends MessageState {
  id: string;
  size: number;
  receivedAt: Date;
  blobSha256: string;
}

export interface FolderChanges {
  highestModseq: bigint;
  changed: MessageState[];
  expunged: number[];
  /** False when the expunge log was trimmed past our modseq: compare with a snapshot. */
  complete?: boolean;
}

export interface CopyResult {
  uidValidity: number;
  pairs: Array<[number, number]>;
}

export interface AppendInput {
  tenantId: string;
  mailboxId: string;
  folderId: string;
  raw: Buffer;
  flags: string[];
  receivedAt: Date | null;
  header: {
    messageId: string | null;
    subject: string | null;
    fromAddress: string | null;
    fromName: string | null;
    toAddresses: string[];
    sentAt: Date | null;
    sortKeys: SortKeys | null;
  };
}

/** Where a blob is, as a FETCH batch read it: readBlob then asks the store nothing first. */
export interface BlobPlace {
  size: number;
  /** Where the bytes are in the object store (S3); null when they are in PostgreSQL. */
  object: { storage: string; key: string } | null;
}

/** What a FETCH batch reads of a blob in one statement (see ImapStore.fetchBlobs). */
export interface FetchBlob extends BlobPlace {
  /** The cached MIME tree when asked for and stored, else null. */
  structure: unknown;
  /** The whole blob when it is small enough to read in the batch, else null (readBlob streams it). */
  bytes: Buffer | null;
}

export interface FetchBlobOptions {
  structures: boolean;
  bodies: boolean;
  inlineMax: number;
}

/** A message as FETCH reads it: its row, and its blob when that came with the row (else null). */
export interface FetchMessage extends MessageMeta {
  blob: FetchBlob | null;
}

/** A SEARCH program with sequence numbers already resolved to uids (contracts §2). */
export type SearchQuery =
  | { op: 'all' }
  | { op: 'and'; of: SearchQuery[] }
  | { op: 'or'; of: [SearchQuery, SearchQuery] }
  | { op: 'not'; of: SearchQuery }
  | { op: 'uid'; uids: Array<[number, number]> }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'header'; field: string; value: string }
  | { op: 'body' | 'text'; value: string }
  | { op: 'internaldate' | 'sentdate'; cmp: 'before' | 'on' | 'since'; date: string }
  | { op: 'size'; cmp: 'larger' | 'smaller'; bytes: number }
  | { op: 'modseq'; min: bigint };

/** The flags STORE changed, and (UNCHANGEDSINCE) the uids that failed the check. */
export type FlagResult = { changed: MessageState[]; failed: number[] } | MessageState[];

export interface ImapStore {
  listFolders(tenantId: string, mailboxId: string): Promise<FolderInfo[]>;
  folderByName(tenantId: string, mailboxId: string, name: string): Promise<FolderInfo | null>;
  createFolder(tenantId: string, mailboxId: string, name: string): Promise<FolderInfo>;
  renameFolder(tenantId: string, mailboxId: string, from: string, to: string): Promise<void>;
  deleteFolder(tenantId: string, mailboxId: string, name: string): Promise<void>;
  setSubscribed(tenantId: string, mailboxId: string, name: string, subscribed: boolean): Promise<void>;
  folderCounts(tenantId: string, folderId: string): Promise<FolderCounts>;
  snapshot(tenantId: string, folderId: string): Promise<{ folder: FolderInfo; messages: MessageState[] }>;
  changesSince(tenantId: string, folderId: string, modseq: bigint): Promise<FolderChanges>;
  /** The folder's highest modseq alone (a cheap "anything new?"); null when the folder is gone. */
  highestModseq(tenantId: string, folderId: string): Promise<bigint | null>;
  messages(tenantId: string, folderId: string, uids: number[]): Promise<MessageMeta[]>;
  /** A blob's bytes (or a range, end exclusive) in slices; `place` (from a FETCH batch) saves the lookup. */
  readBlob(
    tenantId: string,
    sha256: string,
    range?: { start: number; end: number },
    place?: BlobPlace,
  ): AsyncIterable<Buffer>;
  /**
   * FETCH: `messages` and, in the same query, the blobs (as fetchBlobs) of the first rows within
   * `blobRows` rows and `blobBytes` bytes of small messages.
   */
  fetchMessages(
    tenantId: string,
    folderId: string,
    uids: number[],
    options: FetchBlobOptions & { blobRows: number; blobBytes: number },
  ): Promise<FetchMessage[]>;
  /**
   * Sizes, cached MIME trees (with `structures`) and the bytes of blobs up to `inlineMax` (with
   * `bodies`; else only of blobs whose tree must be parsed), in one query.
   */
  fetchBlobs(tenantId: string, sha256s: string[], options: FetchBlobOptions): Promise<Map<string, FetchBlob>>;
  mimeStructure(tenantId: string, sha256: string): Promise<unknown>;
  setMimeStructure(tenantId: string, sha256: string, json: unknown): Promise<void>;
  setMimeStructures(tenantId: string, trees: Array<{ sha256: string; tree: unknown }>): Promise<void>;
  search(tenantId: string, folderId: string, query: SearchQuery): Promise<number[]>;
  /** SORT (RFC 5256): matching uids in the order of `criteria`, ties in uid order. */
  sort(tenantId: string, folderId: string, query: SearchQuery, criteria: SortCriterion[]): Promise<number[]>;
  /** THREAD (RFC 5256): what threading reads of each matching message, by uid. */
  threadMessages(tenantId: string, folderId: string, query: SearchQuery): Promise<ThreadMessage[]>;
  copy(tenantId: string, fromFolderId: string, uids: number[], toFolderId: string): Promise<CopyResult>;
  move(tenantId: string, fromFolderId: string, uids: number[], toFolderId: string): Promise<CopyResult>;
  expunge(tenantId: string, folderId: string, uids?: number[]): Promise<number[]>;
  append(req: AppendInput): Promise<{ uid: number; folderId: string; modseq: bigint }>;
  setFlags(
    tenantId: string,
    folderId: string,
    uids: number[],
    op: 'set' | 'add' | 'remove',
    flags: string[],
    unchangedSince?: bigint,
  ): Promise<FlagResult>;
}
