import type { ImapArg } from './imap-arg';
import { ImapBadCharset, ImapSyntaxError } from './imap-errors';
import type { SearchQuery } from './search-query';

/** Session lookups: sequence sets (and `$` of RFC 5182) to uid ranges, uid sets to ranges ('*' resolved). */
export interface SearchContext {
  sequenceToUids(set: string): Array<[number, number]>;
  uidSetToRanges(set: string): Array<[number, number]>;
}

export interface ParsedSearch {
  query: SearchQuery;
  /** CHARSET as given, upper case; null when absent. */
  charset: string | null;
  /** RFC 4731 / RFC 9051 RETURN options, upper case (`RETURN ()` gives `['ALL']`). */
  returnOptions?: string[];
}

const CHARSETS = new Set(['UTF-8', 'US-ASCII']);
const RETURN_OPTIONS = new Set(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE']);
const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS = new Set(['BCC', 'CC', 'FROM', 'SUBJECT', 'TO']);
const DATE_KEYS: Record<string, ['internaldate' | 'sentdate', 'before' | 'on' | 'since']> = {
  BEFORE: ['internaldate', 'before'],
  ON: ['internaldate', 'on'],
  SINCE: ['internaldate', 'since'],
  SENTBEFORE: ['sentdate', 'before'],
  SENTON: ['sentdate', 'on'],
  SENTSINCE: ['sentdate', 'since'],
};
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** This server keeps no \Recent (IMAP4rev2 dropped it): RECENT and NEW match nothing. */
const NOTHING: SearchQuery = { op: 'not', of: { op: 'all' } };

/**
 * SEARCH arguments (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 4731 RETURN, RFC 7162 MODSEQ) to the
 * store's SearchQuery. Throws ImapSyntaxError (BAD) and ImapBadCharset (NO [BADCHARSET]).
 */
export function parseSearch(args: ImapArg[], ctx: SearchContext): ParsedSearch {
  const cursor = new Cursor(args, ctx);
  const returnOptions = cursor.returnOptions();
  const charset = cursor.charset();
  const keys: SearchQuery[] = [];
  while (!cursor.done()) keys.push(cursor.key());
  if (keys.length === 0) throw new ImapSyntaxError('SEARCH needs a search key');
  const query = keys.length === 1 ? keys[0]! : { op: 'and' as const, of: keys };
  return returnOptions ? { query, charset, returnOptions } : { query, charset };
}

/**
 * The search criteria of SORT and THREAD (RFC 5256 section 3): the keys SEARCH takes, after the
 * charset, which the caller has checked with {@link checkCharset}.
 */
export function parseCriteria(args: ImapArg[], ctx: SearchContext, command: string): SearchQuery {
  const cursor = new Cursor(args, ctx);
  const keys: SearchQuery[] = [];
  while (!cursor.done()) keys.push(cursor.key());
  if (keys.length === 0) throw new ImapSyntaxError(`${command} needs search criteria (ALL for every message)`);
  return keys.length === 1 ? keys[0]! : { op: 'and', of: keys };
}

/** A CHARSET we search in, upper case; ImapBadCharset (NO [BADCHARSET]) otherwise. */
export function checkCharset(charset: string): string {
  const upper = charset.toUpperCase();
  if (!CHARSETS.has(upper)) throw new ImapBadCharset(charset);
  return upper;
}

class Cursor {
  private pos = 0;

  constructor(
    private readonly args: ImapArg[],
    private readonly ctx: SearchContext,
  ) {}

  done(): boolean {
    return this.pos >= this.args.length;
  }

  returnOptions(): string[] | undefined {
    if (!this.peekAtom('RETURN')) return undefined;
    this.pos++;
    const list = this.next();
    if (list.type !== 'list') throw new ImapSyntaxError('RETURN needs a list');
    const options = list.items.map((item) => {
      const value = item.type === 'atom' ? item.value.toUpperCase() : '';
      if (!RETURN_OPTIONS.has(value)) throw new ImapSyntaxError('unknown RETURN option');
      return value;
    });
    return options.length === 0 ? ['ALL'] : options;
  }

  charset(): string | null {
    if (!this.peekAtom('CHARSET')) return null;
    this.pos++;
    return checkCharset(this.string());
  }

  key(): SearchQuery {
    const arg = this.next();
    if (arg.type === 'list') return this.group(arg.items);
    if (arg.type !== 'atom' || arg.section !== undefined) throw new ImapSyntaxError('bad search key');
    const name = arg.value.toUpperCase();
    const flag = FLAG_KEYS[name];
    if (flag) return { op: 'flag', flag: flag[0], set: flag[1] };
    if (HEADER_KEYS.has(name)) return { op: 'header', field: name.toLowerCase(), value: this.string() };
    const date = DATE_KEYS[name];
    if (date) return { op: date[0], cmp: date[1], date: this.date() };
    return this.otherKey(name, arg.value);
  }

  private otherKey(name: string, raw: string): SearchQuery {
    switch (name) {
      case 'ALL':
      case 'OLD':
        return { op: 'all' };
      case 'RECENT':
      case 'NEW':
        return NOTHING;
      case 'BODY':
      case 'TEXT':
        return { op: name === 'BODY' ? 'body' : 'text', value: this.string() };
      case 'HEADER':
        return { op: 'header', field: this.string().toLowerCase(), value: this.string() };
      case 'KEYWORD':
      case 'UNKEYWORD':
        return { op: 'flag', flag: this.atom(), set: name === 'KEYWORD' };
      case 'LARGER':
      case 'SMALLER':
        return { op: 'size', cmp: name === 'LARGER' ? 'larger' : 'smaller', bytes: Number(this.number()) };
      case 'NOT':
        return { op: 'not', of: this.key() };
      case 'OR':
        return { op: 'or', of: [this.key(), this.key()] };
      case 'UID':
        return { op: 'uid', uids: this.ctx.uidSetToRanges(this.sequenceSet()) };
      case 'MODSEQ':
        return this.modseq();
      default:
        if (isSequenceSet(raw)) return { op: 'uid', uids: this.ctx.sequenceToUids(raw) };
        throw new ImapSyntaxError(`unknown search key ${raw}`);
    }
  }

  /** RFC 7162 3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer; the entry is ignored. */
  private modseq(): SearchQuery {
    const next = this.args[this.pos];
    if (next && !(next.type === 'atom' && /^\d+$/.test(next.value))) {
      this.string();
      const type = this.atom().toLowerCase();
      if (type !== 'all' && type !== 'priv' && type !== 'shared') throw new ImapSyntaxError('bad MODSEQ entry type');
    }
    return { op: 'modseq', min: this.number() };
  }

  private group(items: ImapArg[]): SearchQuery {
    const inner = new Cursor(items, this.ctx);
    const keys: SearchQuery[] = [];
    while (!inner.done()) keys.push(inner.key());
    if (keys.length === 0) throw new ImapSyntaxError('empty search group');
    return keys.length === 1 ? keys[0]! : { op: 'and', of: keys };
  }

  private next(): ImapArg {
    const arg = this.args[this.pos++];
    if (!arg) throw new ImapSyntaxError('missing search argument');
    return arg;
  }

  private peekAtom(value: string): boolean {
    const arg = this.args[this.pos];
    return arg?.type === 'atom' && arg.value.toUpperCase() === value;
  }

  private string(): string {
    const arg = this.next();
    if (arg.type === 'list' || (arg.type === 'atom' && arg.section !== undefined)) {
      throw new ImapSyntaxError('expected a string');
    }
    return arg.type === 'atom' ? arg.value : arg.value.toString('utf8');
  }

  private atom(): string {
    const arg = this.next();
    if (arg.type !== 'atom' || arg.section !== undefined) throw new ImapSyntaxError('expected an atom');
    return arg.value;
  }

  private sequenceSet(): string {
    const value = this.atom();
    if (!isSequenceSet(value)) throw new ImapSyntaxError('bad sequence set');
    return value;
  }

  private number(): bigint {
    const value = this.atom();
    if (!/^\d{1,20}$/.test(value)) throw new ImapSyntaxError('expected a number');
    return BigInt(value);
  }

  /** RFC 3501 date: 1*2DIGIT "-" month "-" 4DIGIT, quoted or not; to YYYY-MM-DD. */
  private date(): string {
    const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(this.string());
    const month = match ? MONTHS.indexOf(match[2]!.toUpperCase()) : -1;
    const day = match ? Number(match[1]) : 0;
    if (!match || month === -1 || day < 1 || day > 31) throw new ImapSyntaxError('bad date');
    return `${match[3]}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  }
}

/** sequence-set of RFC 9051 9 (`1:3,5,7:*`) or `$` (RFC 5182 SEARCHRES). */
function isSequenceSet(value: string): boolean {
  return value === '$' || /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(value);
}
