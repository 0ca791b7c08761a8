import net from 'node:net';
import { freePort } from '@test/support/processes';

export type Behaviour = 'good' | 'drip' | 'reset-after-dot' | 'endless-continuation';

/**
 * A remote MX that misbehaves per recipient domain (one port, so SMTP_DELIVERY_PORT reaches
 * every kind): `drip.*` answers RCPT one byte every `dripMs`, never finishing the line (the
 * socket timeout never fires); `reset.*` takes the message and resets the connection after the
 * final dot (RST, no reply); `endless.*` answers RCPT with `250-` continuation lines for ever;
 * anything else is a well-behaved MX. Counts what each kind received.
 */
export class BadRemote {
  readonly received: Record<Behaviour, number> = {
    good: 0,
    drip: 0,
    'reset-after-dot': 0,
    'endless-continuation': 0,
  };
  /** Bytes of continuation lines written: how much a client had to swallow. */
  endlessBytes = 0;
  private readonly sockets = new Map<net.Socket, Behaviour>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(dripMs = 500): Promise<BadRemote> {
    let self: BadRemote | null = null;
    const server = net.createServer((socket) => self!.session(socket, dripMs));
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    self = new BadRemote(server, port);
    return self;
  }

  private session(socket: net.Socket, dripMs: number): void {
    this.sockets.set(socket, 'good');
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let behaviour: Behaviour = 'good';
    let inData = false;
    let data = '';
    let buffer = '';
    socket.write('220 bad.remote.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      if (inData) {
        data += chunk.toString('latin1');
        if (!data.endsWith('\r\n.\r\n')) return;
        inData = false;
        data = '';
        this.received[behaviour]++;
        if (behaviour === 'reset-after-dot') return socket.resetAndDestroy();
        socket.write('250 2.0.0 Ok: queued\r\n');
        return;
      }
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-bad.remote.test\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') socket.write('250 2.1.0 Ok\r\n');
        else if (verb === 'RCPT') {
          const domain = /@([^>]+)>/.exec(line)?.[1]?.toLowerCase() ?? '';
          behaviour = domain.startsWith('drip.')
            ? 'drip'
            : domain.startsWith('reset.')
              ? 'reset-after-dot'
              : domain.startsWith('endless.')
                ? 'endless-continuation'
                : 'good';
          this.sockets.set(socket, behaviour);
          if (behaviour === 'drip') return this.drip(socket, dripMs);
          if (behaviour === 'endless-continuation') return this.endless(socket);
          socket.write('250 2.1.5 Ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
          if (buffer.length > 0) {
            data = buffer;
            buffer = '';
          }
        } else if (verb === 'QUIT') {
          socket.end('221 2.0.0 Bye\r\n');
        } else if (verb === 'RSET' || verb === 'NOOP') socket.write('250 2.0.0 Ok\r\n');
        else socket.write('502 5.5.2 Not implemented\r\n');
      }
    });
  }

  /** "250 2.1.5 Ok" one byte at a time, and never the line end. */
  private drip(socket: net.Socket, dripMs: number): void {
    const text = '250 2.1.5 Ok, taking my time' + ' .'.repeat(10_000);
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(timer);
        this.timers.delete(timer);
        return;
      }
      socket.write(text[i++ % text.length]!);
    }, dripMs);
    this.timers.add(timer);
  }

  /** 250- lines as fast as the client reads them, never the final line. */
  private endless(socket: net.Socket): void {
    const line = Buffer.from(`250-${'x'.repeat(72)}\r\n`);
    const block = Buffer.concat(Array.from({ length: 200 }, () => line));
    const pump = () => {
      while (!socket.destroyed && socket.write(block)) this.endlessBytes += block.length;
      if (!socket.destroyed) this.endlessBytes += block.length;
    };
    socket.on('drain', pump);
    pump();
  }

  /** Sessions open right now that are dripping or sending endless lines (the hung ones). */
  hung(): number {
    let n = 0;
    for (const b of this.sockets.values()) if (b === 'drip' || b === 'endless-continuation') n++;
    return n;
  }

  close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets.keys()) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
