import type { Duplex } from 'node:stream';

/** The socket was closed or timed out while a read was waiting. */
export class ReadClosed extends Error {
  constructor(readonly reason: 'closed' | 'timeout') {
    super(reason);
    this.name = 'ReadClosed';
  }
}

/** A line longer than the limit: the reader skipped it to its end. */
export interface LongLine {
  tooLong: true;
  head: Buffer;
}

/**
 * Pull-based reading of a socket: it is paused except while a read waits for bytes, so a
 * client that pipelines thousands of commands fills only the kernel buffers, and one command
 * at a time is taken from them (backpressure, no per-session queue in memory).
 */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(private stream: Duplex) {
    this.attach(stream);
  }

  /** After STARTTLS: read from the TLS socket; plaintext buffered before it is dropped (RFC 9051 §6.2.1). */
  replace(stream: Duplex): void {
    this.stream = stream;
    this.buf = Buffer.alloc(0);
    this.attach(stream);
  }

  /** COMPRESS: bytes already read past the command belong to the compressed stream; hand them over. */
  take(): Buffer {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }

  get buffered(): number {
    return this.buf.length;
  }

  /** The next line without its CRLF, or a LongLine after skipping one longer than `max`. */
  async line(max: number, deadline: number): Promise<Buffer | LongLine> {
    let scanned = 0;
    let head: Buffer | null = null;
    for (;;) {
      const lf = this.buf.indexOf(0x0a, scanned);
      if (lf >= 0) {
        if (lf > max) head ??= Buffer.from(this.buf.subarray(0, 256));
        const line = this.buf.subarray(0, lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf);
        this.buf = this.buf.subarray(lf + 1);
        if (head) return { tooLong: true, head };
        return Buffer.from(line);
      }
      if (this.buf.length > max) {
        // Keep the start for the tag, drop the rest until the line ends.
        head ??= Buffer.from(this.buf.subarray(0, 256));
        this.buf = Buffer.alloc(0);
      }
      scanned = this.buf.length;
      await this.more(deadline);
    }
  }

  /** Exactly n bytes (a literal), collected in chunks. */
  async bytes(n: number, deadline: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let need = n;
    for (;;) {
      const take = Math.min(need, this.buf.length);
      if (take > 0) {
        parts.push(Buffer.from(this.buf.subarray(0, take)));
        this.buf = this.buf.subarray(take);
        need -= take;
      }
      if (need === 0) return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      await this.more(deadline);
    }
  }

  private more(deadline: number): Promise<void> {
    if (this.ended) return Promise.reject(new ReadClosed('closed'));
    return new Promise<void>((resolve, reject) => {
      const ms = Math.max(0, deadline - Date.now());
      const timer = setTimeout(() => {
        this.wake = null;
        this.stream.pause();
        reject(new ReadClosed('timeout'));
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        if (this.ended && this.buf.length === 0) reject(new ReadClosed('closed'));
        else resolve();
      };
      this.stream.resume();
    });
  }

  private attach(stream: Duplex): void {
    stream.pause();
    stream.on('data', (chunk: Buffer) => {
      if (stream !== this.stream) return;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      stream.pause();
      this.wake?.();
    });
    const end = () => {
      if (stream !== this.stream) return;
      this.ended = true;
      this.wake?.();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.on('error', end);
  }
}
