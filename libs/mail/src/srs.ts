import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Sender Rewriting Scheme (SRS0) for forwarded mail: the envelope sender becomes an address of
 * our domain, so SPF passes at the target, and a bounce to it can be traced back to the
 * original sender. Format: SRS0=HHHH=TT=domain=local@our-domain (HHHH: HMAC, TT: day stamp in
 * base32, valid for 21 days), as in the Shevek/libsrs2 scheme Postfix's postsrsd uses.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const MAX_AGE_DAYS = 21;

function dayStamp(now: Date): string {
  const days = Math.floor(now.getTime() / 86_400_000) % 1024;
  return BASE32[days >> 5]! + BASE32[days & 31]!;
}

function stampAge(stamp: string, now: Date): number {
  const value = BASE32.indexOf(stamp[0]!.toUpperCase()) * 32 + BASE32.indexOf(stamp[1]!.toUpperCase());
  const today = Math.floor(now.getTime() / 86_400_000) % 1024;
  return (today - value + 1024) % 1024;
}

function hash(secret: Buffer, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\0').toLowerCase()).digest('base64url').slice(0, 4);
}

/** The SRS0 address for `sender` (empty sender stays empty: bounces are never rewritten). */
export function srsForward(sender: string, ourDomain: string, secret: Buffer, now = new Date()): string {
  if (sender === '') return '';
  const at = sender.lastIndexOf('@');
  const local = sender.slice(0, at);
  const domain = sender.slice(at + 1);
  const stamp = dayStamp(now);
  return `SRS0=${hash(secret, stamp, domain, local)}=${stamp}=${domain}=${local}@${ourDomain}`;
}

/** The original sender of an SRS0 address, or null when it is not ours, forged or expired. */
export function srsReverse(address: string, secret: Buffer, now = new Date()): string | null {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const match = /^SRS0=([A-Za-z0-9_-]{4})=([A-Z2-7]{2})=([^=]+)=(.+)$/i.exec(local);
  if (!match) return null;
  const [, mac, stamp, domain, original] = match as unknown as [string, string, string, string, string];
  const expected = hash(secret, stamp.toUpperCase(), domain, original);
  if (expected.length !== mac.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(mac))) return null;
  if (stampAge(stamp, now) > MAX_AGE_DAYS) return null;
  return `${original}@${domain}`;
}

/**
 * The SRS secret of the platform, derived from MASTER_KEY: it survives restarts and is the same
 * on every replica and in every app (the MTA signs, the worker reverses for bounces).
 */
export function srsSecret(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mailroom srs v1', 32));
}
