import type { MimeParams } from './mime-node';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Header bytes as text: UTF-8 when valid (RFC 6532), else one char per byte so nothing throws. */
export function decodeHeaderBytes(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Removes the line breaks of folded lines, keeping the whitespace after them (as Dovecot's envelope does). */
export function unfold(value: string): string {
  return value.replace(/\r?\n/g, '').replace(/\r/g, '');
}

/** Splits `value; a=b; c="d"` outside quotes and comments; comments (RFC 5322 3.2.2) are dropped. */
function splitSegments(input: string): string[] {
  const segments: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (quoted) current += c + (input[i + 1] ?? '');
      i++;
    } else if (quoted) {
      quoted = c !== '"';
      current += c;
    } else if (depth > 0) {
      depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    } else if (c === '(') {
      depth = 1;
    } else if (c === '"') {
      quoted = true;
      current += c;
    } else if (c === ';') {
      segments.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  segments.push(current);
  return segments;
}

function unquote(raw: string): string {
  const value = raw.trim();
  if (!value.startsWith('"')) return value;
  const end = value.endsWith('"') && value.length > 1 ? value.length - 1 : value.length;
  return value.slice(1, end).replace(/\\(.)/g, '$1');
}

/** `Content-Type`/`Content-Disposition` style value: the main token and its parameters in order. */
export function parseParameterized(input: string): { value: string; params: MimeParams } {
  const [head = '', ...rest] = splitSegments(unfold(input));
  const raw: MimeParams = [];
  for (const segment of rest) {
    const eq = segment.indexOf('=');
    if (eq <= 0) continue;
    const name = segment.slice(0, eq).trim();
    if (name) raw.push([name, unquote(segment.slice(eq + 1))]);
  }
  return { value: head.trim(), params: joinContinuations(raw) };
}

/**
 * RFC 2231 section 3: `name*0`, `name*1*`... are joined into one parameter. As Dovecot does, an
 * encoded value stays encoded (`name*` = `charset'lang'%xx`): IMAP clients decode it themselves.
 */
function joinContinuations(raw: MimeParams): MimeParams {
  const out: MimeParams = [];
  const groups = new Map<string, { index: number; sections: Array<{ n: number; encoded: boolean; value: string }> }>();
  for (const [name, value] of raw) {
    const match = /^(.+?)\*(\d+)(\*?)$/.exec(name);
    if (!match) {
      out.push([name, value]);
      continue;
    }
    const key = match[1]!.toLowerCase();
    let group = groups.get(key);
    if (!group) {
      group = { index: out.length, sections: [] };
      groups.set(key, group);
      out.push([match[1]!, '']);
    }
    group.sections.push({ n: Number(match[2]), encoded: match[3] === '*', value });
  }
  for (const group of groups.values()) {
    const sections = group.sections.sort((a, b) => a.n - b.n);
    const encoded = sections.some((s) => s.encoded);
    // Dovecot joins the sections as they are (an unencoded section is not percent-encoded).
    const value = sections.map((s) => s.value).join('');
    const entry = out[group.index]!;
    out[group.index] = [encoded ? `${entry[0]}*` : entry[0], value];
  }
  return out;
}
