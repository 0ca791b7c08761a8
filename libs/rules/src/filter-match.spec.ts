import { describe, expect, it } from 'vitest';
import { globMatch, MAX_REGEX_LENGTH, regexPatternProblem, testNumber, testText } from './filter-match';

describe('globMatch', () => {
  it.each([
    ['*@example.com', 'alice@example.com', true],
    ['*@example.com', 'alice@example.com.evil', false],
    ['*@EXAMPLE.com', 'Alice@Example.COM', true],
    ['invoice ????', 'Invoice 2024', true],
    ['invoice ????', 'Invoice 202', false],
    ['invoice ????', 'Invoice 20245', false],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['*report*', 'Weekly report: sales', true],
    ['report', 'Weekly report', false],
    // Regex metacharacters are literal.
    ['a.b*', 'a.bcd', true],
    ['a.b*', 'axbcd', false],
    ['(x)+[y]', '(x)+[y]', true],
    ['(x)+[y]', 'xxy', false],
    ['^start$', '^start$', true],
    ['^start$', 'start', false],
    // A backslash makes the next wildcard literal.
    ['100\\*', '100*', true],
    ['100\\*', '1000', false],
    ['what\\?', 'what?', true],
    ['what\\?', 'whats', false],
    ['é?', 'Éa', true],
    ['?', '😀', true],
  ])('%j against %j is %s', (glob, text, expected) => {
    expect(globMatch(glob, text)).toBe(expected);
  });

  it('stays fast on a pattern that would backtrack as a regex', () => {
    const started = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('regexPatternProblem', () => {
  it.each(['^invoice-\\d+$', '(?:urgent|asap)', '[a-z]+\\.example\\.com$', 'a{1,5}b', '(?<year>\\d{4})'])(
    'accepts %j',
    (pattern) => {
      expect(regexPatternProblem(pattern)).toBeNull();
    },
  );

  it.each(['(a+)+$', '(.*a){20}', '([a-z]+)*$', '(a*)*', '(x+x+)+y', '(?<=a)b'])(
    'refuses %j as able to backtrack catastrophically',
    (pattern) => {
      expect(regexPatternProblem(pattern)).toMatch(/could take exponential time/);
    },
  );

  it.each(['(a)\\1', '(?<w>a)\\k<w>'])('refuses the backreference in %j', (pattern) => {
    expect(regexPatternProblem(pattern)).toMatch(/backreferences/);
  });

  it('refuses invalid syntax with the engine message', () => {
    expect(regexPatternProblem('(unclosed')).toMatch(/^is not a valid regular expression: .*Unterminated group/);
  });

  it(`refuses patterns longer than ${MAX_REGEX_LENGTH} characters`, () => {
    expect(regexPatternProblem('a'.repeat(MAX_REGEX_LENGTH))).toBeNull();
    expect(regexPatternProblem('a'.repeat(MAX_REGEX_LENGTH + 1))).toBe(
      `must be at most ${MAX_REGEX_LENGTH} characters long (got ${MAX_REGEX_LENGTH + 1})`,
    );
  });

  it('allows a digit escaped inside a character class', () => {
    expect(regexPatternProblem('[\\1]')).toBeNull();
  });
});

describe('testText', () => {
  it.each([
    ['is', 'Hello', 'hello', true],
    ['is', 'Hello', 'hello world', false],
    ['contains', 'WORLD', 'hello world', true],
    ['contains', 'planet', 'hello world', false],
    ['matches', 'hello *', 'Hello World', true],
    ['matches', 'hello', 'Hello World', false],
    ['regex', '^hello\\s+w', 'HELLO   World', true],
    ['regex', '^world', 'hello world', false],
    // A pattern refused today never runs, even if it was stored earlier.
    ['regex', '(a+)+$', 'aaaa', false],
  ] as const)('%s %j on %j is %s', (operator, expected, actual, result) => {
    expect(testText(operator, expected, actual)).toBe(result);
  });
});

describe('testNumber', () => {
  it.each([
    ['greaterThan', 100, 101, true],
    ['greaterThan', 100, 100, false],
    ['lessThan', 100, 99, true],
    ['lessThan', 100, 100, false],
    ['lessThan', 0, -1.5, true],
  ] as const)('%s %d with %d is %s', (operator, expected, actual, result) => {
    expect(testNumber(operator, expected, actual)).toBe(result);
  });
});
