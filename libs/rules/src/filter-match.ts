import safeRegex from 'safe-regex2';

/** Longest regular expression a filter may hold; long patterns are where backtracking hides. */
export const MAX_REGEX_LENGTH = 256;

export type TextOperator = 'is' | 'contains' | 'matches' | 'regex';
export type NumberOperator = 'greaterThan' | 'lessThan';

type GlobToken = { kind: 'char'; ch: string } | { kind: 'one' } | { kind: 'any' };

function tokenizeGlob(glob: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  const chars = Array.from(glob);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (ch === '\\' && i + 1 < chars.length) {
      tokens.push({ kind: 'char', ch: chars[++i] ?? '' });
    } else if (ch === '*') {
      tokens.push({ kind: 'any' });
    } else if (ch === '?') {
      tokens.push({ kind: 'one' });
    } else {
      tokens.push({ kind: 'char', ch });
    }
  }
  return tokens;
}

/**
 * Anchored, case-insensitive wildcard match: `*` is any run of characters (also none), `?` one
 * character, and a backslash makes the next character literal, as Sieve's `:matches`
 * (RFC 5228 §2.7.1). Everything else, regex metacharacters included, is literal.
 *
 * Matched directly rather than translated to a RegExp: a pattern such as `*a*a*a*a*b` would
 * backtrack polynomially in V8, while this loop is O(pattern × text) whatever the input.
 */
export function globMatch(glob: string, text: string): boolean {
  const pattern = tokenizeGlob(glob.toLowerCase());
  const subject = Array.from(text.toLowerCase());
  let p = 0;
  let t = 0;
  let starAt = -1;
  let starText = 0;
  while (t < subject.length) {
    const token = pattern[p];
    if (token && (token.kind === 'one' || (token.kind === 'char' && token.ch === subject[t]))) {
      p++;
      t++;
    } else if (token?.kind === 'any') {
      starAt = p++;
      starText = t;
    } else if (starAt >= 0) {
      p = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (pattern[p]?.kind === 'any') {
    p++;
  }
  return p === pattern.length;
}

// Backreferences make matching NP-hard and safe-regex2 does not look at them.
function hasBackreference(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      const next = pattern[++i] ?? '';
      if (!inClass && /[1-9k]/.test(next)) {
        return true;
      }
    } else if (ch === '[') {
      inClass = true;
    } else if (ch === ']') {
      inClass = false;
    }
  }
  return false;
}

/**
 * Why a filter's regular expression is refused, or `null` when it may be stored. Refused:
 * longer than {@link MAX_REGEX_LENGTH}, not valid JavaScript syntax, backreferences, and
 * anything safe-regex2 rejects (nested quantifiers such as `(a+)+`, more than 25 quantifiers,
 * syntax it cannot parse such as lookbehind), because a catastrophic pattern evaluated on the
 * MTA's delivery path would stall every message of every tenant on that process.
 */
export function regexPatternProblem(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) {
    return `must be at most ${MAX_REGEX_LENGTH} characters long (got ${pattern.length})`;
  }
  if (hasBackreference(pattern)) {
    return 'must not use backreferences such as \\1 or \\k<name>';
  }
  try {
    new RegExp(pattern, 'i');
  } catch (err) {
    return `is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!safeRegex(pattern)) {
    return (
      'is refused because it could take exponential time: avoid nested repetition such as (a+)+ ' +
      'or (.*a){20}, more than 25 quantifiers, and lookbehind'
    );
  }
  return null;
}

const compiled = new Map<string, RegExp | null>();
const MAX_COMPILED = 1000;

/** Compiles a pattern once; a refused pattern (stored before a rule change) never matches. */
function filterRegex(pattern: string): RegExp | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = regexPatternProblem(pattern) === null ? new RegExp(pattern, 'i') : null;
    if (compiled.size >= MAX_COMPILED) {
      compiled.clear();
    }
    compiled.set(pattern, re);
  }
  return re;
}

/** Applies a text operator; comparisons ignore case (Sieve's default i;ascii-casemap, widened). */
export function testText(operator: TextOperator, expected: string, actual: string): boolean {
  switch (operator) {
    case 'is':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'contains':
      return actual.toLowerCase().includes(expected.toLowerCase());
    case 'matches':
      return globMatch(expected, actual);
    case 'regex':
      return filterRegex(expected)?.test(actual) ?? false;
  }
}

/** Applies a numeric operator; both are strict comparisons. */
export function testNumber(operator: NumberOperator, expected: number, actual: number): boolean {
  switch (operator) {
    case 'greaterThan':
      return actual > expected;
    case 'lessThan':
      return actual < expected;
  }
}
