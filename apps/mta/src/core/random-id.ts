import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
let pool: Buffer | null = null;
let offset = POOL_BYTES;

/**
 * `bytes` random bytes from the system's CSPRNG as hex, handed out from a pooled buffer that is
 * refilled every 4 KiB (crypto.randomUUID keeps a pool of its own the same way).
 * crypto.randomBytes pays its native call and a new buffer per id: 6.7 µs for 8 bytes here
 * against 0.5 µs, and the MTA takes two per message (queue id, spool name). No byte is handed
 * out twice.
 */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`randomHex: ${bytes} is not a byte count`);
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('hex');
  if (pool === null || offset + bytes > POOL_BYTES) {
    pool ??= Buffer.allocUnsafe(POOL_BYTES);
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
