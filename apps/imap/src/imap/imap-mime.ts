import type { ImapArg, WireValue } from './imap-arg';
import type { MessageMeta, SearchQuery } from './imap-store';

/** A message for FETCH rendering (contracts §5 FetchSource). */
export interface FetchSource {
  meta: MessageMeta;
  structure(): Promise<unknown>;
  /** Bytes of the raw message; `end` exclusive. */
  read(range?: { start: number; end: number }): AsyncIterable<Buffer>;
  /** The whole message when its batch read it (small messages); sections are slices of it. */
  bytes?: Buffer | null;
}

/** What the items of a FETCH read besides the message rows. */
export interface FetchNeeds {
  structure: boolean;
  bodies: boolean;
}

export interface SearchContext {
  sequenceToUids(set: string): Array<[number, number]>;
  uidSetToRanges(set: string): Array<[number, number]>;
}

/**
 * FETCH and SEARCH as the mime helper provides them (contracts §5), behind one port so the
 * session does not depend on the renderer's file layout. Items are opaque to the session.
 */
export interface ImapMime<Items = unknown> {
  parseFetchItems(args: ImapArg[]): Items;
  fetchSetsSeen(items: Items): boolean;
  /** Whether FLAGS is among the items (else an implicit \Seen adds it, RFC 3501 §6.4.5). */
  fetchHasFlags(items: Items): boolean;
  /** Whether rendering reads the MIME tree and the message's bytes (FLAGS etc. need neither). */
  fetchNeeds(items: Items): FetchNeeds;
  renderFetch(
    items: Items,
    src: FetchSource,
    opts: { uid: boolean; modseq: boolean; utf8: boolean },
  ): Promise<WireValue[]>;
  parseMimeStructure(chunks: AsyncIterable<Buffer>): Promise<unknown>;
  /** A cached tree built by this parser version (an older one is parsed again). */
  isCurrentStructure(tree: unknown): boolean;
  parseSearch(
    args: ImapArg[],
    ctx: SearchContext,
  ): { query: SearchQuery; charset: string | null; returnOptions?: string[] };
}
