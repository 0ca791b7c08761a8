import { blobSize, storeBlob, uploadStreamedBlob, type PrismaClient, type StreamedBlob } from '@mailroom/db';
import { holdObjectBlob } from './blob-object.repository';
import type { BlobObject, ByteRange } from './mailbox.types';
import { S3ObjectStore, type ObjectStore, type S3Settings } from './object-store';
import type { StoreTx } from './types';

/** The settings of the blob store (libs/config: BLOB_STORE, BLOB_S3_MIN_BYTES, S3_*). */
export interface BlobStoreSettings {
  BLOB_STORE: 'db' | 's3';
  BLOB_S3_MIN_BYTES: number;
  S3_ENDPOINT?: string;
  S3_REGION: string;
  S3_BUCKET?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_FORCE_PATH_STYLE: boolean;
}

/** The object key of a blob: content-addressed per tenant, so a second put is the same bytes. */
export function objectKey(tenantId: string, sha256: string): string {
  return `${tenantId}/${sha256}`;
}

/**
 * Where a blob row says its bytes are: null for 'db', else its storage and key (a row written
 * without a key has the content-addressed one).
 */
export function objectOf(
  tenantId: string,
  sha256: string,
  row: { storage: string; storage_key: string | null },
): BlobObject | null {
  return row.storage === 'db' ? null : { storage: row.storage, key: row.storage_key ?? objectKey(tenantId, sha256) };
}

/**
 * Where message bodies are written and read from. Two backends: PostgreSQL (message_blobs.bytes,
 * the default) and an S3-compatible object store. Every blob row says where its bytes are
 * (`storage` 'db' or 's3'), so reads follow the row whatever the store writes now: a store
 * configured for 'db' still reads the bodies moved to S3 when it has `objects`.
 *
 * The write rule for 's3' (docs/scaling.md section 5): in the writer's transaction the blob row is
 * inserted or locked first, then the object is put, then the transaction goes on and commits. The
 * object is acknowledged before the commit, so a committed reference always has its bytes; and
 * the row lock is what blob GC respects (it deletes rows with SKIP LOCKED and their objects
 * before it commits), so GC never deletes an object a writer has just put.
 */
export class BlobStore {
  constructor(
    /** The object store, when one is configured (for writing, reading, or both). */
    readonly objects: ObjectStore | null = null,
    /** Where new bodies of at least `minBytes` go; smaller ones always stay in PostgreSQL. */
    readonly writeTo: 'db' | 's3' = 'db',
    readonly minBytes = 0,
  ) {
    if (writeTo === 's3' && !objects) throw new Error("blob store 's3' needs an object store");
  }

  /** Whether a new body of `size` bytes goes to the object store. */
  external(size: number): boolean {
    return this.writeTo === 's3' && size >= this.minBytes;
  }

  /**
   * Stores a blob in the caller's transaction (see storeBlob) and, for an object-stored one, puts
   * its object before returning. A StreamedBlob must have been uploaded first (upload).
   */
  async keep(tx: StoreTx, blob: { tenantId: string; sha256: string; bytes: Uint8Array | StreamedBlob }) {
    if (!this.external(blobSize(blob.bytes)) || !(blob.bytes instanceof Uint8Array)) return storeBlob(tx, blob);
    const key = objectKey(blob.tenantId, blob.sha256);
    const held = await holdObjectBlob(tx, {
      tenantId: blob.tenantId,
      sha256: blob.sha256,
      size: blob.bytes.length,
      key,
    });
    if (held === 's3') {
      const bytes = Buffer.isBuffer(blob.bytes) ? blob.bytes : Buffer.from(blob.bytes);
      await this.objects!.put(key, bytes);
    }
  }

  /**
   * A message too large to hold whole, before the delivery's transaction (uploadStreamedBlob):
   * in PostgreSQL a chunk at a time, or to the object store as one streamed put inside a short
   * transaction that holds the row, so GC cannot take the row between the put and its commit.
   */
  async upload(prisma: PrismaClient, tenantId: string, blob: StreamedBlob): Promise<void> {
    if (!this.external(blob.size)) return uploadStreamedBlob(prisma, tenantId, blob);
    const key = objectKey(tenantId, blob.sha256);
    await prisma.$transaction(
      async (tx) => {
        const held = await holdObjectBlob(tx, { tenantId, sha256: blob.sha256, size: blob.size, key });
        if (held === 's3') await this.objects!.put(key, blob);
      },
      { timeout: 300_000, maxWait: 10_000 },
    );
  }

  /**
   * The bytes of an object-stored blob of `size` bytes (or `range`, clamped to the size) in
   * slices of `sliceBytes`: one ranged GET, streamed, never the whole object in memory. The
   * caller knows where the object is (its row, read with the messages): no query here.
   */
  async *readObject(
    object: BlobObject,
    size: number,
    range: ByteRange | undefined,
    sliceBytes: number,
  ): AsyncIterable<Buffer> {
    const start = Math.min(Math.max(range?.start ?? 0, 0), size);
    const end = Math.min(Math.max(range?.end ?? size, start), size);
    if (end <= start) return;
    // The whole object needs no Range header (a plain GET, answered 200, not 206).
    const stream = this.objectsFor(object.storage).read(
      object.key,
      start === 0 && end === size ? undefined : { start, end },
    );
    yield* slices(stream, sliceBytes);
  }

  /** A whole object-stored blob, for readers that need it whole (DKIM signing, MIME parsing). */
  getObject(storage: string, key: string): Promise<Buffer> {
    return this.objectsFor(storage).get(key);
  }

  private objectsFor(storage: string): ObjectStore {
    if (storage !== 's3') throw new Error(`blob storage '${storage}' is not an object store`);
    if (!this.objects) throw new Error('a blob is stored in S3 and no object store is configured (S3_BUCKET)');
    return this.objects;
  }
}

/**
 * The chunks of `stream` as slices of exactly `size` bytes (the last one shorter), as the
 * database path reads them: readers see the same slices from either backend, and at most one
 * slice (plus one network chunk) is held at a time.
 */
async function* slices(stream: AsyncIterable<Buffer>, size: number): AsyncIterable<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (let chunk of stream) {
    while (held + chunk.length >= size) {
      const take = size - held;
      parts.push(chunk.subarray(0, take));
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      chunk = chunk.subarray(take);
      parts = [];
      held = 0;
    }
    if (chunk.length > 0) {
      parts.push(chunk);
      held += chunk.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

let current = new BlobStore();

/** The process's blob store: PostgreSQL only until an app configures another (useBlobStore). */
export function blobStore(): BlobStore {
  return current;
}

/** Sets the process's blob store (each app's start-up, from config; tests). Returns the old one. */
export function useBlobStore(store: BlobStore): BlobStore {
  const previous = current;
  current = store;
  return previous;
}

/** The blob store `settings` describe: an S3 client whenever S3_BUCKET is set. */
export function blobStoreFromSettings(settings: BlobStoreSettings): BlobStore {
  const objects = settings.S3_BUCKET ? new S3ObjectStore(s3Settings(settings)) : null;
  return new BlobStore(objects, settings.BLOB_STORE, settings.BLOB_S3_MIN_BYTES);
}

/** Configures the process's blob store from its settings (every app at start-up). */
export function configureBlobStore(settings: BlobStoreSettings): BlobStore {
  const store = blobStoreFromSettings(settings);
  useBlobStore(store);
  return store;
}

function s3Settings(s: BlobStoreSettings): S3Settings {
  return {
    endpoint: s.S3_ENDPOINT,
    region: s.S3_REGION,
    bucket: s.S3_BUCKET!,
    accessKeyId: s.S3_ACCESS_KEY_ID,
    secretAccessKey: s.S3_SECRET_ACCESS_KEY,
    forcePathStyle: s.S3_FORCE_PATH_STYLE,
  };
}
