// Copy of the SearchQuery AST of contracts §2 (owner: store, exported from @mailroom/mailstore there);
// kept here until the store branch exports it, then this file re-exports that one.

/** A SEARCH as the store evaluates it: uids already resolved from sequence numbers and '*'. */
export type SearchQuery =
  | { op: 'all' }
  | { op: 'and'; of: SearchQuery[] }
  | { op: 'or'; of: [SearchQuery, SearchQuery] }
  | { op: 'not'; of: SearchQuery }
  /** Inclusive ranges. */
  | { op: 'uid'; uids: Array<[number, number]> }
  /** \Seen, keywords... */
  | { op: 'flag'; flag: string; set: boolean }
  /** FROM, TO, CC, BCC, SUBJECT as field names too; '' value = header present. */
  | { op: 'header'; field: string; value: string }
  | { op: 'body' | 'text'; value: string }
  /** date is YYYY-MM-DD. */
  | { op: 'internaldate' | 'sentdate'; cmp: 'before' | 'on' | 'since'; date: string }
  | { op: 'size'; cmp: 'larger' | 'smaller'; bytes: number }
  | { op: 'modseq'; min: bigint };

/** The message fields FETCH needs (contracts §2 `MessageMeta`, structurally the same). */
export interface MessageMeta {
  id: string;
  uid: number;
  flags: string[];
  modseq: bigint;
  size: number;
  receivedAt: Date;
  blobSha256: string;
}
