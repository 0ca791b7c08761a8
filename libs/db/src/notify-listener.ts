import { Client } from 'pg';
import type { Logger } from 'pino';

export interface NotifyListenerOptions {
  url: string;
  channels: string[];
  /** The connection's application_name and the name its log lines use (e.g. 'mailroom-imap-listen'). */
  name: string;
  logger: Logger;
  onNotify(channel: string, payload: string): void;
  /** After every (re)connect: notifications may have been lost while the connection was down. */
  onConnect(): void;
  /** When the connection is found lost (before the wait to reconnect): notifications may be lost from now on. */
  onDisconnect?(): void;
  /** Delay before reconnecting after the connection fails. */
  retryMs?: number;
}

/**
 * One dedicated PostgreSQL connection that LISTENs (a pooled connection cannot: LISTEN is per
 * session). It reconnects forever until closed; each reconnect calls onConnect so callers
 * re-sync (the IMAP server from modseq, the API's credential cache by emptying itself) instead
 * of trusting that no NOTIFY was missed. Used by the IMAP/POP3 server and the API.
 */
export class NotifyListener {
  private client: Client | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: NotifyListenerOptions) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.url, application_name: this.options.name });
    client.on('notification', (msg) => this.options.onNotify(msg.channel, msg.payload ?? ''));
    client.on('error', (err) => {
      this.options.logger.warn({ err: err.message }, `${this.options.name}: LISTEN connection failed; reconnecting`);
      this.retry(client);
    });
    client.on('end', () => this.retry(client));
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN ${channel}`);
      this.client = client;
      this.options.onConnect();
    } catch (err) {
      this.options.logger.warn(
        { err: (err as Error).message },
        `${this.options.name}: LISTEN connect failed; retrying`,
      );
      this.retry(client);
    }
  }

  private retry(client: Client): void {
    if (this.closed || this.timer) return;
    if (this.client === client) this.client = null;
    this.options.onDisconnect?.();
    void client.end().catch(() => undefined);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) void this.connect();
    }, this.options.retryMs ?? 1_000);
  }
}
