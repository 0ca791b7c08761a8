import { describe, expect, it } from 'vitest';
import { countSpfLookups, isSpfRecord, mergeSpf, parseSpf, type ResolveTxt } from './spf';

/** A resolveTxt over a table: name → TXT values, or an error code. */
function txtTable(table: Readonly<Record<string, readonly string[] | string>>): ResolveTxt & { asked: string[] } {
  const asked: string[] = [];
  const fn = (name: string) => {
    asked.push(name);
    const entry = table[name];
    if (entry === undefined) return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    if (typeof entry === 'string') return Promise.reject(Object.assign(new Error(entry), { code: entry }));
    return Promise.resolve(entry.map((t) => [t]));
  };
  return Object.assign(fn, { asked });
}

describe('parseSpf', () => {
  it.each([
    ['v=spf1 -all', ['-all']],
    ['V=SPF1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 a:host.example//64 ptr ~all', 7],
    ['v=spf1 include:_spf.google.com ?include:x.test exists:%{i}.spf.test redirect=_spf.example.com', 4],
    ['v=spf1 exp=explain.example.com -all', 2],
  ])('reads %j', (txt, expected) => {
    const sut = parseSpf(txt);
    expect(sut.ok).toBe(true);
    if (typeof expected === 'number') expect(sut.terms).toHaveLength(expected);
    else expect(sut.terms.map((t) => t.text)).toEqual(expected);
  });

  it.each([
    ['v=spf10 -all', /does not start with v=spf1/],
    ['spf1 -all', /does not start with v=spf1/],
    ['v=spf1 include -all', /needs a value/],
    ['v=spf1 ip4 -all', /needs a value/],
    ['v=spf1 all:x', /takes no value/],
    ['v=spf1 foo:bar -all', /not an SPF mechanism/],
    ['v=spf1 redirect=a.test redirect=b.test', /appears twice/],
  ])('refuses %j', (txt, message) => {
    const sut = parseSpf(txt);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.message).toMatch(message);
  });

  it.each([
    ['v=spf1 -all', true],
    ['v=spf1', true],
    ['  v=spf1 mx', true],
    ['v=spf10', false],
    ['v=DMARC1; p=none', false],
  ])('isSpfRecord(%j) is %s', (txt, expected) => {
    expect(isSpfRecord(txt)).toBe(expected);
  });
});

describe('countSpfLookups', () => {
  it('counts include, a, mx, ptr, exists and redirect, but not ip4, ip6 or all', async () => {
    const resolve = txtTable({ 'inc.test': ['v=spf1 ip4:192.0.2.1 -all'], 'red.test': ['v=spf1 mx -all'] });
    const sut = await countSpfLookups(
      'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx ptr exists:x.test include:inc.test redirect=red.test',
      resolve,
    );
    expect(sut).toEqual({ lookups: 7, exceeded: false, permerror: false, complete: true, problems: [] });
  });

  it('follows includes recursively and flags more than 10 lookups (RFC 7208 §4.6.4)', async () => {
    const resolve = txtTable({
      'a.test': ['v=spf1 include:b.test include:c.test a mx -all'],
      'b.test': ['v=spf1 a mx ptr -all'],
      'c.test': ['v=spf1 include:d.test mx', 'unrelated text'],
      'd.test': ['v=spf1 a mx exists:e.test -all'],
    });
    const sut = await countSpfLookups('v=spf1 include:a.test mx -all', resolve);
    expect(sut.lookups).toBe(14); // 2 here + 4 in a + 3 in b + 2 in c + 3 in d
    expect(sut.exceeded).toBe(true);
    expect(sut.permerror).toBe(true);
  });

  it('counts exactly 10 as within the limit', async () => {
    const resolve = txtTable({ 'a.test': ['v=spf1 a mx a:x.test mx:y.test ptr exists:z.test -all'] });
    const sut = await countSpfLookups('v=spf1 include:a.test a mx ptr -all', resolve);
    expect(sut).toMatchObject({ lookups: 10, exceeded: false, permerror: false });
  });

  it('ignores redirect when the record has all (RFC 7208 §6.1)', async () => {
    const resolve = txtTable({});
    const sut = await countSpfLookups('v=spf1 mx redirect=other.test -all', resolve);
    expect(sut.lookups).toBe(1);
    expect(resolve.asked).toEqual([]);
  });

  it('stops on a loop and reports it as a permerror', async () => {
    const resolve = txtTable({ 'a.test': ['v=spf1 include:b.test -all'], 'b.test': ['v=spf1 include:a.test -all'] });
    const sut = await countSpfLookups('v=spf1 include:a.test -all', resolve);
    expect(sut.permerror).toBe(true);
    expect(sut.problems.join(' ')).toMatch(/loops back to a\.test/);
    expect(resolve.asked).toEqual(['a.test', 'b.test']);
  });

  it('counts a shared include twice, as receivers do', async () => {
    const resolve = txtTable({
      'a.test': ['v=spf1 include:shared.test -all'],
      'b.test': ['v=spf1 include:shared.test -all'],
      'shared.test': ['v=spf1 a -all'],
    });
    const sut = await countSpfLookups('v=spf1 include:a.test include:b.test -all', resolve);
    expect(sut).toMatchObject({ lookups: 6, permerror: false });
  });

  it('stops walking at the cap, bounding the queries', async () => {
    const table: Record<string, string[]> = {};
    for (let i = 0; i < 50; i++) table[`n${i}.test`] = [`v=spf1 include:n${i + 1}.test -all`];
    const resolve = txtTable(table);
    const sut = await countSpfLookups('v=spf1 include:n0.test -all', resolve, { cap: 20 });
    expect(sut.lookups).toBe(20);
    expect(sut.exceeded).toBe(true);
    expect(resolve.asked.length).toBeLessThanOrEqual(20);
  });

  it.each([
    [{}, /does not exist/, true, true],
    [{ 'a.test': ['not spf'] }, /has no SPF record/, true, true],
    [{ 'a.test': ['v=spf1 -all', 'v=spf1 a -all'] }, /has 2 SPF records/, true, true],
    [{ 'a.test': 'ETIMEOUT' }, /could not look up a\.test \(ETIMEOUT\)/, false, false],
    [{ 'a.test': 'ESERVFAIL' }, /could not look up/, false, false],
  ] as const)('reports a broken include %j', async (table, problem, permerror, complete) => {
    const sut = await countSpfLookups('v=spf1 include:a.test -all', txtTable(table));
    expect(sut.problems.join(' ')).toMatch(problem);
    expect(sut.permerror).toBe(permerror);
    expect(sut.complete).toBe(complete);
  });

  it('does not follow macros', async () => {
    const resolve = txtTable({});
    const sut = await countSpfLookups('v=spf1 include:%{d}.spf.test -all', resolve);
    expect(sut.lookups).toBe(1);
    expect(sut.problems.join(' ')).toMatch(/macro/);
    expect(resolve.asked).toEqual([]);
  });
});

describe('mergeSpf', () => {
  const ours = 'spf.mailroom.test';
  it.each([
    [[], 'v=spf1 include:spf.mailroom.test -all'],
    ['v=spf1 include:_spf.google.com ~all', 'v=spf1 include:_spf.google.com include:spf.mailroom.test ~all'],
    ['v=spf1 ip4:192.0.2.1 mx -all', 'v=spf1 ip4:192.0.2.1 mx include:spf.mailroom.test -all'],
    ['v=spf1 include:spf.mailroom.test -all', 'v=spf1 include:spf.mailroom.test -all'],
    ['v=spf1 INCLUDE:SPF.Mailroom.test ~all', 'v=spf1 INCLUDE:SPF.Mailroom.test ~all'],
    ['v=spf1 a +all', 'v=spf1 a include:spf.mailroom.test ~all'],
    ['v=spf1 a ?all', 'v=spf1 a include:spf.mailroom.test ~all'],
    ['v=spf1 mx', 'v=spf1 mx include:spf.mailroom.test ~all'],
    ['v=spf1 redirect=_spf.provider.test', 'v=spf1 include:spf.mailroom.test redirect=_spf.provider.test'],
    ['v=spf1 mx redirect=_spf.provider.test -all', 'v=spf1 mx include:spf.mailroom.test -all'],
    ['v=spf1 mx exp=why.example.com ~all', 'v=spf1 mx include:spf.mailroom.test ~all exp=why.example.com'],
    [
      ['v=spf1 include:_spf.google.com ~all', 'v=spf1 ip4:192.0.2.1 include:_spf.google.com -all'],
      'v=spf1 include:_spf.google.com ip4:192.0.2.1 include:spf.mailroom.test -all',
    ],
    ['v=spf1 foo:bar mx -all', 'v=spf1 mx include:spf.mailroom.test -all'],
  ])('merges %j into %j', (existing, expected) => {
    const sut = mergeSpf(existing, ours);
    expect(sut.record).toBe(expected);
    expect(sut.record.match(/v=spf1/g)).toHaveLength(1);
  });

  it('says what it changed besides our include', () => {
    expect(mergeSpf('v=spf1 mx', ours).notes).toEqual(['Added ~all: the record ended without one.']);
    expect(mergeSpf('v=spf1 foo:bar -all', ours).notes[0]).toMatch(/Dropped from "v=spf1 foo:bar -all"/);
    expect(mergeSpf('v=spf1 +all', ours).notes).toEqual(['Replaced +all with ~all.']);
  });
});
