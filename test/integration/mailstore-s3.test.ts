import { afterAll, beforeAll } from 'vitest';
import { BlobStore, useBlobStore } from '@mailroom/mailstore';
import { startLocalS3, type LocalS3 } from '@test/support/s3';
// The mail store's writer tests again, registered in this file, with BLOB_STORE=s3.
import './mailstore.test';

// Every body of mailstore.test.ts goes to an S3-compatible server on loopback (s3rver), put
// before the transaction that refers to it commits; the same assertions hold.
let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3();
  useBlobStore(s3.store());
});
afterAll(async () => {
  useBlobStore(new BlobStore());
  await s3?.close();
});
