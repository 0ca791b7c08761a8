import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isBounceLocalPart, parseVerpLocalPart, verpBounceAddress } from './verp';

describe('VERP bounce addresses', () => {
  it('encodes a delivery and its tenant and reads them back, whatever the case', () => {
    const tenantId = randomUUID();
    const deliveryId = randomUUID();
    const sut = verpBounceAddress(tenantId, deliveryId, 'Bounce.Example.NET');
    const [local, domain] = sut.split('@') as [string, string];
    expect(domain).toBe('bounce.example.net');
    expect(Buffer.byteLength(local)).toBeLessThanOrEqual(64);
    expect(isBounceLocalPart(local)).toBe(true);
    expect(parseVerpLocalPart(local)).toEqual({ tenantId, deliveryId });
    expect(parseVerpLocalPart(local.toUpperCase())).toEqual({ tenantId, deliveryId });
  });

  it.each([
    'bounces',
    'bounces+',
    'bounces+abc.def',
    'alice',
    'bounces+aaaaaaaaaaaaaaaaaaaaaaaaab.aaaaaaaaaaaaaaaaaaaaaaaaaa',
  ])('refuses %s', (local) => {
    expect(parseVerpLocalPart(local)).toBeNull();
  });

  it('refuses ids that are not UUIDs', () => {
    expect(() => verpBounceAddress('x', randomUUID(), 'b.example')).toThrow(/UUIDs/);
  });
});
