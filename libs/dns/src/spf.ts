/** SPF qualifiers (RFC 7208 §4.6.2): pass, fail, softfail, neutral. */
export type SpfQualifier = '+' | '-' | '~' | '?';
export type SpfMechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export type SpfTerm =
  | { kind: 'mechanism'; qualifier: SpfQualifier; name: SpfMechanismName; value: string | null; text: string }
  | { kind: 'modifier'; name: string; value: string; text: string };

/** What {@link parseSpf} found: the well-formed terms, and the first syntax error when there is one. */
export type ParsedSpf = { ok: true; terms: SpfTerm[] } | { ok: false; message: string; terms: SpfTerm[] };

/** Node's `resolveTxt` shape: one array of character-strings per TXT record. */
export type ResolveTxt = (name: string) => Promise<string[][]>;

/** The result of {@link countSpfLookups}. */
export interface SpfLookupCount {
  /** Terms that cost a DNS lookup, counted through includes and redirects. */
  lookups: number;
  /** RFC 7208 §4.6.4: more than 10 lookups is a permerror at every receiver. */
  exceeded: boolean;
  /** True when receivers would fail the record (permerror): over the limit, a loop, a broken include. */
  permerror: boolean;
  /** False when a lookup failed temporarily, so the count may be low. */
  complete: boolean;
  /** Sentences for a human: missing include targets, loops, unexpandable macros, timeouts. */
  problems: string[];
}

/** RFC 7208 §4.6.4: the limit on terms causing DNS queries during one evaluation. */
export const SPF_LOOKUP_LIMIT = 10;
const LOOKUP_TERMS = new Set(['include', 'a', 'mx', 'ptr', 'exists']);
const NEEDS_VALUE = new Set(['include', 'ip4', 'ip6', 'exists']);
const MECHANISMS = new Set<string>(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
// RFC 7208 §4.5: the version must be exactly "v=spf1" followed by a space or the end.
const VERSION = /^v=spf1(\s|$)/i;
// Codes meaning "the name has no such record"; every other failure is temporary.
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

/** True when a TXT value is an SPF record (RFC 7208 §4.5). */
export function isSpfRecord(txt: string): boolean {
  return VERSION.test(txt.trim());
}

/** Parses an SPF record into its terms (RFC 7208 §4.6.1 and §12), leniently: bad terms are skipped. */
export function parseSpf(txt: string): ParsedSpf {
  const words = txt.trim().split(/\s+/);
  if (!isSpfRecord(txt)) return { ok: false, message: 'it does not start with v=spf1', terms: [] };
  const terms: SpfTerm[] = [];
  let message: string | null = null;
  const seen = new Set<string>();
  for (const word of words.slice(1)) {
    const term = parseTerm(word);
    if (typeof term === 'string') {
      message ??= term;
      continue;
    }
    // RFC 7208 §6: redirect and exp may each appear once.
    if (term.kind === 'modifier' && (term.name === 'redirect' || term.name === 'exp')) {
      if (seen.has(term.name)) message ??= `the ${term.name}= modifier appears twice`;
      seen.add(term.name);
    }
    terms.push(term);
  }
  return message === null ? { ok: true, terms } : { ok: false, message, terms };
}

function parseTerm(word: string): SpfTerm | string {
  const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(word);
  if (modifier?.[1] !== undefined && modifier[2] !== undefined) {
    return { kind: 'modifier', name: modifier[1].toLowerCase(), value: modifier[2], text: word };
  }
  const match = /^([-+~?]?)([a-z0-9]+)(.*)$/i.exec(word);
  const name = match?.[2]?.toLowerCase() ?? '';
  if (!match || !MECHANISMS.has(name)) return `"${word}" is not an SPF mechanism`;
  const rest = match[3] ?? '';
  if (rest && !/^[:/]/.test(rest)) return `"${word}" is not an SPF mechanism`;
  const value = rest.startsWith(':') ? rest.slice(1) : rest || null;
  if (NEEDS_VALUE.has(name) && !rest.startsWith(':')) return `"${word}" needs a value after ":"`;
  if (name === 'all' && rest) return `"${word}": all takes no value`;
  const qualifier = (match[1] || '+') as SpfQualifier;
  return { kind: 'mechanism', qualifier, name: name as SpfMechanismName, value, text: word };
}

/** The target domain of an include, or of a redirect, in lower case. */
function targetOf(term: SpfTerm): string | null {
  if (term.kind === 'mechanism') return term.name === 'include' ? (term.value ?? '').toLowerCase() : null;
  return term.name === 'redirect' ? term.value.toLowerCase() : null;
}

/**
 * Counts the DNS lookups an SPF evaluation of `record` costs (RFC 7208 §4.6.4): each include,
 * a, mx, ptr, exists and redirect counts one, and includes and redirects are followed through
 * `resolveTxt`. Loops are detected on the current include chain and reported as a permerror
 * (a real evaluation runs into the limit); diamonds are counted each time, as receivers do. The walk stops once `cap` lookups are counted, which bounds the queries made.
 */
export async function countSpfLookups(
  record: string,
  resolveTxt: ResolveTxt,
  options: { cap?: number } = {},
): Promise<SpfLookupCount> {
  const state: WalkState = { lookups: 0, broken: false, complete: true, problems: [], cap: options.cap ?? 20 };
  await walk(record, [], resolveTxt, state);
  const exceeded = state.lookups > SPF_LOOKUP_LIMIT;
  return {
    lookups: state.lookups,
    exceeded,
    permerror: exceeded || state.broken,
    complete: state.complete,
    problems: state.problems,
  };
}

type WalkState = { lookups: number; broken: boolean; complete: boolean; problems: string[]; cap: number };

async function walk(record: string, chain: string[], resolveTxt: ResolveTxt, state: WalkState): Promise<void> {
  const { terms } = parseSpf(record);
  // RFC 7208 §6.1: redirect is ignored when the record has an "all" mechanism.
  const hasAll = terms.some((t) => t.kind === 'mechanism' && t.name === 'all');
  for (const term of terms) {
    if (state.lookups >= state.cap) return;
    const counts = term.kind === 'mechanism' ? LOOKUP_TERMS.has(term.name) : term.name === 'redirect' && !hasAll;
    if (!counts) continue;
    state.lookups++;
    const target = targetOf(term);
    if (target === null) continue;
    if (target.includes('%')) {
      state.problems.push(`${term.text} uses a macro, which depends on the sender; it was not followed.`);
      continue;
    }
    if (chain.includes(target)) {
      state.broken = true;
      state.problems.push(`${term.text} loops back to ${target}: receivers fail such a record.`);
      continue;
    }
    const next = await fetchSpf(target, term.text, resolveTxt, state);
    if (next !== null) await walk(next, [...chain, target], resolveTxt, state);
  }
}

async function fetchSpf(name: string, via: string, resolveTxt: ResolveTxt, state: WalkState): Promise<string | null> {
  try {
    const records = (await resolveTxt(name)).map((chunks) => chunks.join('')).filter(isSpfRecord);
    if (records.length === 1) return records[0] ?? null;
    // RFC 7208 §5.2: an include whose target has no (or several) SPF records is a permerror.
    state.broken = true;
    state.problems.push(
      records.length === 0
        ? `${via}: ${name} has no SPF record, which makes receivers fail the whole record.`
        : `${via}: ${name} has ${records.length} SPF records, which makes receivers fail the whole record.`,
    );
  } catch (error) {
    if (ABSENT.has(errorCode(error))) {
      state.broken = true;
      state.problems.push(`${via}: ${name} does not exist, which makes receivers fail the whole record.`);
    } else {
      state.complete = false;
      state.problems.push(`${via}: could not look up ${name} (${errorCode(error) || 'error'}).`);
    }
  }
  return null;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** The SPF record a domain publishes when it has none: our include, and fail for everyone else. */
export function spfRecordFor(include: string): string {
  return `v=spf1 include:${include} -all`;
}

/** The result of {@link mergeSpf}: the one record to publish, and what changed besides our include. */
export interface MergedSpf {
  record: string;
  notes: string[];
}

/**
 * Merges the domain's existing SPF record(s) with our include into ONE record (RFC 7208 §3.2:
 * two SPF records are a permerror). Keeps every existing mechanism once, in order; adds
 * `include:<ours>` just before `all`; keeps `-all` or `~all` (the strictest among the records),
 * and turns `+all`, `?all` or a missing `all` into `~all`: a pass-everyone record protects
 * nothing, while a hard `-all` the tenant never had could reject mail from senders they forgot.
 * A `redirect=` survives only when no record has `all` (it is ignored otherwise, §6.1).
 */
export function mergeSpf(existing: string | readonly string[], ourInclude: string): MergedSpf {
  const records = (typeof existing === 'string' ? [existing] : existing).filter((r) => r.trim());
  if (records.length === 0) return { record: spfRecordFor(ourInclude), notes: [] };
  const notes: string[] = [];
  const mechanisms: SpfTerm[] = [];
  const modifiers: SpfTerm[] = [];
  const seen = new Set<string>();
  let all: SpfQualifier | null = null;
  for (const record of records) {
    const parsed = parseSpf(record);
    if (!parsed.ok) notes.push(`Dropped from "${record}": ${parsed.message}.`);
    for (const term of parsed.terms) {
      const id = term.kind === 'mechanism' ? `${term.name}:${term.value ?? ''}`.toLowerCase() : term.name;
      if (term.kind === 'mechanism' && term.name === 'all') {
        all = stricter(all, term.qualifier);
      } else if (!seen.has(id)) {
        seen.add(id);
        (term.kind === 'mechanism' ? mechanisms : modifiers).push(term);
      }
    }
  }
  if (!seen.has(`include:${ourInclude.toLowerCase()}`)) {
    mechanisms.push({
      kind: 'mechanism',
      qualifier: '+',
      name: 'include',
      value: ourInclude,
      text: `include:${ourInclude}`,
    });
  }
  const redirect = modifiers.find((m) => m.name === 'redirect');
  let kept = modifiers;
  if (all !== null && redirect) {
    kept = modifiers.filter((m) => m !== redirect);
    notes.push(`Dropped ${redirect.text}: it is ignored when the record has an "all" mechanism.`);
  }
  let allText: string | null = null;
  if (all === '-' || all === '~') allText = `${all}all`;
  else if (all !== null || !redirect) {
    allText = '~all';
    notes.push(all === null ? 'Added ~all: the record ended without one.' : `Replaced ${all}all with ~all.`);
  }
  const words = ['v=spf1', ...mechanisms.map((m) => m.text), ...(allText ? [allText] : []), ...kept.map((m) => m.text)];
  return { record: words.join(' '), notes };
}

/** The stricter of two `all` qualifiers: fail beats softfail beats neutral and pass. */
function stricter(a: SpfQualifier | null, b: SpfQualifier): SpfQualifier {
  const rank: Record<SpfQualifier, number> = { '-': 3, '~': 2, '?': 1, '+': 0 };
  return a === null || rank[b] > rank[a] ? b : a;
}
