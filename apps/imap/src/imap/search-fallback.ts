import type { ImapArg } from './imap-arg';
import { ImapBad } from './imap-errors-map';
import type { SearchContext } from './imap-mime';
import type { SearchQuery } from './imap-store';

// Interim SEARCH parser for the common keys until the mime helper's search-parser.ts lands
// (contracts §5); the adapter switches to it then.
const FLAG_KEYS: Record<string, [string, boolean]> = {
  SEEN: ['\\Seen', true],
  UNSEEN: ['\\Seen', false],
  DELETED: ['\\Deleted', true],
  UNDELETED: ['\\Deleted', false],
  FLAGGED: ['\\Flagged', true],
  UNFLAGGED: ['\\Flagged', false],
  ANSWERED: ['\\Answered', true],
  UNANSWERED: ['\\Answered', false],
  DRAFT: ['\\Draft', true],
  UNDRAFT: ['\\Draft', false],
};

function text(arg: ImapArg | undefined): string {
  if (!arg || arg.type === 'list') throw new ImapBad('Missing search value');
  return arg.type === 'atom' ? arg.value : arg.value.toString('utf8');
}

function key(args: ImapArg[], i: { n: number }, ctx: SearchContext): SearchQuery {
  const arg = args[i.n++];
  if (!arg) throw new ImapBad('Missing search key');
  if (arg.type === 'list') return { op: 'and', of: all(arg.items, ctx) };
  const k = text(arg).toUpperCase();
  if (k === 'ALL') return { op: 'all' };
  if (FLAG_KEYS[k]) return { op: 'flag', flag: FLAG_KEYS[k][0], set: FLAG_KEYS[k][1] };
  if (k === 'KEYWORD' || k === 'UNKEYWORD') return { op: 'flag', flag: text(args[i.n++]), set: k === 'KEYWORD' };
  if (['FROM', 'TO', 'CC', 'BCC', 'SUBJECT'].includes(k)) return { op: 'header', field: k, value: text(args[i.n++]) };
  if (k === 'HEADER') return { op: 'header', field: text(args[i.n++]), value: text(args[i.n++]) };
  if (k === 'BODY' || k === 'TEXT') return { op: k === 'BODY' ? 'body' : 'text', value: text(args[i.n++]) };
  if (k === 'LARGER' || k === 'SMALLER') {
    return { op: 'size', cmp: k === 'LARGER' ? 'larger' : 'smaller', bytes: Number(text(args[i.n++])) };
  }
  if (k === 'UID') return { op: 'uid', uids: ctx.uidSetToRanges(text(args[i.n++])) };
  if (k === 'NOT') return { op: 'not', of: key(args, i, ctx) };
  if (k === 'OR') return { op: 'or', of: [key(args, i, ctx), key(args, i, ctx)] };
  if (k === 'MODSEQ') return { op: 'modseq', min: BigInt(text(args[i.n++])) };
  if (/^[\d*:,]+$/.test(k)) return { op: 'uid', uids: ctx.sequenceToUids(k) };
  throw new ImapBad(`Unsupported search key ${k}`);
}

function all(args: ImapArg[], ctx: SearchContext): SearchQuery[] {
  const out: SearchQuery[] = [];
  const i = { n: 0 };
  while (i.n < args.length) out.push(key(args, i, ctx));
  return out;
}

/** SEARCH [RETURN (...)] [CHARSET x] keys. */
export function parseSearchFallback(args: ImapArg[], ctx: SearchContext) {
  let rest = args;
  let returnOptions: string[] | undefined;
  let charset: string | null = null;
  if (rest[0]?.type === 'atom' && rest[0].value.toUpperCase() === 'RETURN' && rest[1]?.type === 'list') {
    returnOptions = rest[1].items.map((a) => text(a).toUpperCase());
    rest = rest.slice(2);
  }
  if (rest[0]?.type === 'atom' && rest[0].value.toUpperCase() === 'CHARSET') {
    charset = text(rest[1]);
    rest = rest.slice(2);
  }
  const of = all(rest, ctx);
  const query: SearchQuery = of.length === 1 ? of[0]! : { op: 'and', of };
  return { query, charset, ...(returnOptions ? { returnOptions } : {}) };
}
