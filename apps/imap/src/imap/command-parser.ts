import type { ImapArg } from './imap-arg';

/** A command as read from the wire: tag, upper-cased name (`UID FETCH` for UID commands) and arguments. */
export interface ParsedCommand {
  tag: string;
  name: string;
  args: ImapArg[];
}

/** The command is not valid IMAP syntax; the session answers `<tag> BAD <message>` and goes on. */
export class CommandSyntaxError extends Error {
  constructor(
    message: string,
    readonly tag: string,
  ) {
    super(message);
    this.name = 'CommandSyntaxError';
  }
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
// Characters that end an atom (RFC 9051 atom-specials minus list-wildcards, '\' and ']', which
// flags, LIST patterns and sequence sets carry; ']' ends an atom only inside a section).
const ATOM_END = new Set([SP, CR, LF, 0x28, 0x29, 0x7b, DQUOTE]);

/**
 * Parses one complete command: the line and its literals as read from the wire, where each
 * `{n}`, `{n+}`, `{n-}` or `~{n}` is followed by CRLF and exactly n bytes (the reader already
 * collected them). Throws CommandSyntaxError with the tag when it can be read.
 */
export function parseCommand(raw: Buffer): ParsedCommand {
  const p = new Parser(raw);
  const tag = p.tag();
  if (!tag) throw new CommandSyntaxError('Missing tag', '*');
  if (!p.eat(SP)) throw new CommandSyntaxError('Missing command', tag);
  let name = p.word(tag).toUpperCase();
  if (name === 'UID') {
    if (!p.eat(SP)) throw new CommandSyntaxError('Missing command after UID', tag);
    name = `UID ${p.word(tag).toUpperCase()}`;
  }
  const args: ImapArg[] = [];
  while (!p.done()) {
    if (!p.eat(SP)) throw new CommandSyntaxError('Expected a space between arguments', tag);
    args.push(p.arg(tag, false));
  }
  return { tag, name, args };
}

/** The tag of a (possibly broken) command line, for a BAD reply; '*' when there is none. */
export function tagOf(line: Buffer): string {
  const text = line.subarray(0, 200).toString('latin1');
  const m = /^([\x21-\x7e]+?)[ \r\n]/.exec(`${text} `);
  const tag = m?.[1] ?? '*';
  return /[(){%*"\\+]/.test(tag) ? '*' : tag;
}

class Parser {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  eat(byte: number): boolean {
    if (this.buf[this.pos] !== byte) return false;
    this.pos++;
    return true;
  }

  tag(): string {
    const start = this.pos;
    while (this.pos < this.buf.length && this.tagChar(this.buf[this.pos]!)) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  word(tag: string): string {
    const start = this.pos;
    while (this.pos < this.buf.length && !ATOM_END.has(this.buf[this.pos]!)) this.pos++;
    if (start === this.pos) throw new CommandSyntaxError('Missing command name', tag);
    return this.buf.toString('latin1', start, this.pos);
  }

  arg(tag: string, inSection: boolean): ImapArg {
    const c = this.buf[this.pos];
    if (c === undefined) throw new CommandSyntaxError('Unexpected end of command', tag);
    if (c === 0x28) return this.list(tag, 0x29, inSection);
    if (c === DQUOTE) return this.quoted(tag);
    if (c === 0x7b || (c === 0x7e && this.buf[this.pos + 1] === 0x7b)) return this.literal(tag);
    return this.atom(tag, inSection);
  }

  private list(tag: string, close: number, inSection: boolean): ImapArg {
    this.pos++;
    const items: ImapArg[] = [];
    while (!this.eat(close)) {
      if (this.done()) throw new CommandSyntaxError(close === 0x29 ? 'Unterminated list' : 'Unterminated section', tag);
      if (items.length > 0 && !this.eat(SP)) throw new CommandSyntaxError('Expected a space in a list', tag);
      if (this.buf[this.pos] === close) continue;
      items.push(this.arg(tag, inSection));
    }
    return { type: 'list', items };
  }

  private quoted(tag: string): ImapArg {
    this.pos++;
    const out: number[] = [];
    for (;;) {
      const c = this.buf[this.pos++];
      if (c === undefined || c === CR || c === LF) throw new CommandSyntaxError('Unterminated quoted string', tag);
      if (c === DQUOTE) break;
      if (c === BACKSLASH) {
        const next = this.buf[this.pos++];
        if (next !== DQUOTE && next !== BACKSLASH) throw new CommandSyntaxError('Bad escape in quoted string', tag);
        out.push(next);
      } else out.push(c);
    }
    return { type: 'string', value: Buffer.from(out) };
  }

  private literal(tag: string): ImapArg {
    const rest = this.buf.toString('latin1', this.pos, Math.min(this.buf.length, this.pos + 24));
    const m = /^~?\{(\d{1,10})[+-]?\}\r\n/.exec(rest);
    if (!m) throw new CommandSyntaxError('Bad literal', tag);
    const length = Number(m[1]);
    const start = this.pos + m[0].length;
    if (start + length > this.buf.length) throw new CommandSyntaxError('Literal shorter than announced', tag);
    this.pos = start + length;
    return { type: 'string', value: Buffer.from(this.buf.subarray(start, start + length)) };
  }

  private atom(tag: string, inSection: boolean): ImapArg {
    const start = this.pos;
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (ATOM_END.has(c) || c === 0x5b || (inSection && c === 0x5d)) break;
      this.pos++;
    }
    const value = this.buf.toString('utf8', start, this.pos);
    if (this.buf[this.pos] !== 0x5b) {
      if (!value) throw new CommandSyntaxError('Unexpected character', tag);
      return { type: 'atom', value };
    }
    const section = this.list(tag, 0x5d, true);
    const arg: ImapArg = { type: 'atom', value, section: section.type === 'list' ? section.items : [] };
    const partial = this.partial(tag);
    if (partial) arg.partial = partial;
    return arg;
  }

  private partial(tag: string): { start: number; length: number } | undefined {
    if (this.buf[this.pos] !== 0x3c) return undefined;
    const rest = this.buf.toString('latin1', this.pos, Math.min(this.buf.length, this.pos + 24));
    const m = /^<(\d{1,10})(?:\.(\d{1,10}))?>/.exec(rest);
    if (!m) throw new CommandSyntaxError('Bad partial range', tag);
    this.pos += m[0].length;
    return { start: Number(m[1]), length: m[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[2]) };
  }

  private tagChar(c: number): boolean {
    // tag = 1*<any ASTRING-CHAR except "+">
    return c > 0x20 && c < 0x7f && !ATOM_END.has(c) && c !== 0x2b && c !== 0x25 && c !== 0x2a && c !== BACKSLASH;
  }
}
