import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/**
 * COMPRESS=DEFLATE (RFC 4978) sizes. Memory is what matters: an idle session keeps both zlib
 * states for its whole life.
 * - Outgoing: windowBits 11 (2 KiB window) and memLevel 4 cost about 16 KiB of zlib state
 *   (zlib's formula: 2^(windowBits+2) + 2^(memLevel+9)) instead of 256 KiB for the defaults
 *   (15, 8). IMAP replies repeat within a few lines (`* n FETCH (UID n FLAGS (...))`), so a
 *   small window loses little.
 * - Incoming: windowBits 15 is forced on us: raw DEFLATE carries no window size and the client
 *   picks its own (imapflow, Thunderbird: 32 KiB); a smaller inflate window would fail on its
 *   back-references. zlib allocates that 32 KiB window only when data arrives, and the kernel
 *   maps its pages only as they fill.
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
  private readonly output: zlib.DeflateRaw = zlib.createDeflateRaw(DEFLATE_OPTIONS);
  private unflushed = false;

  constructor(socket: Duplex, pending: Buffer) {
    if (pending.length > 0) this.input.write(pending);
    // pipe() keeps backpressure both ways: a session that stops reading pauses the socket, a
    // client that stops reading makes write() return false.
    socket.pipe(this.input);
    this.output.pipe(socket);
    // A client sending garbage, or a socket gone: free the zlib state at once (the reader then
    // sees the inflater close and the session ends).
    this.input.on('error', () => socket.destroy());
    this.output.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.input.destroy();
      this.output.destroy();
    });
  }

  /** Like socket.write: false means wait for 'drain' (on `drainable`). */
  write(bytes: Buffer): boolean {
    this.unflushed = true;
    return this.output.write(bytes);
  }

  get drainable(): zlib.DeflateRaw {
    return this.output;
  }

  /** Z_SYNC_FLUSH of what was written since the last flush, so no reply waits in zlib. */
  flush(): void {
    // A flush with nothing new would still send an empty block: skip it.
    if (!this.unflushed || this.output.destroyed) return;
    this.unflushed = false;
    this.output.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  /** Z_FINISH; the pipe then ends the socket. */
  end(): void {
    this.output.end();
  }
}
