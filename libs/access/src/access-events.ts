import pg from 'pg';
import type { Logger } from 'pino';

/** PostgreSQL channel the mailboxes trigger notifies when auth_version changes. */
export const ACCESS_CHANNEL = 'mailroom_access';

export type RevokedListener = (tenantId: string, mailboxId: string) => void;

export interface AccessEventsOptions {
  databaseUrl: string;
  logger: Logger;
  /** Wait before reconnecting after the LISTEN connection dropped. */
  reconnectDelayMs?: number;
}

/**
 * Live-session revocation: LISTEN on 'mailroom_access' (payload '<tenantId>:<mailboxId>', sent
 * by a trigger when a mailbox's auth_version moves: password change, disable, protocol flag,
 * app-password revocation, sign out everywhere). Sessions of that mailbox end. A notification
 * lost while the connection was down is caught by `onReconnected` listeners, which should check
 * their sessions with AccessAuthenticator.isCurrent. A process that already LISTENs (one
 * connection for mail and access events) feeds payloads to `handle` instead of calling start().
 */
export class AccessEvents {
  private readonly listeners = new Set<RevokedListener>();
  private readonly reconnectedListeners = new Set<() => void>();
  private client: pg.Client | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AccessEventsOptions) {}

  async start(): Promise<void> {
    this.closed = false;
    await this.connect();
  }

  /** Registers a listener; the returned function removes it. */
  onRevoked(listener: RevokedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onReconnected(listener: () => void): () => void {
    this.reconnectedListeners.add(listener);
    return () => this.reconnectedListeners.delete(listener);
  }

  /** Dispatches one notification payload '<tenantId>:<mailboxId>'. */
  handle(payload: string): void {
    const [tenantId, mailboxId] = payload.split(':');
    if (!tenantId || !mailboxId) return;
    for (const listener of this.listeners) {
      try {
        listener(tenantId, mailboxId);
      } catch (err) {
        this.options.logger.error({ err }, 'access revocation listener failed');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'mailroom-access-events',
    });
    client.on('notification', (msg) => {
      if (msg.channel === ACCESS_CHANNEL && msg.payload) this.handle(msg.payload);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${ACCESS_CHANNEL}`);
    this.client = client;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = null;
    this.options.logger.warn({ err: err.message }, 'access events: LISTEN connection lost; reconnecting');
    client.end().catch(() => undefined);
    this.retry();
  }

  private retry(): void {
    this.timer = setTimeout(() => {
      this.connect().then(
        () => this.reconnectedListeners.forEach((listener) => listener()),
        (err: Error) => {
          this.options.logger.warn({ err: err.message }, 'access events: reconnect failed');
          if (!this.closed) this.retry();
        },
      );
    }, this.options.reconnectDelayMs ?? 1_000);
    this.timer.unref();
  }
}
