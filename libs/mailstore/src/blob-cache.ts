import { LRUCache } from 'lru-cache';

/** Blobs larger than this are never cached: FETCH streams them in slices (BLOB_CHUNK_BYTES). */
export const BLOB_CACHE_ENTRY_MAX = 256 * 1024;

/** How long a cached body may be served after it was read (a deleted tenant's bytes age out). */
const TTL_MS = 10 * 60_000;

/** Folder uids remembered with the blob they named (about 150 bytes each). */
const UID_ENTRIES = 100_000;

export interface BlobCacheStats {
  hits: number;
  misses: number;
  bytes: number;
  entries: number;
}

/**
 * The bytes of recently read small message blobs, in this process, bounded in bytes (least
 * recently used out first) and in age. A classic IMAP server reads message files through the
 * kernel's page cache; bodies in PostgreSQL cost a round trip, base64 on both sides and a
 * socket copy per read, so the same body read again (a phone and a desktop syncing the same new
 * mail, a client that fetches BODY[] after BODY.PEEK[HEADER], POP3 after IMAP) is served from
 * here instead (docs/performance.md measures both).
 *
 * Correct because a blob is content-addressed and immutable: the key is the tenant and the
 * SHA-256 of the bytes, and a blob is only looked up after the message rows that name it were
 * read under the caller's access rules, so a hidden, expunged or foreign message is never
 * reached through the cache.
 */
export class BlobCache {
  private readonly lru: LRUCache<string, Buffer>;
  /** `tenant:folder:uid` to the SHA-256 of its blob, so FETCH can leave held bodies out of its query. */
  private readonly uids = new LRUCache<string, string>({ max: UID_ENTRIES, ttl: TTL_MS });
  private hits = 0;
  private misses = 0;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, Buffer>({
      maxSize: maxBytes,
      maxEntrySize: Math.min(BLOB_CACHE_ENTRY_MAX, maxBytes),
      sizeCalculation: (bytes) => Math.max(bytes.length, 1),
      ttl: TTL_MS,
      updateAgeOnGet: false,
    });
  }

  get(tenantId: string, sha256: string): Buffer | undefined {
    const bytes = this.lru.get(`${tenantId}:${sha256}`);
    if (bytes) this.hits++;
    else this.misses++;
    return bytes;
  }

  /**
   * Keeps `bytes` (a copy when it is a view into a larger buffer, so that one is not pinned), and
   * with `at` the folder uid that named it. The caller still checks a uid's blob against the row.
   */
  set(tenantId: string, sha256: string, bytes: Buffer, at?: { folderId: string; uid: number }): void {
    if (bytes.length > BLOB_CACHE_ENTRY_MAX) return;
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : Buffer.from(bytes);
    this.lru.set(`${tenantId}:${sha256}`, own);
    if (at) this.uids.set(`${tenantId}:${at.folderId}:${at.uid}`, sha256);
  }

  /** Counts a body the caller read from PostgreSQL after byUid had none. */
  countMiss(): void {
    this.misses++;
  }

  /** The body held for a folder uid read before (a hit), or undefined. */
  byUid(tenantId: string, folderId: string, uid: number): { sha256: string; bytes: Buffer } | undefined {
    const sha256 = this.uids.get(`${tenantId}:${folderId}:${uid}`);
    const bytes = sha256 === undefined ? undefined : this.lru.get(`${tenantId}:${sha256}`);
    if (!sha256 || !bytes) return undefined;
    this.hits++;
    return { sha256, bytes };
  }

  stats(): BlobCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.lru.calculatedSize, entries: this.lru.size };
  }
}
