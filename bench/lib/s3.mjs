// An S3-compatible server for the benchmarks' --blob-store s3: s3rver (a dev dependency, pure
// JavaScript) in the bench process on a loopback port, files in a temp dir. Its CPU is the bench
// process's, not the measured app's; a real S3 or MinIO adds its own latency per request.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './env.mjs';
import { root } from './report.mjs';

const require = createRequire(import.meta.url);

/**
 * Starts s3rver with a bucket; `env` points an app at it (BLOB_STORE=s3), `settings` is the same
 * as libs/mailstore's BlobStoreSettings (for blobStoreFromSettings in the bench process).
 */
export async function startBenchS3(minBytes = '0') {
  const S3rver = require('s3rver');
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-s3-'));
  const port = await freePort();
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: 'mailroom-bench' }],
  });
  await server.run();
  const settings = {
    BLOB_STORE: 's3',
    BLOB_S3_MIN_BYTES: Number(minBytes),
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_REGION: 'us-east-1',
    S3_BUCKET: 'mailroom-bench',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: true,
  };
  return {
    minBytes: String(minBytes),
    settings,
    env: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])),
    /**
     * Moves every body of the database at `url` to this bucket with the use case of
     * `npm run cli -- blobs:migrate --to s3` (moveBlobsToObjectStore, 100 per transaction: it
     * moves every body, whatever BLOB_S3_MIN_BYTES says), then VACUUM (FREEZE, ANALYZE)
     * message_blobs as a bulk load ends (each moved row left a dead version). Returns the blobs
     * in each storage afterwards: { s3: { blobs, bytes }, db: ... }.
     */
    async moveBodies(url, { batch = 100 } = {}) {
      const { createPrismaClient } = require(path.join(root, 'dist/libs/db/src/index.js'));
      const { blobStoreFromSettings, moveBlobsToObjectStore } = require(
        path.join(root, 'dist/libs/mailstore/src/index.js'),
      );
      const prisma = createPrismaClient({ url, poolSize: 2, applicationName: 'mailroom-bench-migrate' });
      const objects = blobStoreFromSettings(settings).objects;
      try {
        await moveBlobsToObjectStore(prisma, objects, { batch });
      } finally {
        objects.close();
        await prisma.$disconnect();
      }
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('VACUUM (FREEZE, ANALYZE) message_blobs');
        const { rows } = await client.query(
          `SELECT storage, count(*)::int AS blobs, COALESCE(sum(size), 0)::float8 AS bytes
           FROM message_blobs GROUP BY storage`,
        );
        return Object.fromEntries(rows.map((r) => [r.storage, { blobs: r.blobs, bytes: r.bytes }]));
      } finally {
        await client.end();
      }
    },
    async close() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
