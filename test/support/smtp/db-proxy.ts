import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that a test can cut: the way to take the database away from
 * one MTA without stopping the PostgreSQL that other test files share.
 */
export class DbProxy {
  private readonly sockets = new Set<net.Socket>();
  private refusing = false;
  private trigger: { pattern: Buffer; fired: () => void } | null = null;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<DbProxy> {
    let self: DbProxy | null = null;
    const server = net.createServer((client) => self!.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new DbProxy(server, (server.address() as net.AddressInfo).port);
    return self;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Drops every connection and refuses new ones: the database is gone. */
  down(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.refusing = false;
  }

  /** Goes down the moment a client sends `pattern` (e.g. a statement's text), before it arrives. */
  downWhenSent(pattern: string): Promise<void> {
    return new Promise((resolve) => {
      this.trigger = { pattern: Buffer.from(pattern), fired: resolve };
    });
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (this.trigger && chunk.includes(this.trigger.pattern)) {
        const { fired } = this.trigger;
        this.trigger = null;
        this.down();
        fired();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  }
}
