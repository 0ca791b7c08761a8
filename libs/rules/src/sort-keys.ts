import type { MailAddress } from './address-list';
import type { MessageSummary } from './message-summary';

/**
 * What IMAP SORT and THREAD (RFC 5256) compare, computed once from the header: strings are
 * already i;unicode-casemap folded, so a bytewise comparison (COLLATE "C") orders them.
 */
export interface SortKeys {
  /** Base subject (RFC 5256 §2.1), case-mapped; '' when none. */
  subject: string;
  /** Whether base subject extraction removed a Re:/Fwd: leader, a (fwd) trailer or [fwd: ...]. */
  subjectIsReply: boolean;
  /** addr-mailbox of the first From, To, Cc address, case-mapped; '' when none. */
  from: string;
  to: string;
  cc: string;
  /** RFC 5957 DISPLAYFROM / DISPLAYTO: the first address's display name, else its addr-spec. */
  displayFrom: string;
  displayTo: string;
  /** Message ids of References, else the first of In-Reply-To (RFC 5256 REFERENCES step 1). */
  threadRefs: string[];
}

/** The sort and thread keys of a parsed header. */
export function sortKeysOf(summary: MessageSummary): SortKeys {
  // Bounded: the stored subject is 998 characters, and extraction is quadratic in the worst case.
  const base = baseSubject((summary.headers.get('subject') ?? '').slice(0, 4096));
  const references = messageIds(summary.headers.get('references') ?? '');
  const inReplyTo = messageIds(summary.headers.get('in-reply-to') ?? '').slice(0, 1);
  const [from, to, cc] = (['from', 'to', 'cc'] as const).map((f) => firstAddress(summary, f));
  return {
    subject: unicodeCasemap(base.subject),
    subjectIsReply: base.isReply,
    from: unicodeCasemap(from!.mailbox),
    to: unicodeCasemap(to!.mailbox),
    cc: unicodeCasemap(cc!.mailbox),
    displayFrom: unicodeCasemap(from!.display),
    displayTo: unicodeCasemap(to!.display),
    threadRefs: (references.length > 0 ? references : inReplyTo).slice(-100),
  };
}

// A group (`team: a@x, b@x;`, RFC 5322 section 3.4) first: its display name.
const GROUP = /^\s*((?:"[^"]*"|[^"<>@,:;()])+?)\s*:/;

/**
 * The first address of a field as IMAP sees it (an ENVELOPE address list): a group's start
 * comes first, with the group name as its mailbox, as Dovecot sorts it.
 */
function firstAddress(summary: MessageSummary, field: 'from' | 'to' | 'cc'): { mailbox: string; display: string } {
  const group = GROUP.exec(summary.headers.get(field) ?? '');
  if (group) {
    const name = group[1]!.replace(/"/g, '').replace(/\s+/g, ' ').trim();
    return { mailbox: name, display: name };
  }
  const first = summary[field][0];
  return { mailbox: mailboxOf(first), display: displayOf(first) };
}

function mailboxOf(a: MailAddress | undefined): string {
  if (!a) return '';
  const at = a.address.lastIndexOf('@');
  return (at < 0 ? a.address : a.address.slice(0, at)).replace(/^"(.*)"$/, '$1');
}

function displayOf(a: MailAddress | undefined): string {
  if (!a) return '';
  if (a.name.trim() !== '') return a.name.trim();
  // An address without a domain reads as Dovecot's parser fills it in.
  return a.address.includes('@') ? a.address : `${a.address}@MISSING_DOMAIN`;
}

/**
 * The msg-ids of a Message-ID, References or In-Reply-To value, without angle brackets; an id
 * without an '@' is not a msg-id (RFC 5322 §3.6.4) and is skipped.
 */
export function messageIds(value: string): string[] {
  const ids: string[] = [];
  for (const m of value.replace(/\([^()]*\)/g, ' ').matchAll(/<([^<>]*)>/g)) {
    const id = m[1]!.replace(/[\s\0]+/g, '');
    if (/^[^@]+@[^@]+$/.test(id)) ids.push(id);
  }
  return ids;
}

const BLOB = String.raw`\[[^\[\]]*\] *`;
// subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const LEADER = new RegExp(String.raw`^(?:(?:${BLOB})*(?:re|fwd?) *(?:${BLOB})?:| )`, 'i');
const LEADING_BLOB = new RegExp(`^${BLOB}`);

/**
 * RFC 5256 §2.1 base subject of a decoded subject, and whether it was a reply or forward.
 * Runs of white space count as one space; the caller case-maps the result.
 */
export function baseSubject(subject: string): { subject: string; isReply: boolean } {
  let s = subject.replace(/[ \t\r\n]+/g, ' ');
  let isReply = false;
  for (;;) {
    // (2) subj-trailer: "(fwd)" / WSP, at the end, repeatedly.
    for (;;) {
      const trimmed = s.replace(/ +$/, '');
      if (/\(fwd\)$/i.test(trimmed)) {
        s = trimmed.slice(0, -5);
        isReply = true;
      } else if (trimmed !== s) {
        s = trimmed;
      } else break;
    }
    // (3) subj-leader and (4) a leading subj-blob that leaves something, until neither matches.
    for (;;) {
      const leader = LEADER.exec(s);
      if (leader) {
        if (leader[0] !== ' ') isReply = true;
        s = s.slice(leader[0].length);
        continue;
      }
      const blob = LEADING_BLOB.exec(s);
      if (blob && blob[0].length < s.length) {
        s = s.slice(blob[0].length);
        continue;
      }
      break;
    }
    // (5) subj-fwd: "[fwd:" subject "]", then again from (2).
    if (/^\[fwd:/i.test(s) && s.endsWith(']')) {
      s = s.slice(5, -1);
      isReply = true;
      continue;
    }
    return { subject: s, isReply };
  }
}

// Letters whose titlecase is neither themselves nor their one-character uppercase: the Latin
// digraphs (Ǆ ǅ ǆ all title to ǅ) and the Greek letters with ypogegrammeni (ᾀ titles to ᾈ).
const TITLECASE = new Map<number, number>();
for (const title of [0x1c5, 0x1c8, 0x1cb, 0x1f2]) {
  for (const c of [title - 1, title, title + 1]) TITLECASE.set(c, title);
}
for (const base of [0x1f80, 0x1f90, 0x1fa0]) {
  for (let i = 0; i < 8; i++) TITLECASE.set(base + i, base + 8 + i).set(base + 8 + i, base + 8 + i);
}
for (const [lower, title] of [
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]) {
  TITLECASE.set(lower!, title!).set(title!, title!);
}
const TITLE_LETTERS = new Set(TITLECASE.values());

// eslint-disable-next-line no-control-regex -- the ASCII range is the point
const ASCII_WITHOUT_NUL = /^[\x01-\x7f]*$/;

/**
 * The i;unicode-casemap comparator's key (RFC 5051 section 2) as Dovecot computes it, so our
 * orders agree: each character to its titlecase (a one-character mapping; ß stays ß), then
 * that character's own decomposition, one level deep (Dovecot's UnicodeData table), not
 * reordered across characters; a titlecase letter (ǅ) is not decomposed.
 */
export function unicodeCasemap(value: string): string {
  // ASCII without NUL (most subjects and addresses): each character's titlecase is its uppercase
  // and it has no decomposition, so the loop below would give exactly this.
  if (ASCII_WITHOUT_NUL.test(value)) return value.toUpperCase();
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0) continue; // NUL cannot be stored in a PostgreSQL text column
    const title = TITLECASE.get(cp);
    if (title !== undefined) {
      out += String.fromCodePoint(title);
      continue;
    }
    const upper = ch.toUpperCase();
    out += decompose(upper.length === ch.length ? upper : ch);
  }
  return out;
}

/** A character's decomposition (canonical or compatibility), one level deep. */
function decompose(ch: string): string {
  if (TITLE_LETTERS.has(ch.codePointAt(0)!)) return ch;
  // A singleton (the Angstrom sign is Å) goes one step, to the character NFC gives.
  const composed = ch.normalize('NFC');
  if (composed !== ch && [...composed].length === 1) return composed;
  const full = [...ch.normalize('NFKD')];
  const last = full[full.length - 1]!;
  // ế is Ê + acute in UnicodeData, E + circumflex + acute in NFKD: compose all but the last mark.
  if (full.length > 2 && /\p{M}/u.test(last)) return full.slice(0, -1).join('').normalize('NFC') + last;
  return full.join('');
}
