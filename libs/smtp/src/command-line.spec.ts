import { describe, expect, it } from 'vitest';
import { commandLineLimit, isCommandTooLong } from './command-line';

const line = (prefix: string, length: number) => Buffer.from(prefix + 'x'.repeat(Math.max(0, length - prefix.length)));

describe('command line limits (RFC 5321 §4.5.3.1.4)', () => {
  it.each([
    ['EHLO', 510],
    ['noop', 510],
    ['MAIL', 678],
    ['mail', 678],
    ['RCPT', 1010],
    ['AUTH', null],
    ['', 510],
  ])('%j → %s', (verb, limit) => {
    expect(commandLineLimit(`${verb} x`)).toBe(limit);
  });

  it.each([
    ['NOOP of 510 octets', line('NOOP ', 510), false],
    ['NOOP of 511 octets', line('NOOP ', 511), true],
    ['MAIL of 678 octets', line('MAIL FROM:<a@b> ', 678), false],
    ['MAIL of 679 octets', line('MAIL FROM:<a@b> ', 679), true],
    ['RCPT of 1010 octets', line('RCPT TO:<a@b> ', 1010), false],
    ['RCPT of 1011 octets', line('RCPT TO:<a@b> ', 1011), true],
    ['AUTH of 10000 octets', line('AUTH PLAIN ', 10_000), false],
  ])('%s: too long = %s', (_name, input, expected) => {
    expect(isCommandTooLong(input)).toBe(expected);
  });
});
