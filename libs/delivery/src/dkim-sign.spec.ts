import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dkimPrivateKey, signDkim } from './dkim-sign';

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

  it('signs a message that is all header, ending its header with an empty line', async () => {
    const headerOnly = Buffer.from('From: a@sender.example\r\nTo: b@dest.example\r\nSubject: Hi\r\n');
    const sut = await signDkim(headerOnly, { domain: 'sender.example', selector: 's1', privateKey });
    expect(sut.toString().endsWith('Subject: Hi\r\n\r\n')).toBe(true);
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

  it('signs with a parsed key exactly as mailauth signs with the PEM', async () => {
    const message = Buffer.from(
      [
        'From: "A Sender" <a@sender.example>',
        'To: b@dest.example,',
        '  c@dest.example',
        'Subject:   Folded\t and   spaced',
        'Date: Thu, 03 Dec 2026 05:00:00 +0000',
        'Message-ID: <m1@sender.example>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Line one  with  spaces \t',
        '',
        '',
      ].join('\r\n'),
    );
    const at = new Date(Date.UTC(2026, 11, 3, 5, 0, 0));
    const sut = await signDkim(
      message,
      { domain: 'sender.example', selector: 's1', privateKey: dkimPrivateKey(privateKey) },
      at,
    );
    const reference = await dkimSign(message, {
      signTime: at,
      canonicalization: 'relaxed/relaxed',
      signatureData: [{ signingDomain: 'sender.example', selector: 's1', privateKey }],
    } as unknown as Parameters<typeof dkimSign>[1]);
    expect(sut.toString()).toBe(`${reference.signatures}${message.toString()}`);
    expect(await verify(sut)).toEqual([['pass', '']]);
  });
});
