import net from 'node:net';
import tls from 'node:tls';

/** A multi-line reply: the status line, then the body as sent (dot-stuffed, CRLF), without the final ".\r\n". */
export interface MultiReply {
  status: string;
  body: Buffer;
  /** The body's lines, dot-unstuffed. */
  lines: string[];
}

/**
 * A bare POP3 client over a socket, byte-exact: pipelining in one write, STLS, over-long lines,
 * multi-line replies kept as bytes so a RETR can be compared with the stored blob.
 */
export class RawPop3 {
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(private socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.listen(socket);
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<{ client: RawPop3; greeting: string }> {
    const socket = options.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawPop3(socket);
    return { client, greeting: await client.line() };
  }

  get isClosed(): boolean {
    return this.ended;
  }

  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** One command, one status line. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.line();
  }

  /** One command with a multi-line answer (when the status is +OK). */
  async multi(line: string): Promise<MultiReply> {
    this.write(`${line}\r\n`);
    return this.readMulti();
  }

  async readMulti(): Promise<MultiReply> {
    const status = await this.line();
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0), lines: [] };
    const end = await this.until((b) => {
      if (b.subarray(0, 3).toString('latin1') === '.\r\n') return 0;
      const i = b.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 2;
    });
    const body = this.buffer.subarray(0, end);
    this.buffer = this.buffer.subarray(end + 3);
    const text = body.toString('latin1');
    const lines =
      text === ''
        ? []
        : text
            .replace(/\r\n$/, '')
            .split('\r\n')
            .map((l) => (l.startsWith('.') ? l.slice(1) : l));
    return { status, body, lines };
  }

  /** The next reply line, without CRLF. */
  async line(): Promise<string> {
    const i = await this.until((b) => b.indexOf('\r\n'));
    const text = this.buffer.subarray(0, i).toString('utf8');
    this.buffer = this.buffer.subarray(i + 2);
    return text;
  }

  /** STLS was answered +OK: the handshake, on the same socket. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Stops reading the socket: the server's writes back up (a client that never reads). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async until(find: (b: Buffer) => number, timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = find(this.buffer);
      if (at >= 0) return at;
      if (this.ended) throw new Error(`connection closed; unread: ${this.buffer.toString('latin1').slice(0, 200)}`);
      if (Date.now() > deadline) throw new Error(`timeout; unread: ${this.buffer.toString('latin1').slice(0, 200)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export function plainToken(authzid: string, authcid: string, password: string): string {
  return Buffer.from(`${authzid}\0${authcid}\0${password}`).toString('base64');
}
