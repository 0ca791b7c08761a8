import { describe, expect, it } from 'vitest';
import { RecipientCache } from './recipient-cache';
import type { MailboxRow, NamedDomainRow } from './recipient.repository';

function lookup(tenantId: string, name: string, mailbox?: Partial<MailboxRow>): NamedDomainRow {
  const mailboxes = new Map<string, MailboxRow>();
  if (mailbox) {
    mailboxes.set('u', {
      tenantId,
      id: `${name}-u`,
      domainId: `${name}-d`,
      localPart: 'u',
      status: 'active',
      quotaBytes: 1_000n,
      usedBytes: 0n,
      spamJunkThreshold: null,
      hasRules: false,
      ...mailbox,
    });
  }
  return {
    tenantId,
    id: `${name}-d`,
    name,
    status: 'active',
    aliasOfId: null,
    deletedAt: null,
    tenant: {
      id: tenantId,
      status: 'active',
      storageQuotaBytes: 10n ** 12n,
      spamJunkThreshold: null,
      spamRejectThreshold: null,
    },
    localParts: { mailboxes, aliases: new Map() },
  };
}

/** A loader that counts its calls and answers `value`. */
function loader(value: () => NamedDomainRow | null) {
  const calls = { n: 0 };
  return {
    calls,
    load: async () => {
      calls.n += 1;
      return value();
    },
  };
}

function listeningCache(size = 10, ttlMs = 60_000): RecipientCache {
  const cache = new RecipientCache({ size, ttlMs });
  cache.setListening(true);
  return cache;
}

describe('RecipientCache', () => {
  it('serves a second lookup of the same name and local parts from memory', async () => {
    const cache = listeningCache();
    const { calls, load } = loader(() => lookup('t1', 'a.test', {}));
    await cache.domain('a.test', ['u', '*'], 0, load);
    const again = await cache.domain('a.test', ['u', '*'], 0, load);
    expect(calls.n).toBe(1);
    expect(again?.name).toBe('a.test');
    // Other local parts are another lookup.
    await cache.domain('a.test', ['v', '*'], 0, load);
    expect(calls.n).toBe(2);
  });

  it('keeps and serves nothing until it listens, nor after the connection is lost', async () => {
    const cache = new RecipientCache({ size: 10, ttlMs: 60_000 });
    const { calls, load } = loader(() => lookup('t1', 'a.test'));
    await cache.domain('a.test', [], 0, load);
    await cache.domain('a.test', [], 0, load);
    expect(calls.n).toBe(2);
    cache.setListening(true);
    await cache.domain('a.test', [], 0, load);
    cache.setListening(false);
    await cache.domain('a.test', [], 0, load);
    expect(calls.n).toBe(4);
    expect(cache.size).toBe(0);
  });

  it('is off with size 0, listening or not', async () => {
    const cache = listeningCache(0);
    const { calls, load } = loader(() => lookup('t1', 'a.test'));
    await cache.domain('a.test', [], 0, load);
    await cache.domain('a.test', [], 0, load);
    expect(calls.n).toBe(2);
  });

  it("drops only the notified tenant's entries, and everything for '*'", async () => {
    const cache = listeningCache();
    const a = loader(() => lookup('t1', 'a.test'));
    const b = loader(() => lookup('t2', 'b.test'));
    await cache.domain('a.test', [], 0, a.load);
    await cache.domain('b.test', [], 0, b.load);
    cache.forget('t1');
    await cache.domain('a.test', [], 0, a.load);
    await cache.domain('b.test', [], 0, b.load);
    expect([a.calls.n, b.calls.n]).toEqual([2, 1]);
    cache.forget('*');
    expect(cache.size).toBe(0);
  });

  it('does not keep a load that was under way when a notification came', async () => {
    const cache = listeningCache();
    let release!: () => void;
    const pending = new Promise<void>((r) => (release = r));
    const slow = cache.domain('a.test', [], 0, async () => {
      await pending;
      return lookup('t1', 'a.test');
    });
    cache.forget('t1');
    release();
    await slow;
    expect(cache.size).toBe(0);
  });

  it('keeps one entry, and one set of rows, when two misses of the same key load at once', async () => {
    const cache = listeningCache();
    const { load } = loader(() => lookup('t1', 'a.test', {}));
    await Promise.all([1, 2, 3].map(() => cache.domain('a.test', ['u'], 0, load)));
    expect([cache.size, cache.trackedRows]).toEqual([1, 1]);
    cache.forget('t1');
    expect([cache.size, cache.trackedRows]).toEqual([0, 0]);
  });

  it('adds to a lookup under way what this process stored while it read', async () => {
    const cache = listeningCache();
    let release!: () => void;
    const pending = new Promise<void>((r) => (release = r));
    const slow = cache.domain('a.test', ['u'], 0, async () => {
      await pending;
      return lookup('t1', 'a.test', { usedBytes: 0n });
    });
    cache.charge(['a.test-u'], 500);
    release();
    await slow;
    const kept = await cache.domain('a.test', ['u'], 0, () => Promise.reject(new Error('not from memory')));
    expect(kept!.localParts.mailboxes.get('u')!.usedBytes).toBe(500n);
  });

  it('does not remember an unknown domain', async () => {
    const cache = listeningCache();
    const { calls, load } = loader(() => null);
    await cache.domain('nowhere.test', [], 0, load);
    await cache.domain('nowhere.test', [], 0, load);
    expect(calls.n).toBe(2);
  });

  it('reads again after the TTL', async () => {
    const cache = listeningCache(10, 1);
    const { calls, load } = loader(() => lookup('t1', 'a.test'));
    await cache.domain('a.test', [], 0, load);
    await new Promise((r) => setTimeout(r, 5));
    await cache.domain('a.test', [], 0, load);
    expect(calls.n).toBe(2);
  });

  it('holds at most `size` entries, the least recently used going first', async () => {
    const cache = listeningCache(2);
    const loads = new Map<string, number>();
    const get = (name: string) =>
      cache.domain(name, [], 0, async () => {
        loads.set(name, (loads.get(name) ?? 0) + 1);
        return lookup('t1', name);
      });
    await get('a.test');
    await get('b.test');
    await get('a.test'); // a is now the most recently used
    await get('c.test'); // b goes
    expect(cache.size).toBe(2);
    await get('a.test');
    await get('b.test');
    expect(Object.fromEntries(loads)).toEqual({ 'a.test': 1, 'b.test': 2, 'c.test': 1 });
  });

  it('adds what this process stored to the usage it read, and reads a nearly full mailbox afresh', async () => {
    const cache = listeningCache();
    let used = 0n;
    const { calls, load } = loader(() => lookup('t1', 'a.test', { usedBytes: used, quotaBytes: 1_000n }));
    const first = await cache.domain('a.test', ['u'], 0, load);
    cache.charge([first!.localParts.mailboxes.get('u')!.id], 300);
    const second = await cache.domain('a.test', ['u'], 0, load);
    expect(calls.n).toBe(1);
    expect(second!.localParts.mailboxes.get('u')!.usedBytes).toBe(300n);
    // 300 + a declared 600 is past 90% of the quota: read again.
    used = 300n;
    await cache.domain('a.test', ['u'], 600, load);
    expect(calls.n).toBe(2);
    cache.charge([`a.test-u`], 650);
    await cache.domain('a.test', ['u'], 0, load);
    expect(calls.n).toBe(3);
  });
});
