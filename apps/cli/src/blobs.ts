import { parseArgs } from 'node:util';
import type { Config } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import {
  blobStoreFromSettings,
  moveBlobsToObjectStore,
  orphanSweepCutoff,
  sweepOrphanObjects,
} from '@mailroom/mailstore';
import type { Out } from './domains';

const MB = 1024 * 1024;

/**
 * `blobs:migrate --to s3 [--batch N] [--max N]`: message bodies from PostgreSQL to the object
 * store, with a progress line per batch. `blobs:sweep [--older-than-hours H]`: objects no row
 * refers to, older than H hours (BLOB_SWEEP_MIN_AGE_HOURS by default), deleted: the worker's
 * storage.blob-orphan-sweep does the same on a schedule. Both need S3_BUCKET (and the other S3_* settings); neither logs them.
 */
export async function blobsCommand(db: Db, config: Config, io: Out, command: string, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      to: { type: 'string' },
      batch: { type: 'string' },
      max: { type: 'string' },
      'older-than-hours': { type: 'string' },
    },
  });
  const objects = blobStoreFromSettings(config).objects;
  if (!objects) {
    io.err(
      'error: S3_BUCKET is not set (and S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY as needed)',
    );
    return 1;
  }
  if (command === 'blobs:sweep') {
    const hours = Number(values['older-than-hours'] ?? config.BLOB_SWEEP_MIN_AGE_HOURS);
    if (!Number.isFinite(hours) || hours < 0) return usageError(io, '--older-than-hours must be a number of hours');
    const done = await sweepOrphanObjects(db, objects, orphanSweepCutoff(hours), (p) =>
      io.out(`listed ${p.listed}, deleted ${p.deleted}`),
    );
    io.out(`swept: ${done.listed} objects listed, ${done.deleted} orphans deleted`);
    return 0;
  }
  if (values.to !== 's3') return usageError(io, 'blobs:migrate needs --to s3');
  const batch = Number(values.batch ?? 100);
  const max = values.max === undefined ? undefined : Number(values.max);
  if (!Number.isInteger(batch) || batch < 1) return usageError(io, '--batch must be a whole number of at least 1');
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) return usageError(io, '--max must be at least 1');
  const done = await moveBlobsToObjectStore(db, objects, {
    batch,
    max,
    onProgress: (p) => io.out(`moved ${p.moved} blobs (${(p.bytes / MB).toFixed(1)} MB), ${p.left} left in PostgreSQL`),
  });
  io.out(
    done.moved === 0 && done.left === 0
      ? 'nothing to move: every body is in S3 already'
      : `done: ${done.moved} blobs moved (${(done.bytes / MB).toFixed(1)} MB), ${done.left} left in PostgreSQL`,
  );
  return 0;
}

function usageError(io: Out, problem: string): number {
  io.err(`error: ${problem}`);
  return 2;
}
