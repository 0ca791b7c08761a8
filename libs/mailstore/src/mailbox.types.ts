import type { FolderKind } from '@mailroom/db';

/** A folder as IMAP LIST/SELECT/STATUS see it. `name` uses '/' as the hierarchy delimiter. */
export interface FolderInfo {
  id: string;
  name: string;
  kind: FolderKind;
  uidValidity: number;
  uidNext: number;
  highestModseq: bigint;
  subscribed: boolean;
}

/** STATUS and SELECT counts; hidden (legal-hold) messages are not counted. */
export interface FolderCounts {
  messages: number;
  unseen: number;
  deleted: number;
  sizeBytes: bigint;
  uidNext: number;
  uidValidity: number;
  highestModseq: bigint;
}

/** What a session keeps per message: enough for sequence numbers, FLAGS and CONDSTORE. */
export interface MessageState {
  uid: number;
  flags: string[];
  modseq: bigint;
}

/** A message for FETCH: its state plus what is read without the blob. */
export interface MessageMeta extends MessageState {
  id: string;
  size: number;
  receivedAt: Date;
  blobSha256: string;
}

/** A folder's state and its visible messages in uid order (SELECT, POP3 maildrop). */
export interface FolderSnapshot {
  folder: FolderInfo;
  messages: MessageState[];
}

/** CONDSTORE/QRESYNC resync: messages changed (or added) after a modseq, and uids expunged since. */
export interface FolderChanges {
  highestModseq: bigint;
  changed: MessageState[];
  expunged: number[];
  /**
   * False when expunges after the asked modseq were trimmed from the log (a client away longer
   * than EXPUNGE_LOG_RETENTION_DAYS): `expunged` is then partial and the session must compare
   * its uids with a snapshot (QRESYNC: answer as for an unknown modseq).
   */
  complete: boolean;
}

/** STORE: the messages whose flags changed, and (UNCHANGEDSINCE) the uids that failed the check. */
export interface FlagUpdate {
  changed: MessageState[];
  failed: number[];
}

/** COPY/MOVE (UIDPLUS COPYUID): the target's uid validity and [source uid, target uid] pairs. */
export interface CopyResult {
  uidValidity: number;
  pairs: Array<[number, number]>;
}

/** Where an object-stored blob's bytes are: its storage ('s3') and its object key. */
export interface BlobObject {
  storage: string;
  key: string;
}

/**
 * What reading a blob needs to know first: its size and, when its bytes are in the object store,
 * where. A FETCH batch has it from its query, so readBlob asks nothing more before it reads.
 */
export interface BlobPlace {
  size: number;
  /** Null when the bytes are in PostgreSQL. */
  object: BlobObject | null;
}

/** A blob as a FETCH batch reads it (MailboxReader.fetchBlobs). */
export interface FetchBlob extends BlobPlace {
  /** The cached MIME tree when it was asked for and is stored, else null. */
  structure: unknown;
  /** The whole blob when it is at most `inlineMax` bytes, else null: read it with readBlob. */
  bytes: Buffer | null;
}

/** A message as FETCH reads it: its row, and its blob when that was read with the row. */
export interface FetchMessage extends MessageMeta {
  blob: FetchBlob | null;
}

/** What MailboxReader.fetchBlobs reads of each blob besides its size. */
export interface FetchBlobOptions {
  /** The cached MIME tree. */
  structures: boolean;
  /** The bytes, when at most `inlineMax` long (without `bodies`, only of blobs with no cached tree). */
  bodies: boolean;
  inlineMax: number;
}

/** What MailboxReader.fetchMessages reads besides the rows. */
export interface FetchReadOptions extends FetchBlobOptions {
  /** Blobs of the first rows only (uid order): at most this many... */
  blobRows: number;
  /** ...while the sizes of their small messages add up to at most this. */
  blobBytes: number;
}

/** A byte range of a blob: `start` inclusive, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A SEARCH program (RFC 3501 6.4.4 / RFC 9051 6.4.4) as the IMAP parser resolves it: sequence
 * numbers and '*' already turned into uid ranges. `header` takes FROM, TO, CC, BCC, SUBJECT as
 * field names too; an empty value means "the header is present".
 */
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

/** RFC 5256 SORT keys, and DISPLAYFROM / DISPLAYTO of RFC 5957. */
export type SortKey = 'arrival' | 'cc' | 'date' | 'from' | 'size' | 'subject' | 'to' | 'displayfrom' | 'displayto';

/** One key of a SORT program; `reverse` is the REVERSE before it. */
export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

/** What THREAD (RFC 5256 section 3) needs of a message; strings already case-mapped. */
export interface ThreadMessage {
  uid: number;
  /** The Message-ID without angle brackets; null when missing or invalid. */
  messageId: string | null;
  /** References (else In-Reply-To) message ids, oldest first. */
  references: string[];
  baseSubject: string;
  isReply: boolean;
  /** The sent date (Date header, else INTERNALDATE), to the second. */
  sentAt: Date;
}
