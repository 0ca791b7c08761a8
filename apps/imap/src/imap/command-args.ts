import type { ImapArg } from './imap-arg';
import { ImapBad } from './imap-errors-map';

/** An astring argument (atom, quoted or literal) as text. */
export function astring(arg: ImapArg | undefined, what = 'argument'): string {
  if (!arg || arg.type === 'list' || (arg.type === 'atom' && arg.section)) throw new ImapBad(`Missing ${what}`);
  return arg.type === 'atom' ? arg.value : arg.value.toString('utf8');
}

/** An atom argument, upper-cased (keywords of the grammar). */
export function keyword(arg: ImapArg | undefined, what = 'argument'): string {
  if (!arg || arg.type !== 'atom') throw new ImapBad(`Missing ${what}`);
  return arg.value.toUpperCase();
}

/** A parenthesised list argument. */
export function list(arg: ImapArg | undefined, what = 'list'): ImapArg[] {
  if (!arg || arg.type !== 'list') throw new ImapBad(`Expected ${what}`);
  return arg.items;
}

export function expectCount(args: ImapArg[], min: number, max = min): void {
  if (args.length < min || args.length > max) throw new ImapBad('Wrong number of arguments');
}

/** A mailbox name from the wire: modified UTF-7 unless UTF8=ACCEPT is on (RFC 3501 §5.1.3, RFC 6855 §3). */
export function mailboxName(arg: ImapArg | undefined, utf8: boolean): string {
  const raw = astring(arg, 'mailbox name');
  const name = utf8 ? raw : decodeMutf7(raw);
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** A mailbox name for the wire. */
export function wireName(name: string, utf8: boolean): string {
  return utf8 ? name : encodeMutf7(name);
}

/** RFC 3501 §5.1.3 modified UTF-7: '&' shifts to modified base64 of UTF-16, '&-' is '&'. */
export function decodeMutf7(s: string): string {
  return s.replace(/&([^-]*)-/g, (_, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
    return out;
  });
}

export function encodeMutf7(s: string): string {
  return s.replace(/&|[^\x20-\x7e]+/g, (chunk) => {
    if (chunk === '&') return '&-';
    const bytes = Buffer.alloc(chunk.length * 2);
    for (let i = 0; i < chunk.length; i++) bytes.writeUInt16BE(chunk.charCodeAt(i), i * 2);
    return `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
  });
}

/** Flags of STORE/APPEND: system flags normalised in case, keywords as given. */
export function flagList(args: ImapArg[]): string[] {
  const system = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
  const flags = args.map((a) => {
    if (a.type !== 'atom') throw new ImapBad('Flags are atoms');
    const known = system.find((f) => f.toLowerCase() === a.value.toLowerCase());
    if (known) return known;
    if (a.value.toLowerCase() === '\\recent') return null; // session flag, never stored (RFC 3501 §2.3.2)
    if (a.value.startsWith('\\')) throw new ImapBad(`Unknown system flag ${a.value}`);
    if (/[(){%*"\]\\]/.test(a.value) || [...a.value].some((c) => c <= ' ' || c === '\x7f')) {
      throw new ImapBad('Invalid keyword');
    }
    return a.value;
  });
  return flags.filter((f): f is string => f !== null);
}
