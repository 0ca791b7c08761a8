/**
 * A case-insensitive multimap of decoded header fields: RFC 5322 §1.2.2 makes field names
 * case-insensitive, and fields such as Received or Authentication-Results occur many times.
 */
export class HeaderMap {
  private readonly fields = new Map<string, string[]>();

  constructor(entries: Iterable<readonly [string, string]> = []) {
    for (const [name, value] of entries) {
      this.add(name, value);
    }
  }

  add(name: string, value: string): void {
    const key = name.trim().toLowerCase();
    const values = this.fields.get(key);
    if (values) {
      values.push(value);
    } else {
      this.fields.set(key, [value]);
    }
  }

  /** Every value of the field, in message order; empty when the field is absent. */
  getAll(name: string): readonly string[] {
    return this.fields.get(name.trim().toLowerCase()) ?? [];
  }

  /** The first value of the field, or `undefined` when it is absent. */
  get(name: string): string | undefined {
    return this.getAll(name)[0];
  }

  has(name: string): boolean {
    return this.getAll(name).length > 0;
  }
}

/**
 * Splits a raw RFC 5322 header block into `[name, value]` pairs, raw (not RFC 2047 decoded).
 *
 * Stops at the first empty line, so a whole message may be passed. Continuation lines are
 * unfolded by removing the line break before the white space (RFC 5322 §2.2.3). White space
 * before the colon is obsolete syntax that must still be accepted (RFC 5322 §4.5). Lines that
 * are not fields (an mbox `From ` line, garbage) are skipped rather than failing the message.
 */
export function splitHeaderFields(rawHeaderText: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  let current: string | null = null;
  const flush = () => {
    if (current === null) {
      return;
    }
    const colon = current.indexOf(':');
    const name = current.slice(0, colon).trimEnd();
    if (colon > 0 && /^[!-9;-~]+$/.test(name)) {
      fields.push([name, current.slice(colon + 1).trim()]);
    }
    current = null;
  };
  for (const line of rawHeaderText.split(/\r?\n/)) {
    if (line === '') {
      break;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && current !== null) {
      current += line;
      continue;
    }
    flush();
    current = line;
  }
  flush();
  return fields;
}
