// As in the MTA, auth-check.ts loads before anything else of mailauth (see dkim-key-cache.ts).
import { AuthChecker } from './auth-check';
import crypto from 'node:crypto';
import { dkimSign } from 'mailauth';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { heldMessage } from '@test/support/mail-fixtures';

const SELECTOR = 'k1';
const DOMAIN = 'sender.test';

function keyPair() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${p}`,
  };
}

async function signed(privateKey: string, subject: string): Promise<Buffer> {
  const raw = Buffer.from(
    `From: s@${DOMAIN}\r\nTo: a@acme.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@${DOMAIN}>\r\n\r\nhello ${subject}\r\n`,
  );
  // mailauth's typings name the single-signature options; the code reads signatureData.
  const options = {
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: DOMAIN, selector: SELECTOR, privateKey }],
  } as unknown as Parameters<typeof dkimSign>[1];
  const result = await dkimSign(raw, options);

  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

/** A resolver for the sender's DKIM key only: `record` is what DNS answers now. */
function dns(state: { record: string }) {
  return (name: string, rrtype: string): Promise<string[][]> => {
    if (rrtype === 'TXT' && name === `${SELECTOR}._domainkey.${DOMAIN}`) return Promise.resolve([[state.record]]);
    return Promise.reject(Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' }));
  };
}

async function dkimOf(checker: AuthChecker, bytes: Buffer) {
  const verdict = await checker.check({
    message: heldMessage(bytes),
    ip: '192.0.2.1',
    helo: 'client.test',
    sender: `s@${DOMAIN}`,
  });
  return verdict.dkim;
}

describe('DKIM keys checked once per DNS answer', () => {
  afterEach(() => vi.restoreAllMocks());

  it('parses a signer key once for many messages and still verifies each signature', async () => {
    const key = keyPair();
    const checker = new AuthChecker('mx.mailroom.test', dns({ record: key.record }), 5000);
    const parse = vi.spyOn(crypto, 'createPublicKey');
    expect(await dkimOf(checker, await signed(key.privateKey, 'one'))).toBe('pass');
    const afterFirst = parse.mock.calls.length;
    expect(afterFirst).toBeGreaterThan(0);
    expect(await dkimOf(checker, await signed(key.privateKey, 'two'))).toBe('pass');
    expect(await dkimOf(checker, await signed(key.privateKey, 'three'))).toBe('pass');
    expect(parse.mock.calls.length).toBe(afterFirst);

    // The key is kept, the verdict is not: a body changed after signing fails.
    const tampered = await signed(key.privateKey, 'four');
    expect(await dkimOf(checker, Buffer.from(tampered.toString().replace('hello four', 'hello 4our')))).not.toBe(
      'pass',
    );
  });

  it('uses the new key as soon as DNS answers with it, and keeps no key it refused', async () => {
    const first = keyPair();
    const state = { record: first.record };
    const checker = new AuthChecker('mx.mailroom.test', dns(state), 5000);
    expect(await dkimOf(checker, await signed(first.privateKey, 'a'))).toBe('pass');

    const second = keyPair();
    state.record = second.record;
    expect(await dkimOf(checker, await signed(second.privateKey, 'b'))).toBe('pass');
    expect(await dkimOf(checker, await signed(first.privateKey, 'c'))).toBe('fail');

    state.record = 'v=DKIM1; k=rsa; p=';
    expect(await dkimOf(checker, await signed(second.privateKey, 'd'))).not.toBe('pass');
    state.record = second.record;
    expect(await dkimOf(checker, await signed(second.privateKey, 'e'))).toBe('pass');
  });
});
