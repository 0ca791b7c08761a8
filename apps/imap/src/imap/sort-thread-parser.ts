import type { ImapArg } from './imap-arg';
import { ImapSyntaxError } from './imap-errors';
import type { SearchQuery, SortCriterion } from './imap-store';
import { checkCharset, parseCriteria, type SearchContext } from './search-parser';

const SORT_KEYS: Record<string, SortCriterion['key']> = {
  ARRIVAL: 'arrival',
  CC: 'cc',
  DATE: 'date',
  FROM: 'from',
  SIZE: 'size',
  SUBJECT: 'subject',
  TO: 'to',
  DISPLAYFROM: 'displayfrom',
  DISPLAYTO: 'displayto',
};
const KEY_NAMES = 'ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM or DISPLAYTO';

export type ThreadAlgorithm = 'orderedsubject' | 'references';

export interface ParsedSort {
  /** RFC 5267 ESORT RETURN options, upper case (`RETURN ()` gives `['ALL']`). */
  returnOptions?: string[];
  criteria: SortCriterion[];
  charset: string;
  query: SearchQuery;
}

export interface ParsedThread {
  algorithm: ThreadAlgorithm;
  charset: string;
  query: SearchQuery;
}

/**
 * `SORT [RETURN (options)] (sort-criteria) charset search-key...` (RFC 5256 section 3, RFC 5957
 * DISPLAY keys, RFC 5267 ESORT).
 */
export function parseSort(args: ImapArg[], ctx: SearchContext): ParsedSort {
  const returnOptions = sortReturn(args);
  if (returnOptions) args = args.slice(2);
  const list = args[0];
  if (list?.type !== 'list' || list.items.length === 0) {
    throw new ImapSyntaxError('SORT needs a parenthesised list of sort keys first, e.g. SORT (DATE) UTF-8 ALL');
  }
  const criteria: SortCriterion[] = [];
  let reverse = false;
  for (const item of list.items) {
    const name = item.type === 'atom' && item.section === undefined ? item.value.toUpperCase() : '';
    if (name === 'REVERSE' && !reverse) {
      reverse = true;
      continue;
    }
    const key = SORT_KEYS[name];
    if (!key) {
      throw new ImapSyntaxError(`Unknown sort key ${describe(item)}: use ${KEY_NAMES}, each optionally after REVERSE`);
    }
    criteria.push({ key, reverse });
    reverse = false;
  }
  if (reverse) throw new ImapSyntaxError('REVERSE must be followed by a sort key');
  const { charset, query } = charsetAndCriteria(args.slice(1), ctx, 'SORT');
  return returnOptions ? { returnOptions, criteria, charset, query } : { criteria, charset, query };
}

const RETURN_OPTIONS = new Set(['MIN', 'MAX', 'ALL', 'COUNT']);

/** ESORT's `RETURN (MIN MAX ALL COUNT)` (RFC 5267 section 3); undefined when absent. */
function sortReturn(args: ImapArg[]): string[] | undefined {
  const first = args[0];
  if (first?.type !== 'atom' || first.value.toUpperCase() !== 'RETURN') return undefined;
  const list = args[1];
  if (list?.type !== 'list') throw new ImapSyntaxError('RETURN needs a list of MIN, MAX, ALL or COUNT');
  const options = list.items.map((item) => (item.type === 'atom' ? item.value.toUpperCase() : ''));
  const unknown = options.find((o) => !RETURN_OPTIONS.has(o));
  if (unknown !== undefined) {
    throw new ImapSyntaxError(`Unknown RETURN option ${JSON.stringify(unknown)}: SORT takes MIN, MAX, ALL and COUNT`);
  }
  return options.length === 0 ? ['ALL'] : options;
}

/** `THREAD algorithm charset search-key...` (RFC 5256 section 3). */
export function parseThread(args: ImapArg[], ctx: SearchContext): ParsedThread {
  const first = args[0];
  const name = first?.type === 'atom' && first.section === undefined ? first.value.toUpperCase() : '';
  if (name !== 'ORDEREDSUBJECT' && name !== 'REFERENCES') {
    throw new ImapSyntaxError(
      `Unknown threading algorithm${first ? ` ${describe(first)}` : ''}: use ORDEREDSUBJECT or REFERENCES`,
    );
  }
  const { charset, query } = charsetAndCriteria(args.slice(1), ctx, 'THREAD');
  return { algorithm: name === 'REFERENCES' ? 'references' : 'orderedsubject', charset, query };
}

function charsetAndCriteria(args: ImapArg[], ctx: SearchContext, command: string) {
  const charset = args[0];
  if (!charset || args.length < 2 || charset.type === 'list' || (charset.type === 'atom' && charset.section)) {
    throw new ImapSyntaxError(`${command} needs a charset (UTF-8 or US-ASCII) and search criteria, e.g. UTF-8 ALL`);
  }
  const value = charset.type === 'atom' ? charset.value : charset.value.toString('utf8');
  return { charset: checkCharset(value), query: parseCriteria(args.slice(1), ctx, command) };
}

function describe(arg: ImapArg): string {
  if (arg.type === 'list') return '(a list)';
  const text = arg.type === 'atom' ? arg.value : arg.value.toString('utf8');
  return JSON.stringify(text.slice(0, 40));
}
