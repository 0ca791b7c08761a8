import type { HeaderValue, ParsedMail } from 'mailparser';

/** Longest text kept per column: a term past it is not found by SEARCH BODY (Dovecot's FTS caps too). */
export const SEARCH_TEXT_MAX = 1_000_000;

/**
 * What IMAP SEARCH reads for a parsed message (libs/mailstore search.repository.ts): every
 * header as one "Name: value" line, decoded (RFC 2047 words, addresses with their names), in
 * message order; and the text of the body parts, HTML stripped of tags when there is no plain
 * text. NUL characters are dropped (PostgreSQL text cannot hold them).
 */
export function searchText(mail: ParsedMail): { headers: string; body: string } {
  const lines: string[] = [];
  const seen = new Map<string, number>();
  for (const { key, line } of mail.headerLines) {
    const name = line.slice(0, line.indexOf(':')).trim() || key;
    const value = nthValue(mail.headers.get(key), seen.get(key) ?? 0) ?? line.slice(line.indexOf(':') + 1);
    seen.set(key, (seen.get(key) ?? 0) + 1);
    lines.push(`${name}: ${value.replace(/\r?\n[ \t]*/g, ' ').trim()}`);
  }
  const body = mail.text ?? (typeof mail.html === 'string' ? mail.html.replace(/<[^>]*>/g, ' ') : '');
  return { headers: clean(lines.join('\n')), body: clean(body) };
}

/** The decoded value of the n-th header of a name (Received, for one, repeats); null: use the raw line. */
function nthValue(value: HeaderValue | undefined, n: number): string | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value[n] === undefined ? null : textOf(value[n]);
  return n === 0 ? textOf(value) : null;
}

/** Text of a decoded value; null for shapes without one (List-* headers parse into URL maps). */
function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toUTCString();
  if (typeof value !== 'object' || value === null) return null;
  if ('text' in value && typeof value.text === 'string') return value.text;
  if ('value' in value && typeof value.value === 'string') {
    const params = 'params' in value && value.params && typeof value.params === 'object' ? value.params : {};
    return (
      value.value +
      Object.entries(params)
        .map(([k, v]) => `; ${k}=${String(v)}`)
        .join('')
    );
  }
  return null;
}

function clean(text: string): string {
  return text.replaceAll('\u0000', '').slice(0, SEARCH_TEXT_MAX);
}
