import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/**
 * COMPRESS=DEFLATE (RFC 4978) sizes. Memory is what matters: thousands of sessions sit idle.
 * - Outgoing: windowBits 11 (2 KiB window) and memLevel 4 cost about 16 KiB of zlib state
 *   (zlib's formula: 2^(windowBits+2) + 2^(memLevel+9)) instead of 256 KiB for the defaults
 *   (15, 8). IMAP replies repeat within a few lines (`* n FETCH (UID n FLAGS (...))`), so a
 *   small window loses little. And the deflater lives only while a burst of replies is being
 *   written: see release().
 * - Incoming: windowBits 15 is forced on us: raw DEFLATE carries no window size and the client
 *   picks its own (imapflow, Thunderbird: 32 KiB); a smaller inflate window would fail on its
 *   back-references, and the client's history must be kept for the whole session.
 * - chunkSize: Node allocates one output buffer of this size per stream up front.
 */
const DEFLATE_OPTIONS: zlib.ZlibOptions = { windowBits: 11, memLevel: 4, chunkSize: 4096 };
const INFLATE_OPTIONS: zlib.ZlibOptions = { windowBits: 15, chunkSize: 2048 };

/**
 * DEFLATE between a socket (plain or TLS) and the session: `input` is what the client sent,
 * inflated; `write` deflates onto the socket. `pending` is what the client sent after COMPRESS
 * before we switched (already compressed): it is inflated first.
 */
export class DeflateLayer {
  readonly input: zlib.InflateRaw = zlib.createInflateRaw(INFLATE_OPTIONS);
  private output: zlib.DeflateRaw | null = null;
  private unflushed = false;
  private ended = false;

  constructor(
    private readonly socket: Duplex,
    pending: Buffer,
  ) {
    if (pending.length > 0) this.input.write(pending);
    // pipe() keeps backpressure: a session that stops reading pauses the socket.
    socket.pipe(this.input);
    // A client sending garbage, or a socket gone: free the zlib state at once (the reader then
    // sees the inflater close and the session ends).
    this.input.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.input.destroy();
      this.output?.destroy();
    });
  }

  /** Like socket.write: false means wait for 'drain' on `drainable`. */
  write(bytes: Buffer): boolean {
    this.unflushed = true;
    return this.deflater().write(bytes);
  }

  get drainable(): zlib.DeflateRaw {
    return this.deflater();
  }

  /** Z_SYNC_FLUSH of what was written since the last flush, so no reply waits in zlib. */
  flush(): void {
    const output = this.output;
    if (!this.unflushed || !output || output.destroyed) return;
    this.unflushed = false;
    output.flush(zlib.constants.Z_SYNC_FLUSH, () => this.release(output));
  }

  /** Z_FINISH; then the socket ends. */
  end(): void {
    this.ended = true;
    const output = this.output;
    if (!output) {
      this.socket.end();
      return;
    }
    output.once('end', () => this.socket.end());
    output.end();
  }

  /**
   * After a sync flush the stream is on a block boundary with no final block sent: a new
   * deflater's blocks continue it for the client's inflater (they only refer back within
   * themselves). So an idle session keeps no deflate state; the next burst makes a new one.
   * Only when everything went to the socket and nothing was written since.
   */
  private release(output: zlib.DeflateRaw): void {
    if (output !== this.output || this.unflushed || this.ended) return;
    if (output.readableLength > 0 || output.writableLength > 0) return;
    this.output = null;
    output.unpipe(this.socket);
    output.destroy();
  }

  private deflater(): zlib.DeflateRaw {
    if (this.output) return this.output;
    const output = zlib.createDeflateRaw(DEFLATE_OPTIONS);
    output.on('error', () => this.socket.destroy());
    output.pipe(this.socket, { end: false });
    this.output = output;
    return output;
  }
}
