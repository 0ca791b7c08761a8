import { messageSummaryFromHeaders, parseMessageDate, sortKeysOf } from '@mailroom/rules';
import { flagList, mailboxName } from '../command-args';
import type { ImapArg } from '../imap-arg';
import { ImapBad } from '../imap-errors-map';
import type { AppendInput } from '../imap-store';
import type { CommandHandler } from '../imap-session';
import { requireFolder } from './folder-commands';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 9051 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz". */
export function parseDateTime(text: string): Date {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2]!.toLowerCase()) : -1;
  if (!m || month < 0) throw new ImapBad('Invalid date-time');
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return new Date(utc - offset);
}

/** The header fields stored on the message row, from the message's own header. */
export function headerOf(raw: Buffer): AppendInput['header'] {
  const end = raw.indexOf('\r\n\r\n');
  const text = raw.toString('utf8', 0, end < 0 ? Math.min(raw.length, 65_536) : end + 2);
  const summary = messageSummaryFromHeaders(text, raw.length);
  const from = summary.from[0];
  return {
    messageId: summary.headers.get('message-id')?.trim().slice(0, 998) ?? null,
    subject: summary.subject ? summary.subject.slice(0, 998) : null,
    fromAddress: from?.address ?? null,
    fromName: from?.name ?? null,
    toAddresses: summary.to.map((a) => a.address).slice(0, 100),
    sentAt: parseMessageDate(summary.headers.get('date')),
    sortKeys: sortKeysOf(summary),
  };
}

function appendArgs(args: ImapArg[]): { flags: string[]; date: Date | null; message: Buffer } {
  let i = 1;
  let flags: string[] = [];
  let date: Date | null = null;
  const a = args[i];
  if (a?.type === 'list') {
    flags = flagList(a.items);
    i++;
  }
  const d = args[i];
  if (d && i < args.length - 1 && d.type === 'string') {
    date = parseDateTime(d.value.toString('latin1'));
    i++;
  }
  const msg = args[i];
  if (!msg || msg.type !== 'string' || i !== args.length - 1) throw new ImapBad('APPEND needs a message literal');
  return { flags, date, message: msg.value };
}

export const append: CommandHandler = async (s, cmd) => {
  const name = mailboxName(cmd.args[0], s.utf8);
  const { flags, date, message } = appendArgs(cmd.args);
  if (message.length === 0) return 'NO Empty message';
  if (message.length > s.deps.options.appendLimit) return 'NO [TOOBIG] Message larger than APPENDLIMIT';
  const folder = await requireFolder(s, name, true);
  const stored = await s.deps.store.append({
    tenantId: s.tenantId,
    mailboxId: s.user!.mailboxId,
    folderId: folder.id,
    raw: message,
    flags,
    receivedAt: date,
    header: headerOf(message),
  });
  if (s.view && s.view.folder.id === folder.id) s.view.dirty = true;
  return `OK [APPENDUID ${folder.uidValidity} ${stored.uid}] APPEND completed`;
};

/** The safety poll, spread ±25% so thousands of idle sessions do not query in step. */
function pollDelay(ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5));
}

/**
 * RFC 2177 IDLE: updates go out as they happen until DONE. Notifications wake the loop; a
 * poll every idlePollMs catches what a lost notification would have told us.
 */
export const idle: CommandHandler = async (s, cmd) => {
  if (cmd.args.length > 0) throw new ImapBad('IDLE takes no arguments');
  await s.send('+ idling');
  const line = s.conn.readLine(s.deps.options.authTimeoutMs);
  let done = false;
  let result: Buffer | null = null;
  void line.then((l) => {
    done = true;
    result = l;
    s.onWake?.();
  });
  let poll = false;
  try {
    while (!done && s.state !== 'logout') {
      await s.syncView(true, poll);
      poll = false;
      if (done || s.view?.dirty) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          poll = true;
          resolve();
        }, pollDelay(s.deps.options.idlePollMs));
        s.onWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    s.onWake = null;
  }
  if (s.state === 'logout') return '';
  const text = result === null ? null : (result as Buffer).toString('latin1').trim().toUpperCase();
  if (text === null) {
    if (!s.conn.isClosed) await s.send('* BYE Autologout; idle for too long');
    s.state = 'logout';
    return '';
  }
  return text === 'DONE' ? 'OK IDLE terminated' : 'BAD Expected DONE';
};
