// As in the MTA, auth-check.ts loads the caches before anything else of mailauth.
import { AuthChecker } from './auth-check';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { heldMessage } from '@test/support/mail-fixtures';
import { cacheSpfRanges } from './spf-cidr-cache';

const DOMAIN = 'sender.test';
const RECORD = 'v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ip4:203.0.113.7/32 -all';

/** The copy of ipaddr.js that mailauth's SPF check calls. */
function mailauthIpaddr(): { parseCIDR: (range: string) => unknown } {
  return createRequire(require.resolve('mailauth/lib/spf/spf-verify'))('ipaddr.js') as {
    parseCIDR: (range: string) => unknown;
  };
}

function dns(record: string) {
  return (name: string, rrtype: string): Promise<string[][]> => {
    if (rrtype === 'TXT' && name === DOMAIN) return Promise.resolve([[record]]);
    return Promise.reject(Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' }));
  };
}

async function spfOf(record: string, ip: string) {
  const bytes = Buffer.from(`From: s@${DOMAIN}\r\nTo: a@acme.test\r\nSubject: hi\r\n\r\nhello\r\n`);
  const checker = new AuthChecker('mx.mailroom.test', dns(record), 5000);
  const verdict = await checker.check({
    message: heldMessage(bytes),
    ip,
    helo: 'client.test',
    sender: `s@${DOMAIN}`,
  });
  return verdict.spf;
}

describe("SPF ranges parsed once (mailauth's copy of ipaddr.js)", () => {
  it('is in effect for the parseCIDR mailauth calls, once however often it is installed', () => {
    const before = mailauthIpaddr().parseCIDR;
    expect((before as { cached?: true }).cached).toBe(true);
    cacheSpfRanges();
    expect(mailauthIpaddr().parseCIDR).toBe(before);
  });

  it('gives each verdict as before, parsing each range once for many messages', async () => {
    // ipaddr.js's own parseCIDR tries every range as IPv6 first: its calls count the parses.
    const ipaddr = mailauthIpaddr() as ReturnType<typeof mailauthIpaddr> & {
      IPv6: { parseCIDR: (range: string) => unknown };
    };
    const parses = vi.spyOn(ipaddr.IPv6, 'parseCIDR');
    const perRound: number[] = [];
    try {
      // Inside the first, the IPv6 and the last range; outside all of them; twice over.
      for (let round = 0; round < 2; round++) {
        expect(await spfOf(RECORD, '198.51.100.42')).toBe('pass');
        expect(await spfOf(RECORD, '2001:db8::25')).toBe('pass');
        expect(await spfOf(RECORD, '203.0.113.7')).toBe('pass');
        expect(await spfOf(RECORD, '203.0.113.8')).toBe('fail');
        expect(await spfOf(RECORD, '192.0.2.1')).toBe('fail');
        perRound.push(parses.mock.calls.length);
      }
    } finally {
      parses.mockRestore();
    }
    // The record's three ranges, each parsed once; the second round parses none.
    expect(perRound).toEqual([3, 3]);
    const first = ipaddr.parseCIDR('198.51.100.0/24');
    expect(ipaddr.parseCIDR('198.51.100.0/24')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('throws the same error again for a range that is not one', () => {
    const ipaddr = mailauthIpaddr();
    let first: unknown;
    let second: unknown;
    try {
      ipaddr.parseCIDR('198.51.100.0/99');
    } catch (err) {
      first = err;
    }
    try {
      ipaddr.parseCIDR('198.51.100.0/99');
    } catch (err) {
      second = err;
    }
    expect(first).toBeInstanceOf(Error);
    expect(String(first)).toMatch(/CIDR/);
    // The kept answer: the same error, not parsed (and thrown) afresh.
    expect(second).toBe(first);
  });

  it('keeps no range longer than an address and its prefix (an IPv6 zone of any length)', () => {
    const ipaddr = mailauthIpaddr() as ReturnType<typeof mailauthIpaddr> & {
      IPv6: { parseCIDR: (range: string) => unknown };
    };
    const long = `fe80::1%${'z'.repeat(200)}/64`;
    const parses = vi.spyOn(ipaddr.IPv6, 'parseCIDR');
    try {
      const a = ipaddr.parseCIDR(long);
      const b = ipaddr.parseCIDR(long);
      expect(b).not.toBe(a);
      expect(parses).toHaveBeenCalledTimes(2);
    } finally {
      parses.mockRestore();
    }
  });
});
