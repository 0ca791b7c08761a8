/**
 * VERP bounce addresses for our own outbound mail: `bounces+<delivery>.<tenant>@BOUNCE_DOMAIN`,
 * each id a UUID in lower-case base32 (26 characters), so the local part stays within the 64
 * octets of RFC 5321 §4.5.3.1.1 and survives MTAs that change its case. A DSN that comes back
 * to such an address names the delivery directly, without parsing the returned message.
 */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const PREFIX = 'bounces+';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidToBase32(uuid: string): string {
  let bits = BigInt(`0x${uuid.replace(/-/g, '')}`) << 2n; // 128 bits padded to 130 = 26 × 5
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = BASE32[Number(bits & 31n)]! + out;
    bits >>= 5n;
  }
  return out;
}

function base32ToUuid(text: string): string | null {
  if (!/^[a-z2-7]{26}$/.test(text)) return null;
  let bits = 0n;
  for (const ch of text) bits = (bits << 5n) | BigInt(BASE32.indexOf(ch));
  if ((bits & 3n) !== 0n) return null;
  const hex = (bits >> 2n).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The envelope sender for one delivery of our outbound mail. */
export function verpBounceAddress(tenantId: string, deliveryId: string, bounceDomain: string): string {
  if (!UUID.test(tenantId) || !UUID.test(deliveryId)) throw new Error('verpBounceAddress: ids must be UUIDs');
  return `${PREFIX}${uuidToBase32(deliveryId)}.${uuidToBase32(tenantId)}@${bounceDomain.toLowerCase()}`;
}

/** True when the local part has the shape of a bounce address (it may still name no delivery). */
export function isBounceLocalPart(localPart: string): boolean {
  return localPart.toLowerCase().startsWith(PREFIX);
}

/** The delivery and tenant a bounce local part names, or null when it is not one of ours. */
export function parseVerpLocalPart(localPart: string): { tenantId: string; deliveryId: string } | null {
  const lower = localPart.toLowerCase();
  if (!lower.startsWith(PREFIX)) return null;
  const [delivery, tenant, ...rest] = lower.slice(PREFIX.length).split('.');
  if (!delivery || !tenant || rest.length > 0) return null;
  const deliveryId = base32ToUuid(delivery);
  const tenantId = base32ToUuid(tenant);
  return deliveryId && tenantId ? { tenantId, deliveryId } : null;
}
