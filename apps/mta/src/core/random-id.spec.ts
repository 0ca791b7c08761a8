import { describe, expect, it } from 'vitest';
import { randomHex } from './random-id';

describe('randomHex', () => {
  it('gives distinct hex ids of the asked length, across many refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = randomHex(8);
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      seen.add(id);
    }
    // 20,000 ids of 64 random bits: a repeat would mean bytes handed out twice.
    expect(seen.size).toBe(20_000);
  });

  it('serves sizes that do not divide the pool, and ones larger than it', () => {
    const odd = Array.from({ length: 1000 }, () => randomHex(7));
    expect(new Set(odd).size).toBe(1000);
    for (const id of odd) expect(id).toHaveLength(14);
    expect(randomHex(5000)).toMatch(/^[0-9a-f]{10000}$/);
  });

  it('refuses a size that is not a byte count, and goes on serving afterwards', () => {
    for (const bad of [Number.NaN, -1, 2.5]) expect(() => randomHex(bad)).toThrow(RangeError);
    expect(randomHex(8)).toMatch(/^[0-9a-f]{16}$/);
  });
});
