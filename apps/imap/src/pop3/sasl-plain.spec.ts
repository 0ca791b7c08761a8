import { describe, expect, it } from 'vitest';
import { AccessDenied } from '@mailroom/access';
import { accessDeniedReason, decodePlain } from './sasl-plain';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('decodePlain', () => {
  it.each([
    [
      'no authzid',
      b64('\0alice@acme.test\0pass word'),
      { authzid: '', authcid: 'alice@acme.test', password: 'pass word' },
    ],
    ['an authzid', b64('a\0alice@acme.test\0p'), { authzid: 'a', authcid: 'alice@acme.test', password: 'p' }],
    ['a UTF-8 password', b64('\0a@b.test\0pässwörd'), { authzid: '', authcid: 'a@b.test', password: 'pässwörd' }],
  ])('decodes %s', (_name, input, expected) => {
    expect(decodePlain(input)).toEqual(expected);
  });

  it.each([
    ['the empty response', '='],
    ['not base64', 'not base64!'],
    ['two fields', b64('alice\0pass')],
    ['four fields', b64('a\0b\0c\0d')],
    ['an empty authcid', b64('\0\0pass')],
  ])('refuses %s', (_name, input) => {
    expect(decodePlain(input)).toBeNull();
  });
});

describe('accessDeniedReason', () => {
  it('reads the reason of an AccessDenied and nothing else', () => {
    expect(accessDeniedReason(new AccessDenied('service-disabled', 'pop3'))).toBe('service-disabled');
    expect(accessDeniedReason(new Error('database down'))).toBeNull();
  });
});
