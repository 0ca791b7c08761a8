import { describe, expect, it } from 'vitest';
import { parseMailDsn, parseRcptDsn } from './dsn-params';

describe('parseMailDsn', () => {
  it.each([
    ['no parameters', undefined, { ret: null, envid: null }],
    ['no DSN parameters', { SIZE: '100' }, { ret: null, envid: null }],
    ['RET=FULL', { RET: 'FULL' }, { ret: 'FULL', envid: null }],
    ['RET=hdrs in lower case', { RET: 'hdrs' }, { ret: 'HDRS', envid: null }],
    ['ENVID (already xtext-decoded)', { ENVID: 'QQ314159+x' }, { ret: null, envid: 'QQ314159+x' }],
    ['both', { RET: 'HDRS', ENVID: 'abc' }, { ret: 'HDRS', envid: 'abc' }],
    ['ENVID of 100 characters', { ENVID: 'x'.repeat(100) }, { ret: null, envid: 'x'.repeat(100) }],
  ])('accepts %s', (_name, args, value) => {
    expect(parseMailDsn(args)).toEqual({ ok: true, value });
  });

  it.each([
    ['RET=ALL', { RET: 'ALL' }, /RET must be FULL or HDRS/],
    ['RET without a value', { RET: true }, /RET needs a value/],
    ['ENVID without a value', { ENVID: true }, /ENVID needs a value/],
    ['ENVID over 100 characters', { ENVID: 'x'.repeat(101) }, /at most 100/],
    ['ENVID with a space', { ENVID: 'a b' }, /printable ASCII/],
    ['ENVID with non-ASCII', { ENVID: 'é' }, /printable ASCII/],
  ])('refuses %s', (_name, args, error) => {
    const sut = parseMailDsn(args);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.error).toMatch(error);
  });
});

describe('parseRcptDsn', () => {
  it.each([
    ['no parameters', undefined, { notify: [], orcpt: null }],
    ['NOTIFY=NEVER', { NOTIFY: 'NEVER' }, { notify: ['NEVER'], orcpt: null }],
    ['NOTIFY=success,failure', { NOTIFY: 'success,failure' }, { notify: ['SUCCESS', 'FAILURE'], orcpt: null }],
    ['NOTIFY=DELAY', { NOTIFY: 'DELAY' }, { notify: ['DELAY'], orcpt: null }],
    ['ORCPT (decoded)', { ORCPT: 'rfc822;bob+tag@x.example' }, { notify: [], orcpt: 'rfc822;bob+tag@x.example' }],
    ['ORCPT with an upper-case type', { ORCPT: 'RFC822;b@x.example' }, { notify: [], orcpt: 'rfc822;b@x.example' }],
  ])('accepts %s', (_name, args, value) => {
    expect(parseRcptDsn(args)).toEqual({ ok: true, value });
  });

  it.each([
    ['NOTIFY=NEVER,SUCCESS', { NOTIFY: 'NEVER,SUCCESS' }, /NOTIFY must be NEVER/],
    ['NOTIFY=SOMETIMES', { NOTIFY: 'SOMETIMES' }, /NOTIFY must be NEVER/],
    ['NOTIFY=SUCCESS,SUCCESS', { NOTIFY: 'SUCCESS,SUCCESS' }, /twice/],
    ['NOTIFY without a value', { NOTIFY: true }, /NOTIFY needs a value/],
    ['ORCPT of another type', { ORCPT: 'x400;c=us' }, /rfc822/],
    ['ORCPT without a type', { ORCPT: 'b@x.example' }, /rfc822/],
    ['ORCPT that is no address', { ORCPT: 'rfc822;nobody' }, /email address/],
    ['ORCPT without a value', { ORCPT: true }, /ORCPT needs a value/],
  ])('refuses %s', (_name, args, error) => {
    const sut = parseRcptDsn(args);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.error).toMatch(error);
  });
});
