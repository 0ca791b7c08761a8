import { describe, expect, it } from 'vitest';
import { parseMessageDate } from './message-date';

describe('parseMessageDate (RFC 5322 section 3.3 and 4.3)', () => {
  it.each([
    ['Mon, 05 Jan 2026 12:00:00 +0200', '2026-01-05T10:00:00.000Z'],
    ['5 Jan 2026 10:00:00 -0130', '2026-01-05T11:30:00.000Z'],
    ['Mon, 19 Jan 2026 10:00:00', '2026-01-19T10:00:00.000Z'],
    ['19 Jan 26 09:30:00 GMT', '2026-01-19T09:30:00.000Z'],
    ['19 Jan 99 09:30:00 UT', '1999-01-19T09:30:00.000Z'],
    ['Mon, 19 Jan 2026 04:45:00 EST', '2026-01-19T09:45:00.000Z'],
    ['Mon, 19 Jan 2026 05:45:00 EDT', '2026-01-19T09:45:00.000Z'],
    ['Mon, 19 Jan 2026 09:50:00 +0000 (UTC)', '2026-01-19T09:50:00.000Z'],
    ['Mon, 19 Jan 2026 09:55 +0000', '2026-01-19T09:55:00.000Z'],
    ['Mon, 19 Jan 2026 09:20:00 Z', '2026-01-19T09:20:00.000Z'],
    ['Mon, 19 Jan 2026 10:20:00 A', '2026-01-19T09:20:00.000Z'],
    ['Mon, 19 Jan 2026 08:20:00 N', '2026-01-19T09:20:00.000Z'],
    ['(sent) Mon, 19 January 2026 9.20.00 CEST', '2026-01-19T09:20:00.000Z'],
    ['19 Jan 2026 09:20:00+0100', '2026-01-19T08:20:00.000Z'],
  ])('%j is %s', (value, iso) => {
    expect(parseMessageDate(value)?.toISOString()).toBe(iso);
  });

  it.each([
    ['2026-01-19T09:40:00Z'],
    ['Garbage date'],
    ['Mon 19 Jan 2026 09:00:00 +0000'],
    ['Monday, 19 Jan 2026 09:00:00 +0000'],
    ['19 Foo 2026 09:00'],
    [''],
  ])('reads %j as no date', (value) => {
    expect(parseMessageDate(value)).toBeNull();
  });

  it('reads a missing header as no date', () => {
    expect(parseMessageDate(undefined)).toBeNull();
  });
});
