import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A DKIM signing key: the private key to seal and store, the public key to publish in `p=`. */
export interface DkimKeyPair {
  /** PKCS#8 PEM; seal it with the master key before storing (ARCHITECTURE invariant 5). */
  privateKeyPem: string;
  /** Base64 DER SubjectPublicKeyInfo, exactly as published in the `p=` tag (RFC 6376 §3.6.1). */
  publicKey: string;
}

// RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits and SHOULD use 2048.
const RSA_BITS = 2048;

/**
 * Generates an RSA 2048 DKIM key pair. Asynchronous because RSA generation takes tens to
 * hundreds of milliseconds, which must not block the API's or the worker's event loop.
 */
export async function generateDkimKeyPair(): Promise<DkimKeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKey: publicKey.toString('base64') };
}

/**
 * The DKIM selector for a key made on `date`: `mr` + UTC year and month + a letter sequence
 * (`mr202611a`, then `mr202611b`, ... `mr202611z`, `mr202611aa`) choosing the first one not in
 * `taken`. Dated selectors tell an operator at a glance how old a published key is; the letter
 * keeps two rotations in one month apart without randomness, so the result is reproducible.
 * Selectors are single LDH labels, valid in `<selector>._domainkey.<domain>` (RFC 6376 §3.1).
 */
export function dkimSelector(date: Date, taken: readonly string[] = []): string {
  const month = `${date.getUTCFullYear()}${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
  const used = new Set(taken.map((s) => s.toLowerCase()));
  for (let n = 0; ; n++) {
    const selector = `mr${month}${letters(n)}`;
    if (!used.has(selector)) return selector;
  }
}

/** Bijective base-26: 0 → a, 25 → z, 26 → aa. */
function letters(n: number): string {
  let out = '';
  for (let i = n + 1; i > 0; i = Math.floor((i - 1) / 26)) {
    out = String.fromCharCode(97 + ((i - 1) % 26)) + out;
  }
  return out;
}

/**
 * The TXT value of a DKIM key record (RFC 6376 §3.6.1). For a 2048-bit key this is about 410
 * bytes, more than one 255-byte TXT character-string: zone rendering splits it (RFC 6376
 * §3.6.2.2: verifiers concatenate the strings).
 */
export function dkimTxtValue(publicKey: string): string {
  return `v=DKIM1; k=rsa; p=${publicKey}`;
}
