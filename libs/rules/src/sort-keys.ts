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
  const base = baseSubject(summary.headers.get('subject') ?? '');
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
  return a.name.trim() !== '' ? a.name.trim() : a.address;
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

// Letters whose titlecase is neither themselves nor their uppercase (the Latin digraphs).
const TITLECASE: Record<string, string> = {
  '\u01c4': '\u01c5',
  '\u01c6': '\u01c5',
  '\u01c7': '\u01c8',
  '\u01c9': '\u01c8',
  '\u01ca': '\u01cb',
  '\u01cc': '\u01cb',
  '\u01f1': '\u01f2',
  '\u01f3': '\u01f2',
};

/**
 * The i;unicode-casemap comparator's key (RFC 5051 §2): each character to its titlecase (a
 * one-character mapping; ß stays ß), then NFKD. Equal keys compare equal; their UTF-8 bytes order.
 */
export function unicodeCasemap(value: string): string {
  let out = '';
  for (const ch of value) {
    const special = TITLECASE[ch];
    if (special) {
      out += special;
      continue;
    }
    const upper = ch.toUpperCase();
    out += upper.length === ch.length ? upper : ch;
  }
  // NUL cannot be stored in a PostgreSQL text column; a header may still carry one.
  return out.normalize('NFKD').replace(/\0/g, '');
}
