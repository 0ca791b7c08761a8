import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

/**
 * A bare SMTP client over a socket, for what nodemailer and smtplib will not do: pipelining in
 * one write, talking before the greeting, bare line endings, over-long lines, dripping.
 */
export class RawSmtp {
  private buffer = '';
  private waiters: Array<() => void> = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.listen(socket);
  }

  /** `localAddress`: connect from that loopback address (127.0.0.2, ...); `tls`: implicit TLS (465). */
  static async connect(
    port: number,
    options: { greeting?: boolean; localAddress?: string; tls?: boolean } = {},
  ): Promise<RawSmtp> {
    const tcp = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    const socket = options.tls ? tls.connect({ socket: tcp, rejectUnauthorized: false, servername: 'localhost' }) : tcp;
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    if (options.greeting !== false) {
      const greeting = await client.read();
      if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
    }
    return client;
  }

  private listen(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
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

  get isClosed(): boolean {
    return this.ended;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete reply (multi-line replies joined); rejects if the server closes first. */
  async read(): Promise<Reply> {
    for (;;) {
      const lines: string[] = [];
      let rest = this.buffer;
      let done = false;
      while (!done) {
        const end = rest.indexOf('\r\n');
        if (end === -1) break;
        const line = rest.slice(0, end);
        rest = rest.slice(end + 2);
        lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) done = true;
      }
      if (done) {
        this.buffer = rest;
        const last = lines[lines.length - 1]!;
        return { code: Number(last.slice(0, 3)), lines, text: lines.join('\n') };
      }
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Upgrades the connection after a 220 to STARTTLS. */
  async startTls(): Promise<void> {
    const raw = this.socket as net.Socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffer = '';
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends a whole transaction and returns every reply, in order. */
export async function transaction(
  client: RawSmtp,
  from: string,
  to: string[],
  message: string | Buffer,
): Promise<Reply[]> {
  const replies: Reply[] = [await client.command(`MAIL FROM:<${from}>`)];
  for (const rcpt of to) replies.push(await client.command(`RCPT TO:<${rcpt}>`));
  if (!replies.slice(1).some((r) => r.code === 250)) return replies;
  const data = await client.command('DATA');
  replies.push(data);
  if (data.code !== 354) return replies;
  client.write(message);
  client.write(message.toString('latin1').endsWith('\r\n') ? '.\r\n' : '\r\n.\r\n');
  replies.push(await client.read());
  return replies;
}

/**
 * The reply to one RCPT TO on a fresh session (EHLO, then `mailFrom`, which must be accepted);
 * the session is closed without DATA.
 */
export async function rcptReply(
  port: number,
  address: string,
  mailFrom = 'MAIL FROM:<sender@sender.test>',
): Promise<Reply> {
  const client = await RawSmtp.connect(port);
  try {
    await client.command('EHLO client.test');
    const from = await client.command(mailFrom);
    if (from.code !== 250) throw new Error(`MAIL FROM refused: ${from.text}`);
    return await client.command(`RCPT TO:<${address}>`);
  } finally {
    client.close();
  }
}
