import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { blobStoreFromSettings, type BlobStore, type BlobStoreSettings, type S3ObjectStore } from '@mailroom/mailstore';
import { freePort } from '@test/support/processes';

export const S3_BUCKET = 'mailroom-test';

/** An S3-compatible server in this process (s3rver, files in a temp dir) on a loopback port. */
export interface LocalS3 {
  port: number;
  /** The environment that points an app at it (BLOB_STORE=s3 and the S3_* settings). */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** A blob store on it, as an app configures one from `env`. */
  store(overrides?: Partial<BlobStoreSettings>): BlobStore;
  /** Keys of the objects in the bucket, sorted. */
  keys(): Promise<string[]>;
  /** Sets an object's last-modified time (s3rver reports its file's mtime), to age it. */
  backdate(key: string, to: Date): void;
  /** Stops the server (the port then refuses connections); `start` brings it back with its data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalS3(): Promise<LocalS3> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-s3-'));
  const port = await freePort();
  const make = () =>
    new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: S3_BUCKET }] });
  let server: S3rver | null = make();
  await server.run();
  const env = (overrides: Record<string, string> = {}) => ({
    BLOB_STORE: 's3',
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_REGION: 'us-east-1',
    S3_BUCKET,
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    ...overrides,
  });
  const settings = (): BlobStoreSettings => ({
    BLOB_STORE: 's3',
    BLOB_S3_MIN_BYTES: 0,
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_REGION: 'us-east-1',
    S3_BUCKET,
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: true,
  });
  const lister = blobStoreFromSettings(settings()).objects as S3ObjectStore;
  return {
    port,
    env,
    store: (overrides = {}) => blobStoreFromSettings({ ...settings(), ...overrides }),
    async keys() {
      const keys: string[] = [];
      for await (const o of lister.list()) keys.push(o.key);
      return keys.sort();
    },
    backdate(key, to) {
      // s3rver's file store keeps an object at <bucket>/<key>._S3rver_object.
      fs.utimesSync(path.join(directory, S3_BUCKET, `${key}._S3rver_object`), to, to);
    },
    async stop() {
      // Like a crash of the store: open keep-alive connections are cut too, not drained.
      const closing = server?.close();
      server?.httpServer?.closeAllConnections();
      await closing;
      server = null;
    },
    async start() {
      server = make();
      await server.run();
    },
    async close() {
      await server?.close();
      lister.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
