import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkLocalPart, parseMailAddress, srsForward, srsReverse } from './index';

describe('parseMailAddress', () => {
  it.each([
    ['Jane.Doe@Example.COM', { localPart: 'Jane.Doe', localKey: 'jane.doe', domain: 'example.com' }],
    ["o'brien+tag@example.com", { localPart: "o'brien+tag", localKey: "o'brien+tag", domain: 'example.com' }],
    ['info@bücher.example', { localPart: 'info', domain: 'xn--bcher-kva.example' }],
    ['a@b.example.', { domain: 'b.example' }],
  ])('accepts %s', (input, expected) => {
    const sut = parseMailAddress(input);
    expect(sut.ok).toBe(true);
    if (sut.ok) expect(sut.value).toMatchObject(expected);
  });

  it.each([
    ['no-at-sign.example.com', /must be an address/],
    ['@example.com', /must be an address/],
    ['a..b@example.com', /two dots/],
    ['.a@example.com', /start or end with a dot/],
    ['a b@example.com', /may contain only/],
    ['"quoted"@example.com', /may contain only/],
    [`${'x'.repeat(65)}@example.com`, /longer than 64 octets/],
    ['josé@example.com', /need SMTPUTF8/],
    ['a@localhost', /not a valid domain/],
    ['a@exa_mple.com', /not a valid domain/],
  ])('refuses %s', (input, message) => {
    const sut = parseMailAddress(input);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.message).toMatch(message);
  });

  it('accepts a non-ASCII local part when SMTPUTF8 is enabled, counting octets', () => {
    expect(parseMailAddress('josé@example.com', { smtputf8: true }).ok).toBe(true);
    expect(checkLocalPart('é'.repeat(33), { smtputf8: true })).toMatch(/64 octets/);
  });
});

describe('SRS', () => {
  const secret = randomBytes(32);

  it('rewrites a sender into our domain and back', () => {
    const sut = srsForward('alice@origin.example', 'fwd.mailroom.test', secret);
    expect(sut).toMatch(/^SRS0=[A-Za-z0-9_-]{4}=[A-Z2-7]{2}=origin\.example=alice@fwd\.mailroom\.test$/);
    expect(srsReverse(sut, secret)).toBe('alice@origin.example');
  });

  it('refuses a forged hash, another secret and an expired stamp', () => {
    const sut = srsForward('alice@origin.example', 'fwd.mailroom.test', secret);
    expect(srsReverse(sut.replace(/^SRS0=..../, 'SRS0=AAAA'), secret)).toBeNull();
    expect(srsReverse(sut, randomBytes(32))).toBeNull();
    const old = srsForward('alice@origin.example', 'fwd.mailroom.test', secret, new Date(Date.now() - 30 * 86_400_000));
    expect(srsReverse(old, secret)).toBeNull();
  });

  it('keeps the null sender empty and ignores addresses that are not SRS', () => {
    expect(srsForward('', 'fwd.mailroom.test', secret)).toBe('');
    expect(srsReverse('bob@fwd.mailroom.test', secret)).toBeNull();
  });
});
