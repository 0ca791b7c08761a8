import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DkimKeyCache, DomainSlots } from './delivery-limits';

const key = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;

describe('DomainSlots', () => {
  it('lets `limit` sessions run per domain and hands a freed slot to the first waiter', async () => {
    const sut = new DomainSlots(2);
    const a = await sut.acquire('d.example');
    await sut.acquire('d.example');
    const order: string[] = [];
    const third = sut.acquire('d.example').then((release) => (order.push('third'), release));
    const fourth = sut.acquire('d.example').then((release) => (order.push('fourth'), release));
    // Another domain is not held up by this one.
    const other = await sut.acquire('e.example');
    expect(sut.running('e.example')).toBe(1);
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    a(); // a second release of the same slot frees nothing more
    (await third)();
    expect(order).toEqual(['third']);
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    expect(sut.running('d.example')).toBe(2);
    other();
    expect(sut.running('e.example')).toBe(0);
  });
});

describe('DomainSlots.tryAcquire', () => {
  it('takes a free slot at once and gives null when the domain is at its limit', async () => {
    const sut = new DomainSlots(1);
    const first = sut.tryAcquire('d.example');
    expect(first).not.toBeNull();
    expect(sut.tryAcquire('d.example')).toBeNull();
    const waiter = sut.acquire('d.example');
    first!();
    (await waiter)();
    expect(sut.running('d.example')).toBe(0);
    expect(sut.tryAcquire('d.example')).not.toBeNull();
  });
});

describe('DkimKeyCache', () => {
  it('opens a key once per key id and selector, and a rotated key (new id) again', () => {
    const sut = new DkimKeyCache(10);
    let opened = 0;
    const open = (): KeyObject => (opened++, key);
    const first = { id: 'k1', selector: 's1', privateKeyEncrypted: 'sealed-1' };
    expect(sut.get(first, open)).toBe(key);
    expect(sut.get(first, open)).toBe(key);
    expect(opened).toBe(1);
    sut.get({ id: 'k2', selector: 's2', privateKeyEncrypted: 'sealed-2' }, open);
    expect(opened).toBe(2);
  });

  it('opens the key again when the sealed key under the same id and selector differs', () => {
    const sut = new DkimKeyCache(10);
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(sut.get({ id: 'k1', selector: 's1', privateKeyEncrypted: 'sealed-a' }, () => key)).toBe(key);
    expect(sut.get({ id: 'k1', selector: 's1', privateKeyEncrypted: 'sealed-b' }, () => other)).toBe(other);
    expect(sut.get({ id: 'k1', selector: 's1', privateKeyEncrypted: 'sealed-b' }, () => key)).toBe(other);
  });

  it('drops the least recently used key beyond its size', () => {
    const sut = new DkimKeyCache(2);
    let opened = 0;
    const open = (): KeyObject => (opened++, key);
    const k = (id: string) => ({ id, selector: 's', privateKeyEncrypted: id });
    sut.get(k('a'), open);
    sut.get(k('b'), open);
    sut.get(k('a'), open); // a is now the most recent
    sut.get(k('c'), open); // drops b
    expect(opened).toBe(3);
    sut.get(k('a'), open);
    expect(opened).toBe(3);
    sut.get(k('b'), open);
    expect(opened).toBe(4);
  });
});
