import type { FetchNeeds, FetchSource, ImapMime } from './imap-mime';
import type { FetchBlob, FetchMessage, ImapStore, MessageMeta } from './imap-store';

/**
 * Messages up to this size are read with their batch, in one query; larger ones are streamed in
 * the store's slices, so a large message is never whole in memory.
 */
export const FETCH_INLINE_MAX = 256 * 1024;
/** A batch holds at most this many messages and this many bytes of small messages. */
export const BATCH_MESSAGES = 100;
export const BATCH_INLINE_BYTES = 1024 * 1024;

/** The messages of a FETCH, with the blobs of the first batch in the same query. */
export function readFetchMessages(
  store: ImapStore,
  tenantId: string,
  folderId: string,
  uids: number[],
  needs: FetchNeeds,
): Promise<FetchMessage[]> {
  if (uids.length === 0) return Promise.resolve([]);
  const reads = needs.structure || needs.bodies;
  return store.fetchMessages(tenantId, folderId, uids, {
    structures: needs.structure,
    bodies: needs.bodies,
    inlineMax: FETCH_INLINE_MAX,
    blobRows: reads ? BATCH_MESSAGES : 0,
    blobBytes: BATCH_INLINE_BYTES,
  });
}

/** Splits the messages of a FETCH into batches (uid order kept) that bound the bytes held at once. */
export function fetchBatches<T extends MessageMeta>(metas: T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const meta of metas) {
    const inline = meta.size <= FETCH_INLINE_MAX ? meta.size : 0;
    if (current.length > 0 && (current.length >= BATCH_MESSAGES || bytes + inline > BATCH_INLINE_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(meta);
    bytes += inline;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Object-stored (S3) bodies of a batch read at once, at most this many GETs in flight: a GET is
 * a round trip (1-2 ms to MinIO on a LAN, 10-30 ms to S3), which one-after-another reads paid in
 * full for every message; more at once adds little once the round trips overlap, and each one
 * holds a socket of the client's pool and up to FETCH_INLINE_MAX bytes.
 */
export const OBJECT_READS_AT_ONCE = 8;

/**
 * The blobs of one FETCH batch, read in one query (sizes, where each is, cached MIME trees when
 * the items need them, bytes of the small ones in PostgreSQL), and the sources the renderer
 * reads them through. The small bodies in the object store that the items need are read whole,
 * OBJECT_READS_AT_ONCE at a time, started in uid order, while the replies go out in order; larger ones
 * are streamed when their turn comes. Trees parsed for lack of a cached one are stored together
 * by saveStructures.
 */
export class FetchBatch {
  private readonly trees = new Map<string, Promise<unknown>>();
  private readonly parsed = new Map<string, unknown>();

  private constructor(
    private readonly store: ImapStore,
    private readonly mime: ImapMime,
    private readonly tenantId: string,
    private readonly blobs: Map<string, FetchBlob>,
    private readonly withStructures: boolean,
    private readonly objects: Map<string, Promise<Buffer>>,
  ) {}

  /** The batch's blobs: those read with the rows, the others in one query; starts the object reads. */
  static async load(
    store: ImapStore,
    mime: ImapMime,
    tenantId: string,
    messages: FetchMessage[],
    needs: FetchNeeds,
  ): Promise<FetchBatch> {
    const blobs = new Map<string, FetchBlob>();
    const structures = needs.structure;
    // FLAGS, UID...: nothing to read (a source still reads on demand).
    if (!structures && !needs.bodies) return new FetchBatch(store, mime, tenantId, blobs, false, new Map());
    for (const m of messages) if (m.blob) blobs.set(m.blobSha256, m.blob);
    const missing = messages.filter((m) => !blobs.has(m.blobSha256)).map((m) => m.blobSha256);
    if (missing.length > 0) {
      const options = { structures, bodies: needs.bodies, inlineMax: FETCH_INLINE_MAX };
      const read = await store.fetchBlobs(tenantId, missing, options);
      for (const [sha, blob] of read) blobs.set(sha, blob);
    }
    // As the batch query inlines a small body in PostgreSQL: when the items read bodies, or
    // when there is no tree to render from without parsing one.
    const wanted = [...blobs].filter(
      ([, b]) =>
        b.object &&
        b.bytes === null &&
        b.size <= FETCH_INLINE_MAX &&
        (needs.bodies || !(structures && b.structure && mime.isCurrentStructure(b.structure))),
    );
    const objects = readInOrder(wanted, OBJECT_READS_AT_ONCE, ([sha, b]) =>
      collect(store.readBlob(tenantId, sha, undefined, b)),
    );
    return new FetchBatch(store, mime, tenantId, blobs, structures, objects);
  }

  /** The message's source; waits for its body when the batch is reading it from the object store. */
  async source(meta: MessageMeta): Promise<FetchSource> {
    const sha = meta.blobSha256;
    const blob = this.blobs.get(sha);
    const bytes = blob?.bytes ?? (await this.objects.get(sha)) ?? null;
    return {
      meta,
      bytes,
      read: (range) => (bytes ? slice(bytes, range) : this.store.readBlob(this.tenantId, sha, range, blob)),
      structure: () => {
        let tree = this.trees.get(sha);
        if (!tree) this.trees.set(sha, (tree = this.structure(sha, bytes)));
        return tree;
      },
    };
  }

  /** Stores the trees this batch had to parse, in one statement. */
  async saveStructures(): Promise<void> {
    if (this.parsed.size === 0) return;
    const trees = [...this.parsed].map(([sha256, tree]) => ({ sha256, tree }));
    this.parsed.clear();
    await this.store.setMimeStructures(this.tenantId, trees);
  }

  private async structure(sha: string, bytes: Buffer | null): Promise<unknown> {
    const cached = this.withStructures
      ? this.blobs.get(sha)?.structure
      : await this.store.mimeStructure(this.tenantId, sha);
    if (cached && this.mime.isCurrentStructure(cached)) return cached;
    const source = bytes ? once(bytes) : this.store.readBlob(this.tenantId, sha, undefined, this.blobs.get(sha));
    const tree = await this.mime.parseMimeStructure(source);
    this.parsed.set(sha, tree);
    return tree;
  }
}

/**
 * `read` of each entry, at most `limit` under way: each one that settles starts the next entry
 * in order, so the reads run ahead of the replies, which are written in that order. The results
 * by key; a failure is seen by whoever awaits that key (the message's reply), and is never an
 * unhandled rejection before then.
 */
function readInOrder<T>(
  entries: Array<[string, T]>,
  limit: number,
  read: (entry: [string, T]) => Promise<Buffer>,
): Map<string, Promise<Buffer>> {
  const starts: Array<() => void> = [];
  const results = new Map<string, Promise<Buffer>>();
  for (const entry of entries) {
    const result = new Promise<void>((start) => starts.push(start)).then(() => read(entry));
    result.catch(ignore).finally(next).catch(ignore);
    results.set(entry[0], result);
  }
  let started = 0;
  function next(): void {
    starts[started++]?.();
  }
  for (let i = 0; i < limit; i++) next();
  return results;
}

function ignore(): void {}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A range of an in-memory blob, clamped to it as the store's readBlob clamps. */
async function* slice(bytes: Buffer, range?: { start: number; end: number }): AsyncIterable<Buffer> {
  const start = Math.min(Math.max(range?.start ?? 0, 0), bytes.length);
  const end = Math.min(Math.max(range?.end ?? bytes.length, start), bytes.length);
  if (end > start) yield bytes.subarray(start, end);
}

async function* once(bytes: Buffer): AsyncIterable<Buffer> {
  yield bytes;
}
