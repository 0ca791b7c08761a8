import { describe, expect, it } from 'vitest';
import {
  evaluateIpAccess,
  type IpAccessRule,
  ipInCidrs,
  isPublicAddress,
  throttleSubject,
  validateCidr,
} from './ip-access';

describe('validateCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    [' 192.0.2.0/24 ', '192.0.2.0/24'],
    ['192.0.2.7', '192.0.2.7/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:192.0.2.1', '192.0.2.1/32'],
  ])('normalizes %j to %j', (input, cidr) => {
    expect(validateCidr(input)).toEqual({ ok: true, cidr });
  });

  it.each([
    ['10.0.0.1/33', 'prefix length must be 0-32 for IPv4'],
    ['2001:db8::/129', 'prefix length must be 0-128 for IPv6'],
    ['10.0.0.0/abc', 'prefix length must be a number 0-32 for IPv4'],
    ['10.0.0.0/', 'prefix length must be a number 0-32 for IPv4'],
    ['10.0.0.0/8/8', 'prefix length must be a number 0-32 for IPv4'],
    ['10.0.0.1/8', 'host bits are set: use 10.0.0.0/8 for the network or 10.0.0.1/32 for the one address'],
    ['2001:db8::1/32', 'host bits are set: use 2001:db8::/32 for the network or 2001:db8::1/128 for the one address'],
    [
      '010.0.0.1',
      '"010.0.0.1" is not an IPv4 or IPv6 address (IPv4 is four decimal numbers 0-255 without leading zeros)',
    ],
    ['10.1/16', '"10.1" is not an IPv4 or IPv6 address (IPv4 is four decimal numbers 0-255 without leading zeros)'],
    [
      '256.0.0.0/8',
      '"256.0.0.0" is not an IPv4 or IPv6 address (IPv4 is four decimal numbers 0-255 without leading zeros)',
    ],
    ['example.com/24', '"example.com" is not an IPv4 or IPv6 address'],
    ['fe80::1%eth0/64', '"fe80::1%eth0" is not an IPv4 or IPv6 address'],
    ['', 'a CIDR such as 192.0.2.0/24 or 2001:db8::/32 is required'],
  ])('refuses %j: %s', (input, error) => {
    expect(validateCidr(input)).toEqual({ ok: false, error });
  });
});

describe('ipInCidrs', () => {
  const cidrs = ['192.0.2.0/24', '2001:db8::/32'];
  it.each([
    ['192.0.2.55', true],
    ['192.0.3.1', false],
    ['::ffff:192.0.2.55', true],
    ['::ffff:192.0.3.1', false],
    ['2001:db8:1234::1', true],
    ['2001:db9::1', false],
    ['fe80::1%eth0', false],
    ['not an ip', false],
  ])('%s is in %j: %s', (ip, expected) => {
    expect(ipInCidrs(ip, cidrs)).toBe(expected);
  });

  it('matches nothing with an empty list and ignores invalid entries', () => {
    expect(ipInCidrs('192.0.2.1', [])).toBe(false);
    expect(ipInCidrs('192.0.2.1', ['garbage', '192.0.2.1/8', '192.0.2.1'])).toBe(true);
    expect(ipInCidrs('192.0.2.1', ['garbage', '192.0.2.1/8'])).toBe(false);
  });

  it('matches a link-local client with a zone id', () => {
    expect(ipInCidrs('fe80::1%eth0', ['fe80::/10'])).toBe(true);
  });
});

describe('evaluateIpAccess', () => {
  const rule = (cidr: string, action: 'allow' | 'deny', priority = 100, service: IpAccessRule['service'] = 'imap') => ({
    cidr,
    action,
    service,
    priority,
  });

  it('allows by default when the service has no rules', () => {
    expect(evaluateIpAccess([rule('0.0.0.0/0', 'deny', 1, 'pop3')], 'imap', '198.51.100.1')).toEqual({
      allowed: true,
      reason: 'no rule for imap matched; allowed by default',
    });
  });

  it('denies by default once the service has an allow rule (allowlist)', () => {
    const rules = [rule('192.0.2.0/24', 'allow')];
    expect(evaluateIpAccess(rules, 'imap', '192.0.2.9')).toMatchObject({ allowed: true, rule: rules[0] });
    expect(evaluateIpAccess(rules, 'imap', '198.51.100.1')).toEqual({
      allowed: false,
      reason: 'no rule matched and imap has allow rules, so other addresses are denied',
    });
    expect(evaluateIpAccess(rules, 'submission', '198.51.100.1').allowed).toBe(true);
  });

  it('lets a lower priority number win over specificity', () => {
    const rules = [rule('10.1.2.0/24', 'allow', 20), rule('10.0.0.0/8', 'deny', 10)];
    const sut = evaluateIpAccess(rules, 'imap', '10.1.2.3');
    expect(sut).toEqual({ allowed: false, rule: rules[1], reason: 'denied by rule 10.0.0.0/8 (priority 10)' });
  });

  it('prefers the most specific prefix among equal priorities', () => {
    const rules = [rule('10.0.0.0/8', 'deny'), rule('10.1.2.0/24', 'allow'), rule('10.1.0.0/16', 'deny')];
    expect(evaluateIpAccess(rules, 'imap', '10.1.2.3')).toMatchObject({ allowed: true, rule: rules[1] });
    expect(evaluateIpAccess(rules, 'imap', '10.1.9.9')).toMatchObject({ allowed: false, rule: rules[2] });
    expect(evaluateIpAccess(rules, 'imap', '10.9.9.9')).toMatchObject({ allowed: false, rule: rules[0] });
  });

  it('prefers deny on a full tie of priority and prefix, whatever the list order', () => {
    const allow = rule('10.0.0.0/8', 'allow');
    const deny = rule('10.0.0.0/8', 'deny');
    expect(evaluateIpAccess([allow, deny], 'imap', '10.0.0.1')).toMatchObject({ allowed: false, rule: deny });
    expect(evaluateIpAccess([deny, allow], 'imap', '10.0.0.1')).toMatchObject({ allowed: false, rule: deny });
  });

  it('matches IPv6 rules', () => {
    const rules = [rule('2001:db8::/32', 'deny', 10), rule('::/0', 'allow', 20)];
    expect(evaluateIpAccess(rules, 'imap', '2001:db8:ffff::1')).toMatchObject({ allowed: false, rule: rules[0] });
    expect(evaluateIpAccess(rules, 'imap', '2001:db9::1')).toMatchObject({ allowed: true, rule: rules[1] });
  });

  it('matches an IPv4-mapped client against IPv4 rules and not against IPv6 rules', () => {
    const rules = [rule('10.0.0.0/8', 'deny', 50), rule('::/0', 'allow', 10)];
    expect(evaluateIpAccess(rules, 'imap', '::ffff:10.0.0.1')).toMatchObject({ allowed: false, rule: rules[0] });
    expect(evaluateIpAccess(rules, 'imap', '::FFFF:0a00:0001')).toMatchObject({ allowed: false, rule: rules[0] });
  });

  it('matches a rule written as an IPv4-mapped network against a plain IPv4 client', () => {
    const rules = [rule('::ffff:10.0.0.0/104', 'deny')];
    expect(evaluateIpAccess(rules, 'imap', '10.20.30.40')).toMatchObject({ allowed: false, rule: rules[0] });
  });

  it('denies an unparseable client address', () => {
    expect(evaluateIpAccess([], 'imap', 'unknown')).toEqual({
      allowed: false,
      reason: '"unknown" is not an IP address',
    });
  });

  it('skips a stored rule with an invalid CIDR but still counts it for the allowlist', () => {
    const rules = [rule('10.0.0.1/8', 'allow')];
    expect(evaluateIpAccess(rules, 'imap', '10.0.0.1')).toMatchObject({ allowed: false });
    expect(evaluateIpAccess(rules, 'imap', '10.0.0.1').rule).toBeUndefined();
  });

  it('returns the caller’s own rule object, extra fields included', () => {
    const rules = [{ ...rule('192.0.2.0/24', 'deny'), id: 'r-1' }];
    expect(evaluateIpAccess(rules, 'imap', '192.0.2.1').rule?.id).toBe('r-1');
  });
});

describe('throttleSubject', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['not an ip', 'not an ip'],
  ])('counts %s as %s', (ip, subject) => {
    expect(throttleSubject(ip)).toBe(subject);
  });
});

describe('isPublicAddress', () => {
  it.each(['93.184.216.34', '8.8.8.8', '2001:4860:4860::8888'])('%s is public', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::',
    '::1',
    'fc00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    'nonsense',
  ])('%s is not', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });
});
