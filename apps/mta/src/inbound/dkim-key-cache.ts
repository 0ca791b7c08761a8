import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

/** mailauth's getPublicKey (lib/tools.js): the key of a DKIM selector or an ARC seal, from DNS. */
type GetPublicKey = (
  type: string,
  name: string,
  minBitLength: number | undefined,
  resolver: (name: string, rrtype: string) => Promise<unknown>,
) => Promise<{ publicKey: string | Buffer | KeyObject; rr: string; modulusLength: number } | undefined>;

/** Distinct DNS answers kept; a sender's key record is one entry, so this is many senders. */
const MAX_ENTRIES = 2000;

/**
 * mailauth parses the signer's public key twice per signature: getPublicKey builds a key
 * object from the TXT record's base64 (to check its type and length) and exports it as PEM,
 * then crypto.verify parses that PEM again. The parse, not the RSA check, was most of the DKIM
 * verification's CPU. This wraps getPublicKey so that the same DNS answer (the TXT strings, as
 * the resolver returned them: the DNS cache keeps them within their TTL) gives the same checked
 * key, parsed once, as a KeyObject crypto.verify takes without parsing. A changed record is a
 * different answer and is checked afresh; a record mailauth refuses is never kept.
 */
export function cacheDkimKeys(): void {
  // The module object itself (an import would be a copy of its bindings).
  const mutable = createRequire(__filename)('mailauth/lib/tools') as { getPublicKey: GetPublicKey & { cached?: true } };
  const original = mutable.getPublicKey;
  if (original.cached) return;
  const checked = new Map<string, Awaited<ReturnType<GetPublicKey>>>();
  const cached: GetPublicKey = async (type, name, minBitLength, resolver) => {
    const answer = await resolver(name, 'TXT');
    const key = JSON.stringify([type, minBitLength ?? null, name, answer]);
    const hit = checked.get(key);
    if (hit) return hit;
    const result = await original(type, name, minBitLength, () => Promise.resolve(answer));
    if (!result) return result;
    const pem = result.publicKey.toString();
    const keyObject = createPublicKey(pem);
    // mailauth reports the key as `publicKey.toString()`: still the PEM.
    Object.defineProperty(keyObject, 'toString', { value: () => pem });
    const kept = { ...result, publicKey: keyObject };
    if (checked.size >= MAX_ENTRIES) checked.delete(checked.keys().next().value as string);
    checked.set(key, kept);
    return kept;
  };
  mutable.getPublicKey = Object.assign(cached, { cached: true as const });
}

// mailauth's verifiers take getPublicKey from lib/tools when they are loaded: this module must be
// loaded before 'mailauth' (auth-check.ts imports it first).
cacheDkimKeys();
