import type { Section } from '@mailroom/imap/mime/section';
import type { ImapArg } from './imap-arg';
import { ImapSyntaxError } from './imap-errors';

export type SimpleFetchName =
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.TEXT';

export interface Partial {
  start: number;
  length: number;
}

/** One FETCH data item (RFC 3501 6.4.5, RFC 9051 6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ). */
export type FetchItem =
  | { type: 'simple'; name: SimpleFetchName }
  | { type: 'body-section'; peek: boolean; section: Section; partial?: Partial }
  | { type: 'binary'; peek: boolean; part: number[]; partial?: Partial }
  | { type: 'binary-size'; part: number[] };

const SIMPLE = new Set<string>([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
]);

const MACROS: Record<string, SimpleFetchName[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

/**
 * The data items of a FETCH: `args[0]` is a macro (ALL, FAST, FULL), one item, or a parenthesised
 * list of items; later arguments (RFC 7162 CHANGEDSINCE modifiers) are the session's business.
 * Throws ImapSyntaxError on anything else.
 */
export function parseFetchItems(args: ImapArg[]): FetchItem[] {
  const first = args[0];
  if (!first) throw new ImapSyntaxError('FETCH needs data items');
  if (first.type === 'atom' && first.section === undefined) {
    const macro = MACROS[first.value.toUpperCase()];
    if (macro) return macro.map((name) => ({ type: 'simple', name }));
  }
  if (first.type === 'list') {
    if (first.items.length === 0) throw new ImapSyntaxError('empty FETCH item list');
    return first.items.map(parseItem);
  }
  return [parseItem(first)];
}

/** Whether the FETCH sets \Seen: BODY[...] and BINARY[...] without .PEEK, RFC822, RFC822.TEXT (RFC 3501 6.4.5). */
export function fetchSetsSeen(items: FetchItem[]): boolean {
  return items.some((item) => {
    if (item.type === 'simple') return item.name === 'RFC822' || item.name === 'RFC822.TEXT';
    return item.type !== 'binary-size' && !item.peek;
  });
}

const ROW_DATA = new Set<SimpleFetchName>(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'UID', 'MODSEQ']);
const FROM_TREE = new Set<SimpleFetchName>(['ENVELOPE', 'BODY', 'BODYSTRUCTURE']);

/**
 * What rendering the items reads besides the row: the MIME tree (all but row data and the whole
 * message) and the message's bytes (sections, RFC822.*, BINARY).
 */
export function fetchNeeds(items: FetchItem[]): { structure: boolean; bodies: boolean } {
  const whole = (item: FetchItem) =>
    (item.type === 'simple' && item.name === 'RFC822') ||
    (item.type === 'body-section' && item.section.part.length === 0 && item.section.text === undefined);
  const rowOnly = (item: FetchItem) => item.type === 'simple' && ROW_DATA.has(item.name);
  const treeOnly = (item: FetchItem) => item.type === 'simple' && FROM_TREE.has(item.name);
  return {
    structure: items.some((item) => !rowOnly(item) && !whole(item)),
    bodies: items.some((item) => !rowOnly(item) && !treeOnly(item)),
  };
}

function parseItem(arg: ImapArg): FetchItem {
  if (arg.type !== 'atom') throw new ImapSyntaxError('FETCH items are atoms');
  const name = arg.value.toUpperCase();
  if (arg.section === undefined) {
    if (arg.partial) throw new ImapSyntaxError(`${name} takes no partial`);
    if (SIMPLE.has(name)) return { type: 'simple', name: name as SimpleFetchName };
    throw new ImapSyntaxError(`unknown FETCH item ${arg.value}`);
  }
  const partial = arg.partial ? checkPartial(arg.partial) : undefined;
  if (name === 'BODY' || name === 'BODY.PEEK') {
    return { type: 'body-section', peek: name === 'BODY.PEEK', section: parseSection(arg.section), ...opt(partial) };
  }
  if (name === 'BINARY' || name === 'BINARY.PEEK' || name === 'BINARY.SIZE') {
    const section = parseSection(arg.section);
    if (section.text !== undefined) throw new ImapSyntaxError('BINARY takes part numbers only');
    if (name === 'BINARY.SIZE') {
      if (partial) throw new ImapSyntaxError('BINARY.SIZE takes no partial');
      return { type: 'binary-size', part: section.part };
    }
    return { type: 'binary', peek: name === 'BINARY.PEEK', part: section.part, ...opt(partial) };
  }
  throw new ImapSyntaxError(`unknown FETCH item ${arg.value}`);
}

function opt(partial: Partial | undefined): { partial?: Partial } {
  return partial ? { partial } : {};
}

function checkPartial(partial: Partial): Partial {
  // RFC 3501: "<" number "." nz-number ">"
  if (!Number.isSafeInteger(partial.start) || partial.start < 0 || !Number.isSafeInteger(partial.length)) {
    throw new ImapSyntaxError('bad partial');
  }
  if (partial.length <= 0) throw new ImapSyntaxError('partial length must be positive');
  return partial;
}

const SPECIFIER = /^((?:[1-9]\d*)(?:\.[1-9]\d*)*)?(?:^|\.|$)(HEADER|TEXT|MIME|HEADER\.FIELDS|HEADER\.FIELDS\.NOT)?$/i;

/** `1.2.HEADER.FIELDS (From To)` as the parser delivers it: an atom, then a list of names. */
export function parseSection(args: ImapArg[]): Section {
  if (args.length === 0) return { part: [] };
  const [spec, list, ...rest] = args;
  if (spec?.type !== 'atom' || rest.length > 0) throw new ImapSyntaxError('bad section');
  const match = SPECIFIER.exec(spec.value);
  if (!match || (match[1] === undefined && match[2] === undefined) || spec.value.endsWith('.')) {
    throw new ImapSyntaxError('bad section');
  }
  const part = match[1] ? match[1].split('.').map(Number) : [];
  if (part.some((n) => !Number.isSafeInteger(n))) throw new ImapSyntaxError('bad part number');
  const text = match[2]?.toUpperCase() as Section['text'];
  if (text === undefined) return check(list === undefined, { part });
  if (text === 'MIME' && part.length === 0) throw new ImapSyntaxError('MIME needs a part number');
  if (text !== 'HEADER.FIELDS' && text !== 'HEADER.FIELDS.NOT') return check(list === undefined, { part, text });
  if (list?.type !== 'list' || list.items.length === 0) throw new ImapSyntaxError(`${text} needs a list of fields`);
  const fields = list.items.map((item) => {
    if (item.type === 'list') throw new ImapSyntaxError('header field names are strings');
    return item.type === 'atom' ? item.value : item.value.toString('utf8');
  });
  return { part, text, fields };
}

function check(ok: boolean, section: Section): Section {
  if (!ok) throw new ImapSyntaxError('bad section');
  return section;
}
