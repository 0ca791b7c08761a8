import { describe, expect, it } from 'vitest';
import { dsnParams, dsnRequested, successAction, type DsnEvent } from './dsn-policy';

describe('dsnRequested (RFC 3461 NOTIFY)', () => {
  const cases: [string[], DsnEvent, boolean][] = [
    [[], 'failure', true],
    [[], 'success', false],
    [[], 'delay', false],
    [['NEVER'], 'failure', false],
    [['NEVER'], 'success', false],
    [['NEVER'], 'delay', false],
    [['SUCCESS'], 'failure', false],
    [['SUCCESS'], 'success', true],
    [['DELAY'], 'delay', true],
    [['DELAY'], 'failure', false],
    [['FAILURE'], 'failure', true],
    [['FAILURE'], 'delay', false],
    [['SUCCESS', 'FAILURE', 'DELAY'], 'success', true],
    [['SUCCESS', 'FAILURE', 'DELAY'], 'failure', true],
    [['SUCCESS', 'FAILURE', 'DELAY'], 'delay', true],
  ];
  it.each(cases)('NOTIFY=%j on %s: %s', (notify, event, expected) => {
    expect(dsnRequested(notify, event)).toBe(expected);
  });
});

describe('successAction', () => {
  it.each([
    [[], false, null],
    [['SUCCESS'], false, 'relayed'],
    [['SUCCESS'], true, null],
    [['FAILURE'], false, null],
    [['NEVER'], false, null],
  ] as [string[], boolean, string | null][])('NOTIFY=%j, next hop took DSN %s: %s', (notify, took, expected) => {
    expect(successAction(notify, took)).toBe(expected);
  });
});

describe('dsnParams', () => {
  it('passes on only what the sender gave', () => {
    expect(dsnParams({ dsnRet: null, dsnEnvid: null }, { dsnNotify: [], dsnOrcpt: null })).toBeNull();
    expect(
      dsnParams({ dsnRet: 'HDRS', dsnEnvid: 'id 1' }, { dsnNotify: ['SUCCESS', 'FAILURE'], dsnOrcpt: 'rfc822;a@b' }),
    ).toEqual({ ret: 'HDRS', envid: 'id 1', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;a@b' });
    expect(dsnParams({ dsnRet: 'bogus', dsnEnvid: null }, { dsnNotify: ['NEVER'], dsnOrcpt: null })).toEqual({
      notify: ['NEVER'],
    });
  });
});
