import {
  Inject,
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Request } from 'express';
import { Reflector } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import { tap, type Observable } from 'rxjs';
import type { Config } from '@mailroom/config';
import { NotifyListener } from '@mailroom/db';
import { CONFIG } from '../infra/tokens';

/** Sent (payload: the table's name) by every committed change the guard's reads depend on. */
export const CREDENTIALS_CHANNEL = 'mailroom_credentials';

interface Entry {
  value: unknown;
  expiresAt: number;
}

/**
 * What the guard reads per request (an access token's user with its session and the path's
 * tenant; an API key with its owners), kept in this process so a read route does not pay a
 * database round trip for it on every call. Correct only while it hears every change:
 * - the tables' triggers NOTIFY 'mailroom_credentials' on commit (migration
 *   20261204140000), and any notification empties the whole cache;
 * - while the LISTEN connection is down (and until it is back) nothing is cached or served,
 *   since a notification may have been lost; it empties again when it is back;
 * - a load that began before the cache was emptied is not kept (it may have read the old row);
 * - this process's own write requests empty it as they finish, before their answer leaves
 *   (CredentialCacheInterceptor), so its next request never waits for the notification;
 * - only reads (GET, HEAD) are answered from it: a write checks what it relies on (tenant
 *   status, legal hold, limits) against the database, as before, and refreshes the entry.
 * What another process or a direct SQL change does reaches this one when the notification
 * arrives (milliseconds). Bounded (least recently used goes first) with a time to live as a
 * backstop. API_CREDENTIAL_CACHE_SIZE=0 turns it off.
 */
@Injectable()
export class CredentialCache implements OnModuleInit, OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private readonly listener: NotifyListener | null;
  private readonly size: number;
  private readonly ttlMs: number;
  private listening = false;
  /** Moves on every emptying: a load that saw another generation is not kept. */
  private generation = 0;

  constructor(@Inject(CONFIG) config: Config, logger: PinoLogger) {
    this.size = config.API_CREDENTIAL_CACHE_SIZE;
    this.ttlMs = config.API_CREDENTIAL_CACHE_TTL_SECONDS * 1_000;
    this.listener =
      this.size > 0
        ? new NotifyListener({
            url: config.DATABASE_URL,
            name: 'mailroom-api-listen',
            channels: [CREDENTIALS_CHANNEL],
            logger: logger.logger,
            onNotify: () => this.clear(),
            onConnect: () => {
              this.clear();
              this.listening = true;
            },
            onDisconnect: () => {
              this.listening = false;
              this.clear();
            },
          })
        : null;
  }

  /** Waits for the first LISTEN attempt (a failure is retried in the background, uncached meanwhile). */
  async onModuleInit(): Promise<void> {
    await this.listener?.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.listening = false;
    this.clear();
    await this.listener?.close();
  }

  /** True while entries are kept and served (for health and tests). */
  get active(): boolean {
    return this.listening;
  }

  /**
   * The value under `key`, else `load()`'s (kept when it is not null and `keep` accepts it).
   * `read` false (a write request) always loads, and what it loads replaces the entry: a write
   * that finds a credential disabled leaves no stale copy for the next read.
   */
  async get<T>(
    key: string,
    read: boolean,
    load: () => Promise<T | null>,
    keep: (value: T) => boolean = () => true,
  ): Promise<T | null> {
    if (!this.listening) return load();
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      if (read && entry.expiresAt > now) {
        this.entries.set(key, entry);
        return entry.value as T;
      }
    }
    const generation = this.generation;
    const value = await load();
    if (value !== null && keep(value) && this.listening && generation === this.generation) {
      this.entries.set(key, { value, expiresAt: now + this.ttlMs });
      if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
    }
    return value;
  }

  /** Forgets everything, including loads under way. */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }
}

const KEEPS_CREDENTIALS_METADATA = 'mailroom:keeps-credentials';
/**
 * A write route that changes nothing the guard reads (a sign-in: it adds a live session and
 * bookkeeping), so its requests do not empty the cache; anyone may send them.
 */
export const KeepsCredentialCache = () => SetMetadata(KEEPS_CREDENTIALS_METADATA, true);

/**
 * Empties this process's CredentialCache when a write request's handler is done (committed, or
 * failed), before its answer is sent: the client's next request here sees what it changed
 * without waiting for the notification (which still tells every other process).
 */
@Injectable()
export class CredentialCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: CredentialCache,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = context.switchToHttp().getRequest<Request>().method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next.handle();
    if (this.reflector.get<boolean>(KEEPS_CREDENTIALS_METADATA, context.getHandler())) return next.handle();
    const clear = () => this.cache.clear();
    return next.handle().pipe(tap({ next: clear, error: clear, complete: clear }));
  }
}
