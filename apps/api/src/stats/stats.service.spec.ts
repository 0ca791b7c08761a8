import { describe, expect, it } from 'vitest';
import { windowStart } from './stats.service';

describe('windowStart', () => {
  it.each([
    // [now, days, first day counted]
    ['2026-12-03T08:15:00Z', 30, '2026-11-04T00:00:00.000Z'],
    ['2026-12-03T00:00:00Z', 1, '2026-12-03T00:00:00.000Z'],
    ['2026-12-03T23:59:59.999Z', 7, '2026-11-27T00:00:00.000Z'],
    ['2026-03-01T12:00:00Z', 2, '2026-02-28T00:00:00.000Z'],
    ['2024-03-01T12:00:00Z', 2, '2024-02-29T00:00:00.000Z'],
    ['2027-01-01T05:00:00+02:00', 1, '2027-01-01T00:00:00.000Z'],
    ['2027-01-01T01:00:00+02:00', 1, '2026-12-31T00:00:00.000Z'],
  ])('at %s, %i days start at UTC midnight %s', (now, days, start) => {
    expect(windowStart(days, new Date(now)).toISOString()).toBe(start);
  });
});
