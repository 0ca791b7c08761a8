import { describe, expect, it } from 'vitest';
import { inRanges, missingFrom, normalizeRanges, toRanges, vanishedLines } from './uid-ranges';

describe('uid ranges', () => {
  it('normalizes: sorts and merges overlapping and adjacent ranges', () => {
    expect(
      normalizeRanges([
        [9, 12],
        [1, 3],
        [4, 4],
        [10, 20],
      ]),
    ).toEqual([
      [1, 4],
      [9, 20],
    ]);
  });

  it('turns ascending uids into ranges and finds a uid in them', () => {
    const ranges = toRanges([1, 2, 3, 7, 9, 10]);
    expect(ranges).toEqual([
      [1, 3],
      [7, 7],
      [9, 10],
    ]);
    expect([0, 1, 3, 4, 7, 8, 10, 11].map((u) => inRanges(u, ranges))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
      true,
      false,
    ]);
  });

  it.each([
    { ranges: [[1, 10]], present: [2, 3, 7], max: 10, missing: '1,4:6,8:10' },
    { ranges: [[1, 10]], present: [2, 3, 7], max: 6, missing: '1,4:6' },
    { ranges: [[1, 4294967295]], present: [5], max: 8, missing: '1:4,6:8' },
    {
      ranges: [
        [3, 4],
        [8, 9],
      ],
      present: [1, 3, 4, 9, 12],
      max: 20,
      missing: '8',
    },
    { ranges: [[1, 3]], present: [], max: 0, missing: '' },
  ] as Array<{ ranges: Array<[number, number]>; present: number[]; max: number; missing: string }>)(
    'the uids of $ranges up to $max missing from $present are $missing',
    ({ ranges, present, max, missing }) => {
      const out = missingFrom(ranges, present, max);
      expect(out.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',')).toBe(missing);
    },
  );

  it('writes VANISHED lines, EARLIER or not, none for nothing, and splits very long sets', () => {
    expect(
      vanishedLines(
        [
          [1, 3],
          [7, 7],
        ],
        false,
      ),
    ).toEqual(['* VANISHED 1:3,7']);
    expect(vanishedLines([[4, 4]], true)).toEqual(['* VANISHED (EARLIER) 4']);
    expect(vanishedLines([], true)).toEqual([]);
    const many = toRanges(Array.from({ length: 5000 }, (_, i) => i * 2 + 1));
    const lines = vanishedLines(many, false);
    expect(lines.length).toBeGreaterThan(1);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(8200);
    const uids = lines.flatMap((l) => l.slice('* VANISHED '.length).split(',').map(Number));
    expect(uids).toEqual(many.map(([a]) => a));
  });
});
