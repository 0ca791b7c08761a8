import { once } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';
import { drained } from '../socket-drain';

/** What a session reads: a command line, or word that one was longer than the limit. */
export type InputLine = { kind: 'line'; text: string } | { kind: 'too-long' };

/**
 * One client socket: lines in, replies out, with backpressure both ways. One command runs at
 * a time and the socket is paused while it does (RFC 2449 PIPELINING: a client may send many
 * commands, the server answers them in order), so a client that pipelines thousands of
 * commands or never reads its replies holds at most one chunk here and the kernel's buffers.
 */
export class Pop3Connection {
  private socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private discarding = false;
  private busy = false;
  private upgrading = false;
  private closed = false;
  private handler: (line: InputLine) => Promise<void> = () => Promise.resolve();
  private timeoutHandler: () => void = () => undefined;
  readonly remoteIp: string;

  constructor(
    socket: net.Socket,
    public secure: boolean,
    private readonly secureContext: tls.SecureContext,
    private readonly maxLineBytes: number,
    /** The client's address: the socket's peer, or what a PROXY header named. */
    remoteIp: string,
    private readonly onClose: () => void,
  ) {
    this.socket = socket;
    this.remoteIp = remoteIp.replace(/^::ffff:/, '');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A command is running (its reply may be half sent). */
  get isBusy(): boolean {
    return this.busy;
  }

  start(handler: (line: InputLine) => Promise<void>, onTimeout: () => void): void {
    this.handler = handler;
    this.timeoutHandler = onTimeout;
    this.attach(this.socket);
  }

  setIdleTimeout(ms: number): void {
    this.socket.setTimeout(ms);
  }

  /** One reply line; waits while the client is not reading (the socket's buffer is full). */
  async writeLine(line: string): Promise<void> {
    await this.write(Buffer.from(`${line}\r\n`, 'utf8'));
  }

  async write(bytes: Buffer): Promise<void> {
    if (this.closed) return;
    if (!this.socket.write(bytes)) {
      await drained(this.socket);
    }
  }

  /**
   * RFC 2595 section 4: after "+OK" the TLS handshake starts at once. Whatever the client sent
   * after STLS in plaintext is dropped, never run inside the TLS session (command injection).
   */
  async startTls(okLine: string, handshakeMs: number): Promise<void> {
    const plain = this.socket;
    this.upgrading = true;
    this.buffer = Buffer.alloc(0);
    this.discarding = false;
    plain.removeAllListeners('data');
    plain.removeAllListeners('timeout');
    plain.removeAllListeners('close');
    plain.write(`${okLine}\r\n`);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.secureContext });
    secure.on('error', () => secure.destroy());
    secure.once('close', () => this.closeNow());
    this.socket = secure;
    // The plain socket's idle timer is gone: a client that sends STLS and then nothing would
    // otherwise hold the connection for ever.
    const timer = setTimeout(() => secure.destroy(), handshakeMs);
    try {
      await Promise.race([
        once(secure, 'secure'),
        once(secure, 'close').then(() => Promise.reject(new Error('closed during TLS handshake'))),
      ]);
    } catch {
      this.closeNow();
      return;
    } finally {
      clearTimeout(timer);
    }
    secure.setTimeout(plain.timeout ?? 0);
    this.secure = true;
    this.upgrading = false;
    this.attach(secure);
  }

  /** Sends a last line (when given) and closes. */
  async end(line?: string): Promise<void> {
    if (this.closed) return;
    if (line) this.socket.write(`${line}\r\n`);
    this.socket.end();
    this.closed = true;
    // A client that never reads its last replies does not keep the socket open.
    setTimeout(() => this.socket.destroy(), 5_000).unref();
    this.onClose();
  }

  closeNow(): void {
    this.socket.destroy();
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.closeNow());
    socket.once('close', () => this.closeNow());
    socket.on('timeout', () => this.timeoutHandler());
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.upgrading) return;
    this.buffer = this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : chunk;
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.socket.pause();
    try {
      for (let line = this.takeLine(); line; line = this.takeLine()) {
        await this.handler(line);
        if (this.closed || this.upgrading) break;
      }
    } catch {
      this.closeNow();
    } finally {
      this.busy = false;
      if (!this.closed && !this.upgrading) this.socket.resume();
    }
  }

  private takeLine(): InputLine | null {
    for (;;) {
      const lf = this.buffer.indexOf(0x0a);
      if (lf < 0) {
        // No line end yet: a line already past the limit is dropped as it arrives, never buffered.
        if (this.buffer.length > this.maxLineBytes) {
          this.discarding = true;
          this.buffer = Buffer.alloc(0);
        }
        return null;
      }
      const raw = this.buffer.subarray(0, lf);
      this.buffer = this.buffer.subarray(lf + 1);
      if (this.discarding || raw.length + 1 > this.maxLineBytes) {
        this.discarding = false;
        return { kind: 'too-long' };
      }
      const end = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.length - 1 : raw.length;
      return { kind: 'line', text: raw.subarray(0, end).toString('utf8') };
    }
  }
}
