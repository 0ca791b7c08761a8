import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Config } from '@mailroom/config';
import { RateLimited } from '@mailroom/core';
import { throttleSubject } from '@mailroom/rules';
import { RedisService } from '../infra/redis.service';
import { CONFIG } from '../infra/tokens';

export interface RateState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

// INCR and set the window's expiry on first use, atomically; returns [count, ttl].
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

// A counter and its expiry in one command (GET's nil as 0: a nil would end Lua's array).
const PEEK = `return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}`;

/**
 * Counters in Redis for rate limits and brute-force protection. When Redis is down they fail
 * open (the request goes on, a warning is logged): a Redis outage must not take the API down,
 * and accounts keep their database lock.
 */
@Injectable()
export class ThrottleService {
  constructor(
    private readonly redis: RedisService,
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: PinoLogger,
  ) {}

  private key(kind: string, subject: string): string {
    // Hash the subject: emails and IPs never appear in Redis keys.
    return `${this.config.QUEUE_PREFIX}:throttle:${kind}:${createHash('sha256').update(subject).digest('base64url')}`;
  }

  private async hit(key: string, windowMs: number): Promise<[number, number] | null> {
    try {
      const [count, ttl] = (await this.redis.client.eval(HIT, 1, key, windowMs)) as [number, number];
      return [count, ttl];
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'throttle unavailable; allowing request');
      return null;
    }
  }

  private async count(key: string): Promise<[number, number] | null> {
    try {
      // One command, so one write and one round trip (an API-key request pays this and HIT).
      const [count, ttl] = (await this.redis.client.eval(PEEK, 1, key)) as [number, number];
      return [count, ttl];
    } catch {
      return null;
    }
  }

  /** Counts one request of a credential in the current minute. */
  async request(credentialId: string): Promise<RateState & { allowed: boolean }> {
    const limit = this.config.API_RATE_LIMIT_PER_MINUTE;
    const result = await this.hit(this.key('req', credentialId), 60_000);
    if (!result) return { allowed: true, limit, remaining: limit, resetSeconds: 60 };
    const [count, ttl] = result;
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.max(1, Math.ceil(ttl / 1000)),
    };
  }

  private get failureWindowMs(): number {
    return this.config.LOGIN_LOCK_MINUTES * 60_000;
  }

  /** @throws RateLimited when this IP or this account has failed too often lately */
  async assertMayTry(ip: string, account?: string): Promise<void> {
    const ipState = await this.count(this.key('fail-ip', throttleSubject(ip)));
    if (ipState && ipState[0] >= this.config.LOGIN_MAX_FAILURES_PER_IP) {
      throw new RateLimited(
        'Too many failed attempts from this address; try again later.',
        Math.max(1, Math.ceil(ipState[1] / 1000)),
      );
    }
    if (account !== undefined) {
      const state = await this.count(this.key('fail-acct', account));
      if (state && state[0] >= this.config.LOGIN_MAX_FAILURES) {
        throw new RateLimited(
          'Too many failed logins for this account; try again later.',
          Math.max(1, Math.ceil(state[1] / 1000)),
        );
      }
    }
  }

  /** Records a failed login or key attempt; returns how many the account has had lately. */
  async recordFailure(ip: string, account?: string): Promise<number> {
    await this.hit(this.key('fail-ip', throttleSubject(ip)), this.failureWindowMs);
    if (account === undefined) return 0;
    const result = await this.hit(this.key('fail-acct', account), this.failureWindowMs);
    return result?.[0] ?? 0;
  }

  async clearAccount(account: string): Promise<void> {
    try {
      await this.redis.client.del(this.key('fail-acct', account));
    } catch {
      // fail open, as above
    }
  }
}
