import { hkdfSync } from 'node:crypto';

/** The SRS secret: derived from MASTER_KEY, so it survives restarts and is the same on every replica. */
export function srsKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mailroom srs v1', 32));
}
