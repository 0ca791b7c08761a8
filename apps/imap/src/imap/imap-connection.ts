import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ByteReader, joinOwned, ReadClosed } from './byte-reader';
import { tagOf } from './command-parser';
import { DeflateLayer } from './deflate-layer';
import type { WireValue } from './imap-arg';
import { encodeResponse, type WireSegment } from './wire-encoder';

export interface ConnectionLimits {
  /** Longest command line (without literals); longer lines get BAD and are skipped. */
  maxLine: number;
  /** APPEND literal limit (APPENDLIMIT); larger ones get `NO [TOOBIG]` before a byte is read. */
  appendLimit: number;
  /** Literal limit of every other command (and of APPEND before login). */
  maxLiteral: number;
}

/** What reading the next command produced. */
export type CommandRead =
  { kind: 'command'; raw: Buffer } | { kind: 'refused'; tag: string; reply: string; close: boolean };

// RFC 7888 §5: LITERAL- allows non-synchronising literals up to 4096 bytes only.
const LITERAL_MINUS_MAX = 4096;
const WRITE_STALL_MS = 5 * 60_000;
const TLS_HANDSHAKE_MS = 30_000;

/**
 * One client connection at the byte level: reads commands (lines and `{n}`, `{n+}`, `{n-}`
 * literals) under limits, writes responses with backpressure, upgrades to TLS. It knows
 * nothing of IMAP state; ImapSession drives it one command at a time.
 */
export class ImapConnection {
  private reader: ByteReader;
  private writing: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private deflate: DeflateLayer | null = null;
  private flushTimer: NodeJS.Immediate | null = null;

  /**
   * `peerAddress`: the client's address when it is not the socket's peer (a PROXY protocol
   * header named it); it stays the same across STARTTLS.
   */
  constructor(
    private socket: Socket | tls.TLSSocket,
    private readonly limits: ConnectionLimits,
    private readonly peerAddress?: string,
  ) {
    this.reader = new ByteReader(socket);
    socket.on('error', () => this.markClosed());
    socket.on('close', () => this.markClosed());
  }

  get remoteAddress(): string {
    return this.peerAddress ?? this.socket.remoteAddress ?? '';
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket && this.socket.encrypted;
  }

  /** COMPRESS=DEFLATE is on (RFC 4978). */
  get compressed(): boolean {
    return this.deflate !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The next command with its literals; throws ReadClosed when the client goes or times out. */
  async readCommand(timeoutMs: number, allowAppendSize: boolean): Promise<CommandRead> {
    const deadline = Date.now() + timeoutMs;
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = await this.reader.line(this.limits.maxLine, deadline);
      if (!Buffer.isBuffer(line)) {
        return { kind: 'refused', tag: tagOf(parts[0] ?? line.head), reply: 'BAD Command line too long', close: false };
      }
      parts.push(line);
      total += line.length;
      const m = /(~?)\{(\d{1,10})([+-]?)\}$/.exec(line.subarray(Math.max(0, line.length - 16)).toString('latin1'));
      if (!m) return { kind: 'command', raw: joinOwned(parts) };
      const size = Number(m[2]);
      const sync = m[3] === '';
      const refusal = this.checkLiteral(parts[0]!, size, total, m[3]!, allowAppendSize);
      if (refusal) {
        // A synchronising literal is never sent without our '+'; a non-synchronising one is
        // already on its way, so we cannot find the next command in the stream (RFC 7888 §4).
        return { ...refusal, close: !sync };
      }
      if (sync) await this.writeRaw(Buffer.from('+ Ready for literal data\r\n'));
      const literal = await this.reader.bytes(size, deadline);
      parts.push(Buffer.from('\r\n'), literal);
      total += size;
    }
  }

  /** One line from the client (AUTHENTICATE continuation, IDLE's DONE); null when the client went. */
  async readLine(timeoutMs: number): Promise<Buffer | null> {
    try {
      const line = await this.reader.line(this.limits.maxLine, Date.now() + timeoutMs);
      return Buffer.isBuffer(line) ? line : line.head;
    } catch (err) {
      if (err instanceof ReadClosed) return null;
      throw err;
    }
  }

  /** An untagged or tagged response line: `prefix` then the encoded values, CRLF-terminated. */
  send(prefix: string, values: WireValue[] = [], utf8 = false): Promise<void> {
    return this.writeSegments(encodeResponse(prefix, values, utf8));
  }

  writeRaw(bytes: Buffer): Promise<void> {
    return this.writeSegments([bytes]);
  }

  /** Writes are serialised (IDLE updates may come while a response streams) and wait for drain. */
  writeSegments(segments: WireSegment[]): Promise<void> {
    this.queued++;
    const next = this.writing.then(() => this.doWrite(segments));
    this.writing = next
      .catch(() => undefined)
      .then(() => {
        if (--this.queued === 0) this.scheduleFlush();
      });
    return next;
  }

  /**
   * RFC 4978: from now on both directions are raw DEFLATE. Call after the tagged OK was
   * queued: it goes out uncompressed, everything after it compressed.
   */
  async startCompression(): Promise<void> {
    await this.writing;
    this.deflate = new DeflateLayer(this.socket, this.reader.take());
    this.reader.replace(this.deflate.input);
  }

  /** STARTTLS: from now on bytes go through TLS; nothing buffered in plaintext survives. */
  async startTls(context: tls.SecureContext): Promise<void> {
    await this.writing;
    const secure = new tls.TLSSocket(this.socket, { isServer: true, secureContext: context });
    await new Promise<void>((resolve, reject) => {
      // A client that never starts the handshake must not hold the session.
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new ReadClosed('timeout'));
      }, TLS_HANDSHAKE_MS);
      secure.once('secure', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    this.socket = secure;
    secure.on('error', () => this.markClosed());
    secure.on('close', () => this.markClosed());
    this.reader.replace(secure as Duplex);
  }

  /** Ends the connection after what was written has gone out. */
  async close(): Promise<void> {
    if (this.closed) return;
    // A client that stopped reading must not keep the connection open through its buffers.
    await Promise.race([this.writing, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    this.markClosed();
    if (this.deflate) this.deflate.end();
    else this.socket.end();
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private checkLiteral(first: Buffer, size: number, total: number, mode: string, authed: boolean) {
    const words = first.toString('latin1', 0, 64).split(' ');
    const name = (words[1]?.toUpperCase() === 'UID' ? words[2] : words[1])?.toUpperCase();
    const tag = tagOf(first);
    if (mode === '-' && size > LITERAL_MINUS_MAX) {
      return { kind: 'refused' as const, tag, reply: 'BAD [TOOBIG] Non-synchronizing literal too large' };
    }
    if (name === 'APPEND' && authed) {
      if (total + size <= this.limits.appendLimit + this.limits.maxLine) return null;
      return { kind: 'refused' as const, tag, reply: 'NO [TOOBIG] Message larger than APPENDLIMIT' };
    }
    if (total + size <= this.limits.maxLiteral) return null;
    return { kind: 'refused' as const, tag, reply: 'BAD [TOOBIG] Literal too large' };
  }

  private async doWrite(segments: WireSegment[]): Promise<void> {
    let run: Buffer[] = [];
    for (const seg of segments) {
      if (Buffer.isBuffer(seg)) {
        run.push(seg);
        continue;
      }
      if (run.length > 0) await this.putAll(run);
      run = [];
      let sent = 0;
      for await (const chunk of seg.stream()) {
        const part = chunk.length + sent > seg.length ? chunk.subarray(0, seg.length - sent) : chunk;
        sent += part.length;
        await this.put(part);
        if (sent >= seg.length) break;
      }
      // The literal's length was announced: a short blob must still fill it.
      if (sent < seg.length) await this.put(Buffer.alloc(seg.length - sent, 0x20));
    }
    if (run.length > 0) await this.putAll(run);
  }

  /** Several buffers in one corked write (one writev), then backpressure as put. */
  private putAll(list: Buffer[]): Promise<void> {
    if (list.length === 1) return this.put(list[0]!);
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    const deflate = this.deflate;
    let ok = true;
    if (deflate) {
      for (const b of list) ok = deflate.write(b) && ok;
    } else {
      this.socket.cork();
      for (const b of list) ok = this.socket.write(b) && ok;
      this.socket.uncork();
    }
    return ok ? Promise.resolve() : this.drained();
  }

  private put(bytes: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    const deflate = this.deflate;
    if (deflate ? deflate.write(bytes) : this.socket.write(bytes)) return Promise.resolve();
    return this.drained();
  }

  private drained(): Promise<void> {
    const socket = this.socket;
    const drainable = this.deflate?.drainable ?? socket;
    return new Promise((resolve) => {
      // A client that reads nothing for this long is gone; its session must not linger.
      const timer = setTimeout(() => socket.destroy(), WRITE_STALL_MS);
      const done = () => {
        clearTimeout(timer);
        drainable.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      drainable.once('drain', done);
      socket.once('close', done);
    });
  }

  /**
   * With COMPRESS, zlib holds output until flushed: flush once the queue of writes is empty
   * and the current tick is over, so a burst of responses (untagged lines, then the tagged
   * one) goes out in one flush and no reply waits for the next.
   */
  private scheduleFlush(): void {
    if (!this.deflate || this.flushTimer) return;
    this.flushTimer = setImmediate(() => {
      this.flushTimer = null;
      if (this.queued === 0) this.deflate?.flush();
    });
  }

  private markClosed(): void {
    this.closed = true;
  }
}
