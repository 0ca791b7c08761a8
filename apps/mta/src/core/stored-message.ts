import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { BLOB_CHUNK_BYTES, type StreamedBlob } from '@mailroom/db';
import { parseMessageDate, sortKeysOf, type MessageSummary } from '@mailroom/rules';
import type { HeaderSummary } from '@mailroom/mailstore';
import type { SpooledMessage } from './message-spool';
import { replies, smtpReply } from './smtp-reply';

/** The header fields stored on message rows. */
export function headerSummary(summary: MessageSummary): HeaderSummary {
  const from = summary.from[0];
  return {
    messageId: summary.headers.get('message-id')?.trim().slice(0, 998) ?? null,
    subject: summary.subject ? summary.subject.slice(0, 998) : null,
    fromAddress: from?.address ?? null,
    fromName: from?.name ?? null,
    toAddresses: summary.to.map((a) => a.address).slice(0, 100),
    sentAt: parseMessageDate(summary.headers.get('date')),
    sortKeys: sortKeysOf(summary),
  };
}

/**
 * The stored message in one buffer: our header fields, then the received bytes (copied from
 * memory, or read from the spool file straight into place). For a spooled message this is the
 * only time it is in memory whole (the database insert needs it).
 */
export async function readWithPrefix(message: SpooledMessage, prefix: Buffer): Promise<Buffer> {
  if (message.bytes) return Buffer.concat([prefix, message.bytes], prefix.length + message.bytes.length);
  const { size } = message;
  const file = message.path!;
  const bytes = Buffer.allocUnsafe(prefix.length + size);
  prefix.copy(bytes, 0);
  const handle = await fs.promises.open(file, 'r');
  try {
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(bytes, prefix.length + offset, size - offset, offset);
      if (bytesRead === 0) throw new Error(`spool file ${file} is shorter than the message`);
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return bytes;
}

/**
 * A spooled message larger than this is streamed to the database at the commit (a chunk at a
 * time, StreamedBlob), never held whole; a smaller one is read into one buffer, which lets it
 * take the one-statement commit.
 */
export const STREAM_TO_DB_BYTES = 1024 * 1024;

/**
 * The stored message: `prefix` (our header fields), then the received bytes, with the header
 * block replaced by `header` when one is given (a renamed forged field). Held whole up to
 * STREAM_TO_DB_BYTES or when it stayed in memory; a larger spooled one becomes a StreamedBlob
 * over the spool file, hashed here in one pass of the file. The file must outlive the commit
 * (DataReceiver removes it once the reply is decided).
 */
export async function storedBytes(
  message: SpooledMessage,
  prefix: Buffer,
  header: Buffer | null,
  streamAbove = STREAM_TO_DB_BYTES,
): Promise<Buffer | StreamedBlob> {
  if (message.path === null || message.size <= streamAbove) {
    const bytes = await readWithPrefix(message, prefix);
    if (!header) return bytes;
    return Buffer.concat([prefix, header, bytes.subarray(prefix.length + message.header.length)]);
  }
  const file = message.path;
  const head = header ? Buffer.concat([prefix, header]) : prefix;
  const start = header ? message.header.length : 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (start >= message.size) return;
    const stream = fs.createReadStream(file, { start, end: message.size - 1, highWaterMark: BLOB_CHUNK_BYTES });
    for await (const chunk of stream) yield chunk as Buffer;
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of chunks()) {
    hash.update(chunk);
    size += chunk.length;
  }
  if (size !== head.length + message.size - start) throw new Error(`spool file ${file} is shorter than the message`);
  return { size, sha256: hash.digest('hex'), chunks };
}

/**
 * The checks on the received bytes both edges make before anything else: size, bare line
 * endings (nothing we store or relay may carry a line ending another server reads differently:
 * SMTP smuggling) and a header block past the limit.
 */
export function refuseMalformed(message: SpooledMessage, maxHeaderBytes: number): void {
  if (message.sizeExceeded) throw smtpReply(552, '5.3.4', 'Message size exceeds fixed maximum message size');
  if (message.bareLineEnding) throw replies.bareLineEnding();
  if (!message.headerComplete && message.size > maxHeaderBytes) throw replies.headerTooLong();
}
