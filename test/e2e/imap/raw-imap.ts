import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';

/** A line-level IMAP client for what real clients never send: broken commands, huge literals. */
export class RawImap {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private deflate: zlib.DeflateRaw | null = null;
  private inflateError: Error | null = null;
  closed = false;
  /** Bytes as they came off the socket (compressed, once COMPRESS is on). */
  wireBytes = 0;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  /** `localAddress`: connect from that loopback address (127.0.0.2, ...). */
  static async connect(port: number, secure = false, localAddress?: string): Promise<RawImap> {
    const tcp = net.connect({ port, host: '127.0.0.1', localAddress });
    const socket = secure ? tls.connect({ socket: tcp, rejectUnauthorized: false }) : tcp;
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawImap(socket);
  }

  /** Upgrades after a tagged OK to STARTTLS. */
  async startTls(): Promise<void> {
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.attach(secure);
  }

  /**
   * After a tagged OK to COMPRESS DEFLATE (RFC 4978): inflates what arrives, deflates what is
   * written (flushed at once). The server's bytes must be raw DEFLATE from here on, or the
   * inflater fails and the next line() throws.
   */
  startCompression(): void {
    const inflate = zlib.createInflateRaw();
    this.deflate = zlib.createDeflateRaw();
    this.deflate.on('data', (chunk: Buffer) => this.socket.write(chunk));
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    // Closed once the inflater has given up what the last packets held, not at the socket's close.
    this.socket.on('close', () => inflate.end());
    inflate.on('end', () => {
      this.closed = true;
      this.wake();
    });
    // What came with the OK is already compressed.
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    this.socket.on('data', (chunk: Buffer) => {
      this.wireBytes += chunk.length;
      inflate.write(chunk);
    });
    if (rest.length > 0) inflate.write(rest);
    inflate.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    inflate.on('error', (err) => {
      this.inflateError = err;
      this.closed = true;
      this.wake();
    });
  }

  write(data: string | Buffer): void {
    if (!this.deflate) {
      this.socket.write(data);
      return;
    }
    this.deflate.write(data);
    this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  /** The next line (without CRLF); null when the server closed the connection. */
  async line(timeoutMs = 5_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lf = this.buffer.indexOf('\n');
      if (lf >= 0) {
        const text = this.buffer.toString('utf8', 0, lf).replace(/\r$/, '');
        this.buffer = this.buffer.subarray(lf + 1);
        return text;
      }
      if (this.inflateError) throw this.inflateError;
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`no line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `tag command` and returns every line up to and including the tagged one. */
  async command(tag: string, command: string, timeoutMs = 5_000): Promise<string[]> {
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 5_000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line(timeoutMs);
      if (line === null) return lines;
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
    }
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.wireBytes += chunk.length;
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
