/**
 * Parses a `tag=value; tag=value` list, the syntax shared by DKIM key records (RFC 6376 §3.2),
 * DMARC (RFC 7489 §6.4), MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) records. Tag names
 * are lower-cased, values trimmed; the first occurrence of a tag wins. Null when a part has no `=`.
 */
export function parseTagList(txt: string): Map<string, string> | null {
  const tags = new Map<string, string>();
  for (const part of txt.split(';')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return null;
    const name = trimmed.slice(0, eq).trim().toLowerCase();
    if (!tags.has(name)) tags.set(name, trimmed.slice(eq + 1).trim());
  }
  return tags;
}
