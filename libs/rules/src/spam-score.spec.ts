import { describe, expect, it } from 'vitest';
import { messageSummaryFromHeaders, type AuthResult } from './message-summary';
import { scoreMessage, spamHeaders } from './spam-score';

const now = new Date('2026-11-28T12:00:00Z');
const clean = 'From: a@b.example\r\nDate: Sat, 28 Nov 2026 11:00:00 +0000\r\nMessage-ID: <1@b.example>\r\n\r\n';

function score(
  header: string,
  auth: Partial<Record<'spf' | 'dkim' | 'dmarc', AuthResult>> = {},
  dnsbl: string[] = [],
  dmarcPolicy: string | null = null,
) {
  return scoreMessage({
    auth: { spf: 'none', dkim: 'none', dmarc: 'none', ...auth },
    dmarcPolicy,
    dnsbl,
    summary: messageSummaryFromHeaders(header, header.length),
    now,
  });
}

describe('scoreMessage', () => {
  it.each([
    ['a clean message with nothing to check', clean, {}, [], null, 0, []],
    ['DMARC pass', clean, { dmarc: 'pass' }, [], null, -1, ['DMARC_PASS']],
    ['SPF fail', clean, { spf: 'fail' }, [], null, 3, ['SPF_FAIL']],
    ['SPF softfail', clean, { spf: 'softfail' }, [], null, 1.5, ['SPF_SOFTFAIL']],
    ['DKIM fail', clean, { dkim: 'fail' }, [], null, 2, ['DKIM_FAIL']],
    ['DMARC fail, p=reject', clean, { dmarc: 'fail' }, [], 'reject', 6, ['DMARC_FAIL', 'DMARC_FAIL_REJECT_POLICY']],
    ['one DNSBL listing', clean, {}, ['bl.example'], null, 6, ['DNSBL_LISTED']],
    ['no header fields at all', '\r\n', {}, [], null, 5, ['MISSING_FROM', 'MISSING_DATE', 'MISSING_MESSAGE_ID']],
    ['two From fields', `From: c@d.example\r\n${clean}`, {}, [], null, 3, ['MULTIPLE_FROM']],
    [
      'a Date two days ahead',
      'From: a@b.example\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@b>\r\n\r\n',
      {},
      [],
      null,
      1.5,
      ['DATE_IN_FUTURE'],
    ],
  ] as const)('%s', (_name, header, auth, dnsbl, policy, expected, rules) => {
    const sut = score(header, auth, [...dnsbl], policy);
    expect(sut.score).toBe(expected);
    expect(sut.hits.map((h) => h.rule)).toEqual(rules);
  });
});

describe('spamHeaders', () => {
  it('flags a message at or above the junk threshold and names the tests', () => {
    const sut = spamHeaders({ score: 6, hits: [{ rule: 'DNSBL_LISTED', score: 6 }] }, 5, 'mx.example');
    expect(sut).toContain('X-Spam-Flag: YES\r\n');
    expect(sut).toContain('X-Spam-Status: Yes, score=6.0 required=5.0\r\n\ttests=DNSBL_LISTED scanner=mx.example\r\n');
    expect(spamHeaders({ score: 1, hits: [] }, 5, 'mx.example')).toContain('X-Spam-Flag: NO');
  });
});
