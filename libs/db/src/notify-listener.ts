import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Logger } from 'pino';

/** The channel each listener NOTIFYs itself on, to prove that its connection still hears. */
export const LISTEN_PROBE_CHANNEL = 'mailroom_listen_probe';

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
  /**
   * Every this many ms the listener NOTIFYs itself and, at the next tick, counts the connection
   * as lost unless it heard that probe back (default 5000; 0: never).
   */
  probeEveryMs?: number;
}

/**
 * One dedicated PostgreSQL connection that LISTENs (a pooled connection cannot: LISTEN is per
 * session). It reconnects forever until closed; each reconnect calls onConnect so callers
 * re-sync (the IMAP server from modseq, the API's credential cache by emptying itself) instead
 * of trusting that no NOTIFY was missed. Used by the IMAP/POP3 server and the API.
 *
 * A connection can also stop hearing without any error: a half-open TCP link (a dropped route, a
 * NAT or firewall forgetting it, a host gone without a reset), or a transaction-mode pooler that
 * ran LISTEN on one server connection and now serves this client from another. So the listener
 * proves it still hears: it NOTIFYs itself on its own channel every `probeEveryMs`, and a probe
 * not heard back by the next one counts as a lost connection (onDisconnect, then reconnect).
 * TCP keepalive is on as well.
 */
export class NotifyListener {
  /** The client being connected or connected; events of any other (an older one) are ignored. */
  private current: Client | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private readonly token = randomBytes(8).toString('hex');
  private probesSent = 0;
  private probesHeard = 0;

  constructor(private readonly options: NotifyListenerOptions) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopProbes();
    const client = this.current;
    this.current = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.url,
      application_name: this.options.name,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    this.current = client;
    client.on('notification', (msg) => {
      if (msg.channel === LISTEN_PROBE_CHANNEL) {
        if (client === this.current && msg.payload === `${this.token}:${this.probesSent}`) {
          this.probesHeard = this.probesSent;
        }
        return;
      }
      this.options.onNotify(msg.channel, msg.payload ?? '');
    });
    client.on('error', (err) => {
      if (client === this.current) {
        this.options.logger.warn({ err: err.message }, `${this.options.name}: LISTEN connection failed; reconnecting`);
      }
      this.retry(client);
    });
    client.on('end', () => this.retry(client));
    try {
      await client.connect();
      for (const channel of [...this.options.channels, LISTEN_PROBE_CHANNEL]) await client.query(`LISTEN ${channel}`);
      if (client !== this.current) {
        // Closed (or given up) while connecting.
        void client.end().catch(() => undefined);
        return;
      }
      this.options.onConnect();
      this.startProbes(client);
    } catch (err) {
      if (client === this.current) {
        this.options.logger.warn(
          { err: (err as Error).message },
          `${this.options.name}: LISTEN connect failed; retrying`,
        );
      }
      this.retry(client);
    }
  }

  private startProbes(client: Client): void {
    const every = this.options.probeEveryMs ?? 5_000;
    if (every <= 0) return;
    this.probesSent = 0;
    this.probesHeard = 0;
    this.probeTimer = setInterval(() => {
      if (client !== this.current) return;
      if (this.probesHeard !== this.probesSent) {
        this.options.logger.warn(
          `${this.options.name}: LISTEN connection no longer hears its own NOTIFY; reconnecting`,
        );
        this.retry(client);
        return;
      }
      this.probesSent += 1;
      client
        .query(`SELECT pg_notify('${LISTEN_PROBE_CHANNEL}', $1)`, [`${this.token}:${this.probesSent}`])
        .catch(() => undefined);
    }, every);
    this.probeTimer.unref();
  }

  private stopProbes(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }

  private retry(client: Client): void {
    if (client !== this.current) {
      // A late event of a connection already given up: end it, nothing else.
      void client.end().catch(() => undefined);
      return;
    }
    this.current = null;
    this.stopProbes();
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.onDisconnect?.();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) void this.connect();
    }, this.options.retryMs ?? 1_000);
  }
}
