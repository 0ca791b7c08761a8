// Test support: a FetchSource over a fixture file, read in small chunks so offsets cross chunk edges.
import fs from 'node:fs';
import path from 'node:path';
import type { FetchSource } from '@mailroom/imap/imap/fetch-render';
import { parseMimeStructure } from '@mailroom/imap/mime/mime-parser';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');

export async function* chunked(bytes: Buffer, size = 7): AsyncIterable<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export function fixtureBytes(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

export function sourceOf(bytes: Buffer, reads: Array<{ start: number; end: number } | undefined> = []): FetchSource {
  return {
    meta: {
      id: 'm1',
      uid: 42,
      flags: ['\\Seen', '$Forwarded'],
      modseq: 7n,
      size: bytes.length,
      receivedAt: new Date(Date.UTC(2026, 11, 2, 9, 5, 3)),
      blobSha256: 'x',
    },
    structure: () => parseMimeStructure(chunked(bytes)),
    read: (range) => {
      reads.push(range);
      return chunked(range ? bytes.subarray(range.start, range.end) : bytes, 5);
    },
  };
}
