/**
 * RFC 8601 §5: a receiver must remove (or rename) Authentication-Results fields that claim its
 * own authserv-id before adding its own, or a sender could forge "dkim=pass" from us. Renamed to
 * X-Original-Authentication-Results, so nothing is lost for a forensic look. Returns null when
 * the header block has none (the common case: no copy is made).
 */
export function renameForgedAuthResults(header: Buffer, authservId: string): Buffer | null {
  const text = header.toString('latin1');
  const id = authservId.toLowerCase();
  // A field starts at a line start; its value runs over continuation lines (RFC 5322 §2.2.3).
  const pattern = /^Authentication-Results:([ \t]*)([^;\r\n]*)/gim;
  let changed = false;
  const out = text.replace(pattern, (field: string, space: string, serv: string) => {
    if (serv.trim().split(/\s+/)[0]?.toLowerCase() !== id) return field;
    changed = true;
    return `X-Original-Authentication-Results:${space}${serv}`;
  });
  return changed ? Buffer.from(out, 'latin1') : null;
}
