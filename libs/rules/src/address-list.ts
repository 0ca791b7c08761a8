import { decodeEncodedWords } from './rfc2047';

/** One mailbox of an address list; `name` is the decoded display name, '' when there is none. */
export interface MailAddress {
  name: string;
  address: string;
}

interface Entry {
  display: string;
  angle: string | null;
  comment: string;
}

function emptyEntry(): Entry {
  return { display: '', angle: null, comment: '' };
}

function finish(entry: Entry, out: MailAddress[]): void {
  const display = entry.display.replace(/\s+/g, ' ').trim();
  if (entry.angle !== null) {
    // Drop an obsolete source route `<@a,@b:user@host>` (RFC 5322 §4.4).
    const address = entry.angle.slice(entry.angle.lastIndexOf(':') + 1).trim();
    if (address) {
      out.push({ name: decodeEncodedWords(display), address });
    }
    return;
  }
  const address = display.replace(/\s+/g, '');
  if (address) {
    // The old `user@host (Full Name)` form carries the name in a comment.
    out.push({ name: decodeEncodedWords(entry.comment.replace(/\s+/g, ' ').trim()), address });
  }
}

/**
 * Parses an RFC 5322 §3.4 address list (From, To, Cc, Reply-To) leniently: quoted strings,
 * comments, angle addresses, groups (`team: a@x, b@x;`, members are returned) and the obsolete
 * `addr (Name)` form. Display names are RFC 2047 decoded after splitting, because a decoded name
 * may contain the comma that separates addresses. Never throws; unparseable parts are skipped.
 */
export function parseAddressList(value: string): MailAddress[] {
  const out: MailAddress[] = [];
  let entry = emptyEntry();
  let quoted = false;
  let depth = 0;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '\\' && (quoted || depth > 0)) {
      const next = value.charAt(++i);
      if (depth > 0) {
        entry.comment += next;
      } else {
        entry.display += next;
      }
    } else if (depth > 0) {
      depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
      if (depth > 0) {
        entry.comment += ch;
      }
    } else if (quoted) {
      if (ch === '"') {
        quoted = false;
      } else {
        entry.display += ch;
      }
    } else if (inAngle) {
      if (ch === '>') {
        inAngle = false;
      } else {
        entry.angle = (entry.angle ?? '') + ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === '(') {
      depth = 1;
    } else if (ch === '<') {
      inAngle = true;
      entry.angle = '';
    } else if (ch === ',' || ch === ';') {
      finish(entry, out);
      entry = emptyEntry();
    } else if (ch === ':' && entry.angle === null) {
      // A group name: what came before is the group's display name, not an address.
      entry = emptyEntry();
    } else {
      entry.display += ch;
    }
  }
  finish(entry, out);
  return out;
}
