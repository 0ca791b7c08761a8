import { randomHex } from './random-id';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * What the session learns about a message while it is received; the body is never parsed here.
 * A message up to `memoryBytes` stays in memory (`bytes`); a larger one streams to a spool file
 * (`path`) and is never held whole until the commit needs it.
 */
export interface SpooledMessage {
  /** The spool file, or null when the message is held in `bytes`. */
  path: string | null;
  /** The message when it is small enough to stay in memory, else null. */
  bytes: Buffer | null;
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

/**
 * Keeps the bytes in memory up to `memoryBytes`; past that it opens the spool file, writes what
 * it held and streams the rest there, so a large message costs one chunk of memory at a time.
 */
class SpoolSink extends Writable {
  private chunks: Buffer[] = [];
  private held = 0;
  private file: fs.promises.FileHandle | null = null;
  /** Set once the file was opened (so the caller removes it whatever happens). */
  opened = false;

  constructor(
    readonly path: string,
    private readonly memoryBytes: number,
  ) {
    super();
  }

  /** The whole message when it stayed in memory; null when it went to the file. */
  get bytes(): Buffer | null {
    if (this.opened) return null;
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.held);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.opened && this.held + chunk.length <= this.memoryBytes) {
      this.chunks.push(chunk);
      this.held += chunk.length;
      return done();
    }
    this.toFile(chunk).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.file) return done();
    this.file.close().then(() => done(), done);
  }

  // Runs after a normal finish too (autoDestroy): the held bytes stay for the caller.
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (err) this.chunks = [];
    const file = this.file;
    this.file = null;
    if (!file) return done(err);
    file.close().then(
      () => done(err),
      () => done(err),
    );
  }

  private async toFile(chunk: Buffer): Promise<void> {
    if (!this.file) {
      this.opened = true;
      this.file = await fs.promises.open(this.path, 'wx', 0o600);
      const held = this.chunks;
      this.chunks = [];
      for (const c of held) await writeAll(this.file, c);
    }
    await writeAll(this.file, chunk);
  }
}

async function writeAll(file: fs.promises.FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Messages up to this size stay in memory between DATA and commit (the commit holds them whole
 * anyway); 200 sessions at once hold at most 25 MB. Larger ones go to a spool file.
 */
export const SPOOL_MEMORY_BYTES = 128 * 1024;

/** Where messages wait between DATA and commit: in memory when small, else one file each, removed when the session is done. */
export class Spool {
  constructor(
    private readonly dir: string,
    private readonly memoryBytes = SPOOL_MEMORY_BYTES,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Receives DATA; rejects when the client goes away mid-message (a spool file is removed). */
  async receive(stream: Readable, maxBytes: number, maxHeaderBytes: number): Promise<SpooledMessage> {
    const file = path.join(this.dir, `${Date.now()}-${randomHex(8)}.eml`);
    const inspector = new DataInspector(maxBytes, maxHeaderBytes);
    const sink = new SpoolSink(file, this.memoryBytes);
    try {
      await pipeline(stream, inspector, sink);
    } catch (err) {
      if (sink.opened) await this.remove(file);
      throw err;
    }
    const bytes = sink.bytes;
    return {
      path: bytes ? null : file,
      bytes,
      size: inspector.size,
      header: inspector.headerBuf,
      headerComplete: inspector.headerComplete,
      bareLineEnding: inspector.bareLineEnding,
      sizeExceeded: inspector.size > maxBytes,
    };
  }

  async remove(file: string | null): Promise<void> {
    if (file) await fs.promises.rm(file, { force: true });
  }
}

/** The message's bytes as a stream (mailauth reads it so; a spooled file is never read whole). */
export function messageStream(message: SpooledMessage): Readable {
  return message.bytes ? Readable.from([message.bytes]) : fs.createReadStream(message.path!);
}

/** The header block is read in the session (for hops, summary, filters); more than this is abuse. */
export const MAX_HEADER_BYTES = 256 * 1024;
