// An S3-compatible server for the benchmarks' --blob-store s3: s3rver (a dev dependency, pure
// JavaScript) in the bench process on a loopback port, files in a temp dir. Its CPU is the bench
// process's, not the measured app's; a real S3 or MinIO adds its own latency per request.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './env.mjs';

const require = createRequire(import.meta.url);

/** Starts s3rver with a bucket; `env` points an app at it (BLOB_STORE=s3). */
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
  return {
    minBytes: String(minBytes),
    env: {
      BLOB_STORE: 's3',
      BLOB_S3_MIN_BYTES: String(minBytes),
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'mailroom-bench',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
