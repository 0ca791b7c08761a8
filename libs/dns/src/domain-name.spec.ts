import { describe, expect, it } from 'vitest';
import { normalizeDomain } from './domain-name';

const options = { platformDomains: ['mailroom.test', 'Mailroom.example.', 'Bücher-Post.test'] };

describe('normalizeDomain', () => {
  it.each([
    ['example.com', 'example.com', 'example.com'],
    ['  Example.COM.  ', 'example.com', 'example.com'],
    ['Bücher.de', 'xn--bcher-kva.de', 'bücher.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de', 'bücher.de'],
    ['例え.jp', 'xn--r8jz45g.jp', '例え.jp'],
    ['mail.example.co.uk', 'mail.example.co.uk', 'mail.example.co.uk'],
    ['example.co.uk', 'example.co.uk', 'example.co.uk'],
    ['foo.github.io', 'foo.github.io', 'foo.github.io'],
    ['tenant.test', 'tenant.test', 'tenant.test'],
    ['a-b.example.com', 'a-b.example.com', 'a-b.example.com'],
  ])('accepts %j as %s (shown as %s)', (input, ascii, unicode) => {
    expect(normalizeDomain(input, options)).toEqual({ ok: true, ascii, unicode });
  });

  it.each([
    ['', /Enter a domain/],
    ['com', /public suffix/],
    ['co.uk', /public suffix/],
    ['github.io', /public suffix/],
    ['mailroom.test', /belongs to the platform \(mailroom\.test\)/],
    ['demo.mailroom.test', /belongs to the platform/],
    ['x.MAILROOM.example', /belongs to the platform \(mailroom\.example\)/],
    ['mx.bücher-post.test', /belongs to the platform \(xn--bcher-post-9db\.test\)/],
    ['192.0.2.1', /IP address/],
    ['[2001:db8::1]', /IP address/],
    ['localhost', /special-use/],
    ['intranet', /public suffix/],
    ['printer.local', /special-use/],
    ['example..com', /empty label/],
    ['.example.com', /empty label/],
    ['-bad.example.com', /letters, digits and inner hyphens/],
    ['bad-.example.com', /letters, digits and inner hyphens/],
    ['under_score.example.com', /letters, digits and inner hyphens/],
    ['ab--cd.example.com', /reserved for IDN/],
    ['user@example.com', /not a valid domain/],
    ['exa mple.com', /not a valid domain/],
    ['xn--zz.com', /not a valid domain/],
    [`${'a'.repeat(64)}.com`, /longer than 63/],
    [`${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}.com`, /longer than 253/],
    ['example.123', /not a valid domain|numeric/],
  ])('refuses %j', (input, message) => {
    const sut = normalizeDomain(input, options);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.message).toMatch(message);
  });

  it('accepts a 63-character label and a 253-character name, and refuses 254', () => {
    const label = 'a'.repeat(63);
    expect(normalizeDomain(`${label}.com`, options).ok).toBe(true);
    const name = `${label}.${label}.${label}.${'a'.repeat(57)}.com`;
    expect(name).toHaveLength(253);
    expect(normalizeDomain(name, options).ok).toBe(true);
    expect(normalizeDomain(`b${name}`, options)).toMatchObject({ ok: false });
  });
});
