/** One IMAP address: (name adl mailbox host), RFC 3501 7.4.2; groups use the NIL host convention. */
export interface ImapAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

interface Token {
  kind: 'word' | 'quoted' | 'special' | 'literal' | 'comment';
  raw: string;
  /** Whitespace or a comment came before it. */
  spaced: boolean;
}

/** RFC 5322 tokens; a comment is kept apart (it names an address that has no phrase). */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let spaced = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      spaced = true;
      i++;
    } else if (c === '(') {
      const end = skipComment(input, i);
      tokens.push({ kind: 'comment', raw: input.slice(i + 1, input[end - 1] === ')' ? end - 1 : end), spaced });
      i = end;
      spaced = true;
    } else if (c === '"' || c === '[') {
      const close = c === '"' ? '"' : ']';
      let j = i + 1;
      while (j < input.length && input[j] !== close) j += input[j] === '\\' ? 2 : 1;
      tokens.push({ kind: c === '"' ? 'quoted' : 'literal', raw: input.slice(i, j + 1), spaced });
      i = j + 1;
      spaced = false;
    } else if ('<>@,:;.'.includes(c)) {
      tokens.push({ kind: 'special', raw: c, spaced });
      i++;
      spaced = false;
    } else {
      let j = i;
      while (j < input.length && !/[\s()"[<>@,:;.]/.test(input[j]!)) j++;
      tokens.push({ kind: 'word', raw: input.slice(i, j), spaced });
      i = j;
      spaced = false;
    }
  }
  return tokens;
}

function skipComment(input: string, start: number): number {
  let depth = 0;
  let i = start;
  for (; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return i;
}

const isSpecial = (token: Token | undefined, raw: string) => token?.kind === 'special' && token.raw === raw;

/** A display name: quotes removed, words separated by one space, encoded words left as they are. */
function phrase(tokens: Token[]): string | null {
  let out = '';
  for (const token of tokens) {
    if (token.kind !== 'comment') out += (out && token.spaced ? ' ' : '') + text(token);
  }
  return out === '' ? null : out;
}

const text = (token: Token) =>
  token.kind === 'quoted' ? token.raw.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1') : token.raw;

/** Dovecot gives a quoted local part without its quotes ("john smith"@x.org: mailbox `john smith`). */
function joinRaw(tokens: Token[]): string {
  return tokens.map(text).join('');
}

/** local@domain, with an optional route `@a,@b:` in front (the adl). */
function addrSpec(tokens: Token[], name: string | null): ImapAddress {
  let adl: string | null = null;
  const colon = tokens.findIndex((t) => isSpecial(t, ':'));
  if (colon >= 0 && isSpecial(tokens[0], '@')) {
    adl = joinRaw(tokens.slice(0, colon));
    tokens = tokens.slice(colon + 1);
  }
  let at = -1;
  tokens.forEach((t, i) => (isSpecial(t, '@') ? (at = i) : undefined));
  const local = joinRaw(at === -1 ? tokens : tokens.slice(0, at));
  const domain = at === -1 ? '' : joinRaw(tokens.slice(at + 1));
  // Dovecot's placeholders for a broken address, so clients still see something usable.
  return { name, adl, mailbox: local || 'MISSING_MAILBOX', host: domain || 'MISSING_DOMAIN' };
}

function mailbox(all: Token[]): ImapAddress | null {
  const tokens = all.filter((t) => t.kind !== 'comment');
  if (tokens.length === 0) return null;
  const open = tokens.findIndex((t) => isSpecial(t, '<'));
  // `a@b.c (Alice)`: the last comment is the name, as in Dovecot.
  if (open === -1) {
    return addrSpec(
      tokens,
      all
        .filter((t) => t.kind === 'comment')
        .at(-1)
        ?.raw.trim() || null,
    );
  }
  let close = tokens.findIndex((t, i) => i > open && isSpecial(t, '>'));
  if (close === -1) close = tokens.length;
  const name = phrase(tokens.slice(0, open));
  const inner = tokens.slice(open + 1, close);
  if (inner.length === 0) return { name, adl: null, mailbox: 'MISSING_MAILBOX', host: 'MISSING_DOMAIN' };
  return addrSpec(inner, name);
}

/** Parses an address-list header value (From, To, ...) into IMAP addresses; never throws. */
export function parseAddressList(input: string): ImapAddress[] {
  const tokens = tokenize(input);
  const out: ImapAddress[] = [];
  let current: Token[] = [];
  let inGroup = false;
  let inAngle = false;
  let groupEnded = false;
  const flush = () => {
    const address = mailbox(current);
    if (address) out.push(address);
    current = [];
  };
  for (const token of tokens) {
    // Dovecot stops at anything but a comma after a group's end (`Team: ; broken` is one group).
    if (groupEnded && token.kind !== 'comment' && !isSpecial(token, ',')) break;
    groupEnded = false;
    if (isSpecial(token, '<')) inAngle = true;
    if (isSpecial(token, '>')) inAngle = false;
    if (!inAngle && isSpecial(token, ':') && !inGroup && !isSpecial(current[0], '@')) {
      // RFC 3501: a group starts with (NIL NIL "name" NIL) and ends with (NIL NIL NIL NIL).
      out.push({ name: null, adl: null, mailbox: phrase(current) ?? '', host: null });
      current = [];
      inGroup = true;
    } else if (!inAngle && isSpecial(token, ';')) {
      flush();
      if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
      groupEnded = inGroup;
      inGroup = false;
    } else if (!inAngle && isSpecial(token, ',')) {
      flush();
    } else {
      current.push(token);
    }
  }
  flush();
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}
