// Test support: reads IMAP text (Dovecot's replies, command arguments) into plain values, and turns
// WireValues into the same plain values, so tests compare meaning, not quoting or literal choice.
import type { ImapArg, WireValue } from '@mailroom/imap/imap/imap-arg';

/** A parsed value: strings hold bytes as latin1 chars (so raw UTF-8 compares byte for byte). */
export type Plain = null | number | string | { atom: string } | Plain[];

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  values(end?: string): Plain[] {
    const out: Plain[] = [];
    for (;;) {
      while (this.text[this.pos] === ' ') this.pos++;
      const c = this.text[this.pos];
      if (c === undefined || c === end) break;
      out.push(this.value());
    }
    if (end) this.pos++;
    return out;
  }

  value(): Plain {
    const c = this.text[this.pos]!;
    if (c === '(') {
      this.pos++;
      return this.values(')');
    }
    if (c === '"') {
      let out = '';
      for (this.pos++; this.text[this.pos] !== '"'; this.pos++) {
        if (this.text[this.pos] === '\\') this.pos++;
        out += this.text[this.pos];
      }
      this.pos++;
      return out;
    }
    const literal = /^~?\{(\d+)\}\r\n/.exec(this.text.slice(this.pos));
    if (literal) {
      this.pos += literal[0].length;
      const out = this.text.slice(this.pos, this.pos + Number(literal[1]));
      this.pos += out.length;
      return out;
    }
    return this.atom();
  }

  atom(): Plain {
    let out = '';
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (depth === 0 && (c === ' ' || c === ')' || c === '(')) break;
      if (c === '[') depth++;
      if (c === ']') depth--;
      out += c;
      this.pos++;
    }
    if (out === 'NIL') return null;
    if (/^\d+$/.test(out)) return Number(out);
    return { atom: out };
  }
}

/** The values of an IMAP text (a FETCH reply's content). */
export function parseImapText(text: string): Plain[] {
  return new Reader(text).values();
}

/** A WireValue as plain values, streams read. */
export async function plain(value: WireValue): Promise<Plain> {
  if (value === null || typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('latin1');
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return Promise.all(value.map(plain));
  if ('atom' in value) return { atom: value.atom };
  const parts: Buffer[] = [];
  for await (const chunk of value.stream()) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  if (bytes.length !== value.length) throw new Error(`stream gave ${bytes.length} bytes, announced ${value.length}`);
  return bytes.toString('latin1');
}

/** Command arguments as the IMAP parser of contracts §4 delivers them (atoms with [section]<partial>). */
export function parseArgs(text: string): ImapArg[] {
  const reader = new Reader(text);
  const convert = (value: Plain): ImapArg => {
    if (value === null) return { type: 'atom', value: 'NIL' };
    if (typeof value === 'number') return { type: 'atom', value: String(value) };
    if (typeof value === 'string') return { type: 'string', value: Buffer.from(value, 'utf8') };
    if (Array.isArray(value)) return { type: 'list', items: value.map(convert) };
    const match = /^([^[]*)\[(.*)\](?:<(\d+)\.(\d+)>)?$/.exec(value.atom);
    if (!match) return { type: 'atom', value: value.atom };
    const arg: ImapArg = { type: 'atom', value: match[1]!, section: parseArgs(match[2]!) };
    if (match[3]) arg.partial = { start: Number(match[3]), length: Number(match[4]) };
    return arg;
  };
  return reader.values().map(convert);
}
