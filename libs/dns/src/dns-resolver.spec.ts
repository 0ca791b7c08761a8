import { describe, expect, it } from 'vitest';
import { couldNotCheck, formatDnsServer, lookup } from './dns-resolver';

const failWith = (code: unknown) => () => Promise.reject(Object.assign(new Error('dns'), { code }));

describe('formatDnsServer', () => {
  it.each([
    [{ host: '127.0.0.1', port: 5353 }, '127.0.0.1:5353'],
    [{ host: '192.0.2.53', port: 53 }, '192.0.2.53:53'],
    [{ host: '::1', port: 5353 }, '[::1]:5353'],
    [{ host: '2001:db8::53', port: 53 }, '[2001:db8::53]:53'],
  ])('writes %j as %s', (server, expected) => {
    expect(formatDnsServer(server)).toBe(expected);
  });
});

describe('lookup', () => {
  it.each([
    ['ENOTFOUND', { kind: 'absent' }],
    ['ENODATA', { kind: 'absent' }],
    ['ETIMEOUT', { kind: 'failed', code: 'ETIMEOUT' }],
    ['ESERVFAIL', { kind: 'failed', code: 'ESERVFAIL' }],
    ['ECONNREFUSED', { kind: 'failed', code: 'ECONNREFUSED' }],
    ['EREFUSED', { kind: 'failed', code: 'EREFUSED' }],
    [undefined, { kind: 'failed', code: 'EUNKNOWN' }],
  ])('classifies %s', async (code, expected) => {
    expect(await lookup(failWith(code))).toEqual(expected);
  });

  it('treats an empty answer as absent and keeps a non-empty one', async () => {
    expect(await lookup(() => Promise.resolve([]))).toEqual({ kind: 'absent' });
    expect(await lookup(() => Promise.resolve(['a']))).toEqual({ kind: 'found', value: ['a'] });
  });

  it('says why a check could not be made', () => {
    expect(couldNotCheck('example.com', 'MX', 'ETIMEOUT')).toBe(
      'Could not check the MX record of example.com: the DNS server did not answer in time. It will be checked again.',
    );
    expect(couldNotCheck('example.com', 'MX', 'EBADRESP')).toMatch(/the lookup failed \(EBADRESP\)/);
  });
});
