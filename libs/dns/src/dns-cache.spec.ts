import { describe, expect, it } from 'vitest';
import { cachingResolver, DnsCache } from './dns-cache';
import type { DnsResolver } from './dns-resolver';

const dnsError = (code: string) => Object.assign(new Error(`query failed ${code}`), { code });

/** A resolver answering from `answers` (an Error rejects), counting the queries it gets. */
function fakeResolver(answers: Record<string, unknown>) {
  const asked: string[] = [];
  const answer = (type: string, name: string) => {
    asked.push(`${type} ${name}`);
    const value = answers[`${type} ${name}`];
    if (value === undefined) return Promise.reject(dnsError('ENOTFOUND'));
    return value instanceof Error ? Promise.reject(value) : Promise.resolve(structuredClone(value));
  };
  const resolver = {
    resolveTxt: (name) => answer('TXT', name),
    resolveMx: (name) => answer('MX', name),
    resolveCname: (name) => answer('CNAME', name),
    resolveSrv: (name) => answer('SRV', name),
    resolve4: (name) => answer('A', name),
    resolve6: (name) => answer('AAAA', name),
    reverse: (ip) => answer('PTR', ip),
  } as DnsResolver;
  return { resolver, asked };
}

function setup(
  answers: Record<string, unknown>,
  options: { ttlSeconds?: number; negativeTtlSeconds?: number; maxEntries?: number } = {},
) {
  let now = 1_000_000;
  const cache = new DnsCache({ ttlSeconds: 60, ...options, now: () => now });
  const { resolver, asked } = fakeResolver(answers);
  return { cache, dns: cachingResolver(resolver, cache), asked, advance: (ms: number) => (now += ms) };
}

describe('DnsCache', () => {
  it('answers a repeated lookup from memory until the TTL runs out, then asks again', async () => {
    const { dns, asked, advance, cache } = setup({ 'TXT example.com': [['v=spf1 -all']] });
    expect(await dns.resolveTxt('example.com')).toEqual([['v=spf1 -all']]);
    expect(await dns.resolveTxt('EXAMPLE.com.')).toEqual([['v=spf1 -all']]);
    advance(59_999);
    await dns.resolveTxt('example.com');
    expect(asked).toEqual(['TXT example.com']);
    advance(1);
    await dns.resolveTxt('example.com');
    expect(asked).toEqual(['TXT example.com', 'TXT example.com']);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2 });
  });

  it('keeps record types apart', async () => {
    const { dns, asked } = setup({ 'A mx.example.com': ['192.0.2.1'], 'AAAA mx.example.com': ['2001:db8::1'] });
    expect(await dns.resolve4('mx.example.com')).toEqual(['192.0.2.1']);
    expect(await dns.resolve6('mx.example.com')).toEqual(['2001:db8::1']);
    expect(asked).toEqual(['A mx.example.com', 'AAAA mx.example.com']);
  });

  it('keeps a "no such name" answer for the shorter negative TTL, with its code', async () => {
    const { dns, asked, advance } = setup({}, { negativeTtlSeconds: 10 });
    await expect(dns.resolveMx('nowhere.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(dns.resolveMx('nowhere.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(asked).toHaveLength(1);
    advance(10_000);
    await expect(dns.resolveMx('nowhere.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(asked).toHaveLength(2);
  });

  it('never keeps a failed lookup: SERVFAIL and timeouts are asked again at once', async () => {
    const { dns, asked } = setup({
      'TXT broken.example': dnsError('ESERVFAIL'),
      'MX slow.example': dnsError('ETIMEOUT'),
    });
    await expect(dns.resolveTxt('broken.example')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(dns.resolveTxt('broken.example')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(dns.resolveMx('slow.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(dns.resolveMx('slow.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(asked).toEqual(['TXT broken.example', 'TXT broken.example', 'MX slow.example', 'MX slow.example']);
  });

  it('sends one query for callers that ask at the same time', async () => {
    const { dns, asked } = setup({ 'MX example.com': [{ exchange: 'mx.example.com', priority: 10 }] });
    const answers = await Promise.all([
      dns.resolveMx('example.com'),
      dns.resolveMx('example.com'),
      dns.resolveMx('example.com'),
    ]);
    expect(asked).toEqual(['MX example.com']);
    expect(answers).toEqual(Array(3).fill([{ exchange: 'mx.example.com', priority: 10 }]));
  });

  it('gives each caller its own copy, so sorting an answer in place changes nothing for the next', async () => {
    const { dns } = setup({ 'A many.example': ['192.0.2.9', '192.0.2.1'] });
    (await dns.resolve4('many.example')).sort();
    expect(await dns.resolve4('many.example')).toEqual(['192.0.2.9', '192.0.2.1']);
  });

  it('copies nested answers too: TXT chunks and MX records edited in place change nothing', async () => {
    const { dns } = setup({
      'TXT example.com': [['v=spf1 ', 'ip4:192.0.2.0/24 -all']],
      'MX example.com': [{ exchange: 'mx.example.com', priority: 10 }],
    });
    const txt = await dns.resolveTxt('example.com');
    txt[0]!.push('tampered');
    const mx = await dns.resolveMx('example.com');
    mx[0]!.priority = 99;
    expect(await dns.resolveTxt('example.com')).toEqual([['v=spf1 ', 'ip4:192.0.2.0/24 -all']]);
    expect(await dns.resolveMx('example.com')).toEqual([{ exchange: 'mx.example.com', priority: 10 }]);
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const { dns, asked } = setup(
      { 'A a.example': ['192.0.2.1'], 'A b.example': ['192.0.2.2'], 'A c.example': ['192.0.2.3'] },
      { maxEntries: 2 },
    );
    await dns.resolve4('a.example');
    await dns.resolve4('b.example');
    await dns.resolve4('a.example'); // a is now the most recent
    await dns.resolve4('c.example'); // b goes
    await dns.resolve4('a.example');
    await dns.resolve4('b.example');
    expect(asked).toEqual(['A a.example', 'A b.example', 'A c.example', 'A b.example']);
  });

  it('asks DNS every time when the TTL is 0', async () => {
    const { dns, asked, cache } = setup({ 'TXT example.com': [['x']] }, { ttlSeconds: 0 });
    await dns.resolveTxt('example.com');
    await dns.resolveTxt('example.com');
    expect(asked).toHaveLength(2);
    expect(cache.enabled).toBe(false);
  });
});
