import { astring, expectCount, keyword, list, mailboxName, wireName } from '../command-args';
import type { ImapArg, WireValue } from '../imap-arg';
import { ImapBad, ImapNo } from '../imap-errors-map';
import type { FolderInfo } from '../imap-store';
import type { CommandHandler, ImapSession } from '../imap-session';

const SPECIAL_USE: Record<FolderInfo['kind'], string | null> = {
  inbox: null,
  sent: '\\Sent',
  drafts: '\\Drafts',
  trash: '\\Trash',
  junk: '\\Junk',
  archive: '\\Archive',
  custom: null,
};

/** The name a client sees: the inbox kind is always INBOX (RFC 9051 §5.1). */
export function displayName(folder: FolderInfo): string {
  return folder.kind === 'inbox' ? 'INBOX' : folder.name;
}

/** A folder by the client's name, or NO [NONEXISTENT] (or [TRYCREATE] for COPY/APPEND targets). */
export async function requireFolder(s: ImapSession, name: string, tryCreate = false): Promise<FolderInfo> {
  const folder = await s.deps.store.folderByName(s.tenantId, s.user!.mailboxId, name);
  if (folder) return folder;
  throw new ImapNo(tryCreate ? '[TRYCREATE] No such mailbox' : '[NONEXISTENT] No such mailbox');
}

/** LIST pattern to a regular expression: '*' anything, '%' anything but the delimiter. */
function patternRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/%/g, '[^/]*');
  return new RegExp(`^${body}$`, pattern.toUpperCase().startsWith('INBOX') ? 'i' : '');
}

interface ListRequest {
  reference: string;
  patterns: string[];
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  returnSubscribed: boolean;
}

function parseList(s: ImapSession, args: ImapArg[], lsub: boolean): ListRequest {
  const req: ListRequest = {
    reference: '',
    patterns: [],
    subscribedOnly: lsub,
    specialUseOnly: false,
    returnSubscribed: false,
  };
  let i = 0;
  if (!lsub && args[0]?.type === 'list') {
    // RFC 5258 selection options
    for (const opt of list(args[i++])) {
      const o = keyword(opt, 'selection option');
      if (o === 'SUBSCRIBED') req.subscribedOnly = req.returnSubscribed = true;
      else if (o === 'SPECIAL-USE') req.specialUseOnly = true;
    }
  }
  req.reference = astring(args[i++], 'reference');
  const pat = args[i++];
  req.patterns = pat?.type === 'list' ? pat.items.map((p) => mailboxName(p, s.utf8)) : [mailboxName(pat, s.utf8)];
  if (args[i]) {
    if (keyword(args[i++]) !== 'RETURN') throw new ImapBad('Expected RETURN');
    for (const opt of list(args[i++])) if (keyword(opt) === 'SUBSCRIBED') req.returnSubscribed = true;
  }
  if (lsub) req.returnSubscribed = true;
  return req;
}

async function listCommand(s: ImapSession, args: ImapArg[], lsub: boolean): Promise<string> {
  const name = lsub ? 'LSUB' : 'LIST';
  const req = parseList(s, args, lsub);
  if (req.patterns.length === 1 && req.patterns[0] === '' && !lsub) {
    // RFC 9051 §6.3.9: an empty pattern asks for the delimiter.
    await s.send('* LIST', [[{ atom: '\\Noselect' }], '/', '']);
    return 'OK LIST completed';
  }
  const folders = await s.deps.store.listFolders(s.tenantId, s.user!.mailboxId);
  const names = folders.map(displayName);
  const regexes = req.patterns.map((p) => patternRegex(req.reference + p));
  for (const folder of folders) {
    const shown = displayName(folder);
    if (!regexes.some((r) => r.test(shown))) continue;
    if (req.subscribedOnly && !folder.subscribed) continue;
    const special = SPECIAL_USE[folder.kind];
    if (req.specialUseOnly && !special) continue;
    const attrs: WireValue[] = [];
    const children = names.some((n) => n.startsWith(`${shown}/`));
    if (!lsub) attrs.push({ atom: children ? '\\HasChildren' : '\\HasNoChildren' });
    if (special) attrs.push({ atom: special });
    if (req.returnSubscribed && folder.subscribed && !lsub) attrs.push({ atom: '\\Subscribed' });
    await s.send(`* ${name}`, [attrs, '/', wireName(shown, s.utf8)]);
  }
  return `OK ${name} completed`;
}

export const listFolders: CommandHandler = (s, cmd) => listCommand(s, cmd.args, false);
export const lsubFolders: CommandHandler = (s, cmd) => listCommand(s, cmd.args, true);

export const create: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 1, 2);
  const name = mailboxName(cmd.args[0], s.utf8).replace(/\/$/, '');
  if (name === 'INBOX') return 'NO [ALREADYEXISTS] INBOX always exists';
  await s.deps.store.createFolder(s.tenantId, s.user!.mailboxId, name);
  return 'OK CREATE completed';
};

export const remove: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 1);
  const name = mailboxName(cmd.args[0], s.utf8);
  await requireFolder(s, name);
  await s.deps.store.deleteFolder(s.tenantId, s.user!.mailboxId, name);
  return 'OK DELETE completed';
};

export const rename: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 2);
  const from = mailboxName(cmd.args[0], s.utf8);
  await requireFolder(s, from);
  await s.deps.store.renameFolder(s.tenantId, s.user!.mailboxId, from, mailboxName(cmd.args[1], s.utf8));
  return 'OK RENAME completed';
};

function subscription(subscribed: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, 1);
    const name = mailboxName(cmd.args[0], s.utf8);
    await requireFolder(s, name);
    await s.deps.store.setSubscribed(s.tenantId, s.user!.mailboxId, name, subscribed);
    return `OK ${subscribed ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} completed`;
  };
}

export const status: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 2);
  const name = mailboxName(cmd.args[0], s.utf8);
  const items = list(cmd.args[1], 'status items').map((a) => keyword(a, 'status item'));
  const folder = await requireFolder(s, name);
  const c = await s.deps.store.folderCounts(s.tenantId, folder.id);
  const values: Record<string, number | bigint> = {
    MESSAGES: c.messages,
    UIDNEXT: c.uidNext,
    UIDVALIDITY: c.uidValidity,
    UNSEEN: c.unseen,
    DELETED: c.deleted,
    SIZE: c.sizeBytes,
    HIGHESTMODSEQ: c.highestModseq,
    RECENT: 0, // we keep no \Recent (RFC 9051 dropped it); IMAP4rev1 clients accept 0
  };
  const out: WireValue[] = [];
  for (const item of items) {
    if (!(item in values)) throw new ImapBad(`Unknown status item ${item}`);
    if (item === 'HIGHESTMODSEQ') s.condstore = true; // RFC 7162 §3.1: implicit enable
    out.push({ atom: item }, values[item]!);
  }
  await s.send('* STATUS', [wireName(displayName(folder), s.utf8), out]);
  return 'OK STATUS completed';
};

async function storageUsed(s: ImapSession): Promise<bigint> {
  let used = 0n;
  for (const f of await s.deps.store.listFolders(s.tenantId, s.user!.mailboxId)) {
    used += (await s.deps.store.folderCounts(s.tenantId, f.id)).sizeBytes;
  }
  return used;
}

async function sendQuota(s: ImapSession): Promise<void> {
  const kib = (n: bigint) => (n + 1023n) / 1024n;
  await s.send('* QUOTA', ['', [{ atom: 'STORAGE' }, kib(await storageUsed(s)), kib(s.user!.quotaBytes)]]);
}

export const getQuotaRoot: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 1);
  const name = mailboxName(cmd.args[0], s.utf8);
  const folder = await requireFolder(s, name);
  // One quota root per mailbox, named "" (RFC 9208 §4.3.2).
  await s.send('* QUOTAROOT', [wireName(displayName(folder), s.utf8), '']);
  await sendQuota(s);
  return 'OK GETQUOTAROOT completed';
};

export const getQuota: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 1);
  if (astring(cmd.args[0], 'quota root') !== '') return 'NO [NONEXISTENT] No such quota root';
  await sendQuota(s);
  return 'OK GETQUOTA completed';
};

/** Folder handlers of the authenticated state (selected state inherits them). */
export function folderCommands(): Record<string, CommandHandler> {
  return {
    LIST: listFolders,
    LSUB: lsubFolders,
    CREATE: create,
    DELETE: remove,
    RENAME: rename,
    SUBSCRIBE: subscription(true),
    UNSUBSCRIBE: subscription(false),
    STATUS: status,
    GETQUOTAROOT: getQuotaRoot,
    GETQUOTA: getQuota,
  };
}
