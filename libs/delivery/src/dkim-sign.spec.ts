import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signDkim } from './dkim-sign';

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const raw = Buffer.from('From: a@sender.example\r\nTo: b@dest.example\r\nSubject: Hi\r\n\r\nHello.\r\n');

async function verify(message: Buffer) {
  const result = await dkimVerify(message, {
    resolver: async () => [[`v=DKIM1; k=rsa; p=${publicKey.toString('base64')}`]],
  });
  return result.results.map((r) => [r.status.result, r.status.comment ?? '']);
}

describe('signDkim', () => {
  afterEach(() => vi.restoreAllMocks());

  it('signs a message that verifies', async () => {
    const sut = await signDkim(raw, { domain: 'sender.example', selector: 's1', privateKey });
    expect(sut.toString()).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=sender\.example;/);
    expect(await verify(sut)).toEqual([['pass', '']]);
  });

  it('verifies when the clock passes a second boundary while it signs', async () => {
    // Every clock read is 300 ms later than the one before, starting just before a half second
    // (mailauth rounds): two reads of the clock during signing would disagree on t=.
    let reads = 0;
    const start = Date.UTC(2026, 11, 2, 12, 0, 0) + 400;
    vi.spyOn(Date, 'now').mockImplementation(() => start + 300 * reads++);
    const sut = await signDkim(raw, { domain: 'sender.example', selector: 's1', privateKey }, new Date(start));
    vi.restoreAllMocks();
    expect(await verify(sut)).toEqual([['pass', '']]);
  });
});
