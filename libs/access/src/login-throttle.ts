import { throttleSubject } from '@mailroom/rules';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Counters } from './redis-counters';

export interface LoginThrottleOptions {
  /** Failures per login before the account is locked (for everyone, right password or not). */
  maxFailures: number;
  /** Failures per client address before the address is locked. */
  maxFailuresPerIp: number;
  /** The counting window, which is also how long a lock lasts. */
  windowMs: number;
  /** Failures answered at once; each one after this waits `delayStepMs` more. */
  slowDownAfter: number;
  delayStepMs: number;
  maxDelayMs: number;
}

/**
 * Brute-force protection for AUTH: failures count per login (whether or not it exists, so the
 * counters tell nothing either) and per client address. Past `slowDownAfter` failures each
 * answer is delayed; past the maximum the login or the address is locked for the window, and
 * the lock answers with the same 535 as a wrong password.
 */
export class LoginThrottle {
  constructor(
    private readonly counters: Counters,
    private readonly options: LoginThrottleOptions,
    private readonly wait: (ms: number) => Promise<unknown> = sleep,
  ) {}

  private accountKey(login: string): string {
    return this.counters.key('auth-fail-acct', login.toLowerCase());
  }

  private ipKey(ip: string): string {
    return this.counters.key('auth-fail-ip', throttleSubject(ip));
  }

  /** True when this login or this address may not try now; waits the slow-down delay first. */
  async isLocked(login: string, ip: string): Promise<boolean> {
    const [account, address] = await Promise.all([
      this.counters.peek(this.accountKey(login)),
      this.counters.peek(this.ipKey(ip)),
    ]);
    const locked = (account ?? 0) >= this.options.maxFailures || (address ?? 0) >= this.options.maxFailuresPerIp;
    if (locked) await this.slowDown(Math.max(account ?? 0, this.options.slowDownAfter + 1));
    return locked;
  }

  /** Records a failure and waits as long as the failures so far ask for. */
  async failed(login: string, ip: string): Promise<void> {
    const [account] = await Promise.all([
      this.counters.hit(this.accountKey(login), this.options.windowMs),
      this.counters.hit(this.ipKey(ip), this.options.windowMs),
    ]);
    await this.slowDown(account ?? 0);
  }

  /** A successful login forgets the account's failures (the address keeps its count). */
  async succeeded(login: string): Promise<void> {
    await this.counters.clear(this.accountKey(login));
  }

  private async slowDown(failures: number): Promise<void> {
    const over = failures - this.options.slowDownAfter;
    if (over > 0) await this.wait(Math.min(over * this.options.delayStepMs, this.options.maxDelayMs));
  }
}
