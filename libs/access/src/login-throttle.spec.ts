import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle';
import type { Counters } from './redis-counters';

class MemoryCounters implements Counters {
  readonly values = new Map<string, number>();
  down = false;
  key(kind: string, subject: string): string {
    return `${kind}:${subject}`;
  }
  async hit(key: string): Promise<number | null> {
    if (this.down) return null;
    this.values.set(key, (this.values.get(key) ?? 0) + 1);
    return this.values.get(key)!;
  }
  async peek(key: string): Promise<number | null> {
    return this.down ? null : (this.values.get(key) ?? 0);
  }
  async clear(key: string): Promise<void> {
    this.values.delete(key);
  }
}

const OPTIONS = {
  maxFailures: 5,
  maxFailuresPerIp: 8,
  windowMs: 60_000,
  slowDownAfter: 3,
  delayStepMs: 1_000,
  maxDelayMs: 1_500,
};

function setup() {
  const counters = new MemoryCounters();
  const waits: number[] = [];
  const sut = new LoginThrottle(counters, OPTIONS, async (ms) => {
    waits.push(ms);
  });
  return { counters, waits, sut };
}

describe('LoginThrottle', () => {
  it('answers the first three failures at once, then waits one step more each time, capped', async () => {
    const { sut, waits } = setup();
    for (let i = 0; i < 5; i++) await sut.failed('a@acme.test', '192.0.2.1');
    expect(waits).toEqual([1_000, 1_500]);
  });

  it('locks a login after the maximum, whatever its case, and not another login', async () => {
    const { sut } = setup();
    for (let i = 0; i < 5; i++) await sut.failed('A@acme.test', `192.0.2.${i}`);
    expect(await sut.isLocked('a@ACME.test', '198.51.100.1')).toBe(true);
    expect(await sut.isLocked('b@acme.test', '198.51.100.1')).toBe(false);
  });

  it('locks an address after its maximum, across logins', async () => {
    const { sut } = setup();
    for (let i = 0; i < 8; i++) await sut.failed(`user${i}@acme.test`, '192.0.2.1');
    expect(await sut.isLocked('fresh@acme.test', '192.0.2.1')).toBe(true);
    expect(await sut.isLocked('fresh@acme.test', '192.0.2.2')).toBe(false);
  });

  it("forgets a login's failures after a success", async () => {
    const { sut } = setup();
    for (let i = 0; i < 4; i++) await sut.failed('a@acme.test', '192.0.2.1');
    await sut.succeeded('a@acme.test');
    await sut.failed('a@acme.test', '192.0.2.1');
    expect(await sut.isLocked('a@acme.test', '192.0.2.3')).toBe(false);
  });

  it('fails open when the counters are unavailable', async () => {
    const { sut, counters, waits } = setup();
    counters.down = true;
    for (let i = 0; i < 10; i++) await sut.failed('a@acme.test', '192.0.2.1');
    expect(await sut.isLocked('a@acme.test', '192.0.2.1')).toBe(false);
    expect(waits).toEqual([]);
  });
});
