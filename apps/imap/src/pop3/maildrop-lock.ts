import { randomBytes } from 'node:crypto';
import type { RedisClient } from '@mailroom/queue';

// Deletes or extends the key only while it still holds our token, so a session whose lock
// expired (a stalled process) never frees or keeps another session's lock.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * RFC 1939 section 8: the server locks the maildrop for one session. A Redis key with an
 * expiry, renewed while the session lives: released on QUIT or close, and by expiry when the
 * process dies, so a crash never locks a mailbox for longer than the TTL.
 */
export class MaildropLock {
  private readonly token = randomBytes(12).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  private gone = false;

  private constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  /** The lock, or null when another session holds it. Throws when Redis does not answer. */
  static async acquire(redis: RedisClient, key: string, ttlMs: number): Promise<MaildropLock | null> {
    const lock = new MaildropLock(redis, key, ttlMs);
    const ok = await redis.set(key, lock.token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    lock.timer = setInterval(() => lock.renew(), Math.max(ttlMs / 3, 100));
    lock.timer.unref();
    return lock;
  }

  /**
   * The key no longer holds our token (Redis restarted without persistence, evicted it, or it
   * expired while this process stalled): another session may hold the maildrop now.
   */
  get lost(): boolean {
    return this.gone;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.eval(RELEASE, 1, this.key, this.token).catch(() => undefined);
  }

  private renew(): void {
    // A failed renewal is retried on the next tick; the TTL covers two missed ones.
    this.redis.eval(RENEW, 1, this.key, this.token, String(this.ttlMs)).then(
      (renewed) => {
        if (renewed === 0) this.gone = true;
      },
      () => undefined,
    );
  }
}
