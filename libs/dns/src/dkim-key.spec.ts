import { createPublicKey, createSign, createVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dkimSelector, dkimTxtValue, generateDkimKeyPair } from './dkim-key';
import { parseTagList } from './tag-list';

describe('DKIM keys', () => {
  it('generates an RSA 2048 pair whose p= value verifies signatures of the private key', async () => {
    const sut = await generateDkimKeyPair();
    expect(sut.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const publicKey = createPublicKey({ key: Buffer.from(sut.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const signature = createSign('sha256').update('hello').sign(sut.privateKeyPem);
    expect(createVerify('sha256').update('hello').verify(publicKey, signature)).toBe(true);
  });

  it('writes a TXT value longer than one 255-byte string, with the key in p=', async () => {
    const { publicKey } = await generateDkimKeyPair();
    const sut = dkimTxtValue(publicKey);
    expect(sut).toBe(`v=DKIM1; k=rsa; p=${publicKey}`);
    expect(Buffer.byteLength(sut)).toBeGreaterThan(255);
    expect(parseTagList(sut)?.get('p')).toBe(publicKey);
  });

  it.each([
    [new Date('2026-11-05T10:00:00Z'), [], 'mr202611a'],
    [new Date('2026-11-30T23:59:59Z'), ['mr202611a'], 'mr202611b'],
    [new Date('2027-01-01T00:00:00Z'), ['mr202611a'], 'mr202701a'],
    [new Date('2026-11-05T00:00:00Z'), ['MR202611A', 'mr202611b'], 'mr202611c'],
    [
      new Date('2026-11-05T00:00:00Z'),
      Array.from({ length: 26 }, (_, i) => `mr202611${String.fromCharCode(97 + i)}`),
      'mr202611aa',
    ],
  ])('names the key made on %s (taken %j) %s', (date, taken, expected) => {
    expect(dkimSelector(date, taken)).toBe(expected);
  });

  it('uses the UTC month', () => {
    expect(dkimSelector(new Date('2026-11-30T23:30:00-05:00'))).toBe('mr202612a');
  });
});
