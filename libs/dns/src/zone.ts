import type { DnsRecord } from './dns-plan';

/** A record read back from a zone fragment. Names and targets are absolute, lower case, without the final dot. */
export interface ZoneRecord {
  name: string;
  ttl: number;
  type: string;
  /** TXT: the character-strings concatenated. MX, SRV, CNAME, PTR, NS: the target. Others: the RDATA text. */
  value: string;
  priority?: number;
  weight?: number;
  port?: number;
}

// RFC 1035 §3.3: a <character-string> is a length octet and at most 255 octets.
const MAX_STRING = 255;

/**
 * Renders plan records as a BIND zone fragment ready to paste: absolute names with the final
 * dot, one record a line under a `;` comment with its purpose, TXT values quoted and split into
 * strings of at most 255 bytes (receivers concatenate them: RFC 7208 §3.3, RFC 6376 §3.6.2.2).
 * PTR records belong to the platform's reverse zone, not the tenant's: they are shown commented out.
 */
export function renderBindZone(records: readonly DnsRecord[]): string {
  const lines: string[] = [];
  for (const record of records) {
    const line = `${record.name}. ${record.ttl} IN ${record.type} ${rdata(record)}`;
    lines.push(`; ${record.purpose}`);
    lines.push(record.type === 'PTR' ? `; (informational, published by the platform) ${line}` : line);
  }
  return `${lines.join('\n')}\n`;
}

function rdata(record: DnsRecord): string {
  switch (record.type) {
    case 'TXT':
      return splitTxt(record.value).map(quote).join(' ');
    case 'MX':
      return `${record.priority ?? 10} ${record.value}.`;
    case 'SRV':
      return `${record.priority ?? 0} ${record.weight ?? 0} ${record.port ?? 0} ${record.value}.`;
    case 'CNAME':
    case 'PTR':
      return `${record.value}.`;
  }
}

/** Splits a TXT value into chunks of at most 255 bytes, never inside a UTF-8 sequence. */
export function splitTxt(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + MAX_STRING, bytes.length);
    // 0b10xxxxxx is a continuation byte: back off to the start of its character.
    while (end < bytes.length && end > start && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks.length > 0 ? chunks : [Buffer.alloc(0)];
}

/** RFC 1035 §5.1: quote, escape `"` and `\`, and write other non-printable bytes as `\DDD`. */
function quote(chunk: Buffer): string {
  let out = '"';
  for (const byte of chunk) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}

interface Token {
  text: string;
  bytes: Buffer;
  quoted: boolean;
}

interface Line {
  tokens: Token[];
  indented: boolean;
  lineNo: number;
}

/**
 * Parses a zone fragment in RFC 1035 §5.1 master-file syntax, enough to read back what
 * {@link renderBindZone} writes and typical hand-written zones: `$ORIGIN`, `$TTL`, `@`, relative
 * names, a blank owner repeating the previous one, optional TTL and class in either order,
 * parentheses spanning lines, comments, quoted strings with `\X` and `\DDD` escapes.
 * Throws an Error naming the line on anything it cannot read.
 */
export function parseBindZone(text: string, options: { origin?: string; defaultTtl?: number } = {}): ZoneRecord[] {
  let origin = options.origin ? absolute(options.origin, '') : '';
  let defaultTtl = options.defaultTtl ?? 3600;
  let owner: string | null = null;
  const records: ZoneRecord[] = [];
  for (const { tokens, indented, lineNo } of lex(text)) {
    const fail = (why: string): never => {
      throw new Error(`zone line ${lineNo}: ${why}`);
    };
    const first = tokens[0]?.text ?? '';
    if (first.toUpperCase() === '$ORIGIN') {
      origin = absolute(tokens[1]?.text ?? fail('$ORIGIN needs a name'), origin);
      continue;
    }
    if (first.toUpperCase() === '$TTL') {
      defaultTtl = ttlOf(tokens[1]?.text ?? '') ?? fail('$TTL needs a number');
      continue;
    }
    if (first.startsWith('$')) fail(`${first} is not supported`);
    let rest = tokens;
    if (!indented) {
      owner = absolute(first, origin);
      rest = tokens.slice(1);
    }
    if (owner === null) fail('the first record has no owner name');
    let ttl = defaultTtl;
    while (rest[0] && (ttlOf(rest[0].text) !== null || /^(IN|CH|HS)$/i.test(rest[0].text))) {
      ttl = ttlOf(rest[0].text) ?? ttl;
      rest = rest.slice(1);
    }
    const type = rest[0]?.text.toUpperCase() ?? fail('no record type');
    records.push(record(owner ?? '', ttl, type, rest.slice(1), origin, fail));
  }
  return records;
}

function record(
  name: string,
  ttl: number,
  type: string,
  data: Token[],
  origin: string,
  fail: (why: string) => never,
): ZoneRecord {
  const word = (i: number): string => data[i]?.text ?? fail(`${type} is missing a field`);
  const num = (i: number): number => (/^\d+$/.test(word(i)) ? Number(word(i)) : fail(`${word(i)} is not a number`));
  switch (type) {
    case 'TXT':
    case 'SPF':
      if (data.length === 0) fail('TXT needs a string');
      return { name, ttl, type, value: Buffer.concat(data.map((t) => t.bytes)).toString('utf8') };
    case 'MX':
      return { name, ttl, type, priority: num(0), value: absolute(word(1), origin) };
    case 'SRV':
      return { name, ttl, type, priority: num(0), weight: num(1), port: num(2), value: absolute(word(3), origin) };
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return { name, ttl, type, value: absolute(word(0), origin) };
    default:
      if (!/^[A-Z][A-Z0-9-]*$/.test(type)) fail(`${type} is not a record type`);
      return { name, ttl, type, value: data.map((t) => t.text).join(' ') };
  }
}

/** An absolute, lower-case name without the final dot; `@` is the origin (RFC 1035 §5.1). */
function absolute(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.endsWith('.')) return name.slice(0, -1).toLowerCase();
  return (origin ? `${name}.${origin}` : name).toLowerCase();
}

/** A TTL in seconds, or BIND's units (`1h30m`, `1w`); null when the token is not one. */
function ttlOf(token: string): number | null {
  if (/^\d+$/.test(token)) return Number(token);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  if (!/^(\d+[smhdw])+$/i.test(token)) return null;
  let total = 0;
  for (const [, n, u] of token.toLowerCase().matchAll(/(\d+)([smhdw])/g)) total += Number(n) * (units[u ?? 's'] ?? 1);
  return total;
}

/** Splits the text into logical lines of tokens: comments dropped, parentheses joined. */
function lex(text: string): Line[] {
  const lines: Line[] = [];
  let tokens: Token[] = [];
  let indented = false;
  let depth = 0;
  let lineNo = 1;
  let start = 1;
  let atStart = true;
  const flush = () => {
    if (tokens.length > 0) lines.push({ tokens, indented, lineNo: start });
    tokens = [];
  };
  for (let i = 0; i < text.length;) {
    const c = text[i] ?? '';
    if (c === '\n') {
      lineNo++;
      i++;
      if (depth === 0) {
        flush();
        atStart = true;
      }
      continue;
    }
    if (atStart) {
      [indented, atStart, start] = [c === ' ' || c === '\t', false, lineNo];
    }
    if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === ';') while (i < text.length && text[i] !== '\n') i++;
    else if (c === '(' || c === ')') {
      depth += c === '(' ? 1 : -1;
      if (depth < 0) throw new Error(`zone line ${lineNo}: unbalanced ")"`);
      i++;
    } else {
      const token = readToken(text, i, lineNo);
      tokens.push(token.token);
      lineNo += token.newlines;
      i = token.next;
    }
  }
  if (depth !== 0) throw new Error(`zone line ${lineNo}: unbalanced "("`);
  flush();
  return lines;
}

function readToken(text: string, from: number, lineNo: number): { token: Token; next: number; newlines: number } {
  const quoted = text[from] === '"';
  const bytes: number[] = [];
  let newlines = 0;
  let i = quoted ? from + 1 : from;
  for (;;) {
    const c = text[i];
    if (c === undefined) {
      if (quoted) throw new Error(`zone line ${lineNo}: unterminated string`);
      break;
    }
    if (quoted ? c === '"' : /[\s;()"]/.test(c)) break;
    if (c === '\n') newlines++;
    if (c === '\\') {
      const digits = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (digits) {
        bytes.push(Number(digits[0]) & 0xff);
        i += 4;
        continue;
      }
      i++;
    }
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    bytes.push(...Buffer.from(ch, 'utf8'));
    i += ch.length;
  }
  const buffer = Buffer.from(bytes);
  return { token: { text: buffer.toString('utf8'), bytes: buffer, quoted }, next: quoted ? i + 1 : i, newlines };
}
