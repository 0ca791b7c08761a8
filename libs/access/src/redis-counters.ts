import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';

// INCR and set the window's expiry on first use, atomically; returns [count, ttl ms].
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

/** Counters as the limits use them (a fake in unit tests). */
export interface Counters {
  key(kind: string, subject: string): string;
  hit(key: string, windowMs: number): Promise<number | null>;
  peek(key: string): Promise<number | null>;
  clear(key: string): Promise<void>;
}

/**
 * Fixed-window counters in Redis for brute-force protection and sending limits. They fail open
 * (null, with a warning): Redis is a transport, and an outage must not stop mail submission.
 * Subjects (logins, addresses, ids) are hashed, so no address appears in a Redis key.
 */
export class RedisCounters implements Counters {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  key(kind: string, subject: string): string {
    // ':mta:' stays although IMAP and POP3 count here too: renaming would reset every running
    // lock and sending window at deploy, and the keys are what SMTP AUTH and IMAP share.
    return `${this.prefix}:mta:${kind}:${createHash('sha256').update(subject).digest('base64url')}`;
  }

  /** Counts one event; the count in the window so far, or null when Redis is unavailable. */
  async hit(key: string, windowMs: number): Promise<number | null> {
    try {
      const [count] = (await this.redis.eval(HIT, 1, key, windowMs)) as [number, number];
      return count;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'redis counters unavailable; allowing');
      return null;
    }
  }

  /** The current count, 0 when the window is over, null when Redis is unavailable. */
  async peek(key: string): Promise<number | null> {
    try {
      return Number((await this.redis.get(key)) ?? 0);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'redis counters unavailable; allowing');
      return null;
    }
  }

  async clear(key: string): Promise<void> {
    try {
      await this.redis.del(key);
    } catch {
      // fail open, as above
    }
  }
}
