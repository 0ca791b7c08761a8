/** An inclusive range of uids, `[lo, hi]` with lo <= hi. */
export type UidRange = [number, number];

/** Sorted, with overlapping and adjacent ranges merged. */
export function normalizeRanges(ranges: UidRange[]): UidRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: UidRange[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Ascending uids as ranges. */
export function toRanges(uids: number[]): UidRange[] {
  const out: UidRange[] = [];
  for (const uid of uids) {
    const last = out[out.length - 1];
    if (last && uid === last[1] + 1) last[1] = uid;
    else out.push([uid, uid]);
  }
  return out;
}

/** Whether `uid` is in normalized `ranges` (binary search: a client may send thousands). */
export function inRanges(uid: number, ranges: UidRange[]): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid]!;
    if (uid < a) hi = mid - 1;
    else if (uid > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** How many uids the ranges cover. */
export function countRanges(ranges: UidRange[]): number {
  return ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/**
 * The uids of normalized `ranges`, up to `max`, that are not in `present` (ascending), as
 * ranges. Works on ranges, never on expanded uids: `1:4294967295` is a valid client set.
 */
export function missingFrom(ranges: UidRange[], present: number[], max: number): UidRange[] {
  const out: UidRange[] = [];
  let i = 0;
  for (const [a, b] of ranges) {
    if (a > max) break;
    const hi = Math.min(b, max);
    let from = a;
    while (i < present.length && present[i]! < a) i++;
    while (i < present.length && present[i]! <= hi) {
      if (present[i]! > from) out.push([from, present[i]! - 1]);
      from = present[i]! + 1;
      i++;
    }
    if (from <= hi) out.push([from, hi]);
  }
  return out;
}

/** A set in IMAP syntax (`1:3,7`). */
export function rangesToSet(ranges: UidRange[]): string {
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}:${b}`)).join(',');
}

// RFC 7162 §4 asks clients to keep lines near 8192 octets; our VANISHED lines stay below it too.
const MAX_SET_CHARS = 8000;

/**
 * `* VANISHED [(EARLIER) ]set` lines for the ranges (RFC 7162 §3.2.10), split so that no line
 * is much longer than 8 KB; none when the ranges are empty.
 */
export function vanishedLines(ranges: UidRange[], earlier: boolean): string[] {
  const prefix = earlier ? '* VANISHED (EARLIER) ' : '* VANISHED ';
  const lines: string[] = [];
  let parts: string[] = [];
  let length = 0;
  for (const part of rangesToSet(ranges).split(',')) {
    if (part === '') continue;
    if (length + part.length > MAX_SET_CHARS && parts.length > 0) {
      lines.push(prefix + parts.join(','));
      parts = [];
      length = 0;
    }
    parts.push(part);
    length += part.length + 1;
  }
  if (parts.length > 0) lines.push(prefix + parts.join(','));
  return lines;
}
