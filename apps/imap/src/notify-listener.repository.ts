import { Client } from 'pg';
import type { Logger } from 'pino';

export interface NotifyListenerOptions {
  url: string;
  channels: string[];
  logger: Logger;
  onNotify(channel: string, payload: string): void;
  /** After every (re)connect: notifications may have been lost while the connection was down. */
  onConnect(): void;
  /** Delay before reconnecting after the connection fails. */
  retryMs?: number;
}

/**
 * One dedicated PostgreSQL connection that LISTENs (a pooled connection cannot: LISTEN is per
 * session). It reconnects forever until closed; each reconnect calls onConnect so callers
 * re-sync from their modseq instead of trusting that no NOTIFY was missed.
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
    const client = new Client({ connectionString: this.options.url, application_name: 'mailroom-imap-listen' });
    client.on('notification', (msg) => this.options.onNotify(msg.channel, msg.payload ?? ''));
    client.on('error', (err) => {
      this.options.logger.warn({ err: err.message }, 'imap LISTEN connection failed; reconnecting');
      this.retry(client);
    });
    client.on('end', () => this.retry(client));
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN ${channel}`);
      this.client = client;
      this.options.onConnect();
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'imap LISTEN connect failed; retrying');
      this.retry(client);
    }
  }

  private retry(client: Client): void {
    if (this.closed || this.timer) return;
    if (this.client === client) this.client = null;
    void client.end().catch(() => undefined);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) void this.connect();
    }, this.options.retryMs ?? 1_000);
  }
}
