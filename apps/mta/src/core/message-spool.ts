import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What the session learns about a message while it streams to disk; the body is never parsed here. */
export interface SpooledMessage {
  path: string;
  /** Bytes received (dot-unstuffed), even past the size limit. */
  size: number;
  /** The header block (up to the blank line), or as much as the limit allowed. */
  header: Buffer;
  headerComplete: boolean;
  /** A line ending that is not CRLF: the SMTP smuggling check (CVE-2023-51764/5/6). */
  bareLineEnding: boolean;
  sizeExceeded: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * A pass-through that inspects DATA once as it goes by: counts bytes, keeps the header block
 * (a streaming splitter: it stops looking at the blank line), finds bare CR and bare LF, and
 * stops writing once the message is over the size limit, so an oversized message costs no disk.
 */
class DataInspector extends Transform {
  size = 0;
  bareLineEnding = false;
  headerComplete = false;
  headerBuf: Buffer = Buffer.alloc(0);
  private lastByte = -1;

  constructor(
    private readonly maxBytes: number,
    private readonly maxHeaderBytes: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.bareLineEnding) this.checkLineEndings(chunk);
    if (!this.headerComplete) this.collectHeader(chunk);
    this.lastByte = chunk[chunk.length - 1] ?? this.lastByte;
    this.size += chunk.length;
    if (this.size > this.maxBytes) return done();
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    // A message that ends in CR (the CR of the terminating CRLF is never part of DATA).
    if (this.lastByte === CR) this.bareLineEnding = true;
    done();
  }

  private checkLineEndings(chunk: Buffer): void {
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const before = i > 0 ? chunk[i - 1] : this.lastByte;
      if (before !== CR) {
        this.bareLineEnding = true;
        return;
      }
    }
    if (this.lastByte === CR && chunk[0] !== LF) this.bareLineEnding = true;
    for (let i = chunk.indexOf(CR); i !== -1; i = chunk.indexOf(CR, i + 1)) {
      if (i + 1 < chunk.length && chunk[i + 1] !== LF) {
        this.bareLineEnding = true;
        return;
      }
    }
  }

  private collectHeader(chunk: Buffer): void {
    const room = this.maxHeaderBytes - this.headerBuf.length;
    if (room <= 0) return;
    const from = Math.max(0, this.headerBuf.length - 3);
    const joined = Buffer.concat([this.headerBuf, chunk.subarray(0, room)]);
    // A message may start with the blank line (no header at all).
    const end = joined[0] === CR && joined[1] === LF ? 0 : joined.indexOf(HEADER_END, from);
    if (end === -1) {
      this.headerBuf = joined;
      return;
    }
    this.headerBuf = joined.subarray(0, end === 0 ? 0 : end + 2);
    this.headerComplete = true;
  }
}

/** Where messages wait between DATA and commit: one file each, removed when the session is done. */
export class Spool {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Streams DATA to a file; rejects when the client goes away mid-message (the file is removed). */
  async receive(stream: Readable, maxBytes: number, maxHeaderBytes: number): Promise<SpooledMessage> {
    const file = path.join(this.dir, `${Date.now()}-${randomBytes(8).toString('hex')}.eml`);
    const inspector = new DataInspector(maxBytes, maxHeaderBytes);
    try {
      await pipeline(stream, inspector, fs.createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      await this.remove(file);
      throw err;
    }
    return {
      path: file,
      size: inspector.size,
      header: inspector.headerBuf,
      headerComplete: inspector.headerComplete,
      bareLineEnding: inspector.bareLineEnding,
      sizeExceeded: inspector.size > maxBytes,
    };
  }

  async remove(file: string): Promise<void> {
    await fs.promises.rm(file, { force: true });
  }
}

/** The header block is read in the session (for hops, summary, filters); more than this is abuse. */
export const MAX_HEADER_BYTES = 256 * 1024;
