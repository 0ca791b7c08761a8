import { astring, expectCount, keyword, list, mailboxName, wireName } from '../command-args';
import type { ImapArg } from '../imap-arg';
import { ImapBad } from '../imap-errors-map';
import { parseQresyncParam, resyncSelected, type QresyncParam } from '../qresync';
import type { CommandHandler, ImapSession } from '../imap-session';
import { SelectedView } from '../selected-view';
import { displayName, requireFolder } from './folder-commands';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

function deselect(s: ImapSession): void {
  s.view = null;
  s.state = 'authenticated';
}

/** `(CONDSTORE)`, `(QRESYNC (...))` or both (RFC 7162 §3.1.8, §3.2.5); checked before anything changes. */
function selectParams(s: ImapSession, arg: ImapArg | undefined): { condstore: boolean; qresync: QresyncParam | null } {
  const out: { condstore: boolean; qresync: QresyncParam | null } = { condstore: false, qresync: null };
  const items = arg ? list(arg, 'select parameters') : [];
  for (let i = 0; i < items.length; i++) {
    const name = keyword(items[i], 'select parameter');
    if (name === 'CONDSTORE') out.condstore = true;
    else if (name === 'QRESYNC') {
      // RFC 7162 §3.2.3: the parameter is BAD unless this connection enabled QRESYNC.
      if (!s.qresync) throw new ImapBad('QRESYNC needs ENABLE QRESYNC first');
      if (out.qresync) throw new ImapBad('QRESYNC given twice');
      out.qresync = parseQresyncParam(items[++i]);
    } else throw new ImapBad(`Unknown SELECT parameter ${astring(items[i])}`);
  }
  return out;
}

function selectCommand(readOnly: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, 1, 2);
    const name = mailboxName(cmd.args[0], s.utf8);
    const params = selectParams(s, cmd.args[1]);
    if (params.condstore) s.condstore = true;
    if (s.view) {
      deselect(s);
      // RFC 7162 §3.2.11: a server offering QRESYNC says [CLOSED] whenever SELECT/EXAMINE
      // closes the previous folder (without expunging it, RFC 9051 §6.3.2), enabled or not;
      // a client that does not know the code ignores it (RFC 3501 §7.1).
      await s.send('* OK [CLOSED] Previous mailbox closed');
    }
    const folder = await requireFolder(s, name);
    const view = await SelectedView.open(s.deps.store, s.tenantId, folder.id, readOnly);
    const keywords = new Set<string>();
    let firstUnseen = 0;
    view.uids.forEach((uid, i) => {
      const flags = view.states.get(uid)!.flags;
      for (const f of flags) if (!f.startsWith('\\')) keywords.add(f);
      if (!firstUnseen && !flags.includes('\\Seen')) firstUnseen = i + 1;
    });
    const flags = [...SYSTEM_FLAGS, ...[...keywords].sort()].join(' ');
    await s.send(`* FLAGS (${flags})`);
    await s.send(`* ${view.exists} EXISTS`);
    if (!s.rev2) await s.send('* 0 RECENT');
    if (!s.rev2 && firstUnseen) await s.send(`* OK [UNSEEN ${firstUnseen}] First unseen`);
    await s.send(`* OK [UIDVALIDITY ${view.folder.uidValidity}] UIDs valid`);
    await s.send(`* OK [UIDNEXT ${view.folder.uidNext}] Predicted next UID`);
    await s.send(`* OK [HIGHESTMODSEQ ${view.modseq}] Highest`);
    const permanent = readOnly ? '()' : `(${flags} \\*)`;
    await s.send(`* OK [PERMANENTFLAGS ${permanent}] Flags permitted`);
    if (s.rev2) await s.send('* LIST', [[], '/', wireName(displayName(view.folder), s.utf8)]);
    s.view = view;
    s.state = 'selected';
    if (params.qresync) await resyncSelected(s, view, params.qresync);
    return readOnly ? 'OK [READ-ONLY] EXAMINE completed' : 'OK [READ-WRITE] SELECT completed';
  };
}

export const close: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 0);
  const view = s.view!;
  // CLOSE expunges silently (RFC 9051 §6.4.1); EXAMINE'd folders are left alone.
  if (!view.readOnly) await s.deps.store.expunge(s.tenantId, view.folder.id);
  deselect(s);
  return 'OK CLOSE completed';
};

export const unselect: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 0);
  deselect(s);
  return 'OK UNSELECT completed';
};

function expungeCommand(byUid: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, byUid ? 1 : 0);
    const view = s.view!;
    if (view.readOnly) return 'NO [READ-ONLY] Mailbox is read-only';
    const uids = byUid ? view.resolve(astring(cmd.args[0], 'uid set'), true) : undefined;
    if (uids && uids.length === 0) return 'OK UID EXPUNGE completed';
    const gone = await s.deps.store.expunge(s.tenantId, view.folder.id, uids);
    await s.sendUpdates(view.remove(gone));
    const name = byUid ? 'UID EXPUNGE' : 'EXPUNGE';
    if (!s.qresync || gone.length === 0) return `OK ${name} completed`;
    // RFC 7162 §3.2.7/§3.2.9: the tagged OK carries the new HIGHESTMODSEQ. Catch up first, so
    // every change below that modseq has been told.
    await s.syncView(true, true);
    return `OK [HIGHESTMODSEQ ${view.modseq}] ${name} completed`;
  };
}

/** SELECT/EXAMINE run in the authenticated and selected states. */
export function selectCommands(): Record<string, CommandHandler> {
  return { SELECT: selectCommand(false), EXAMINE: selectCommand(true) };
}

/** Handlers of the selected state only. */
export function selectedStateCommands(): Record<string, CommandHandler> {
  return {
    CLOSE: close,
    UNSELECT: unselect,
    EXPUNGE: expungeCommand(false),
    'UID EXPUNGE': expungeCommand(true),
    CHECK: async (s) => {
      await s.syncView(true, true);
      return 'OK CHECK completed';
    },
  };
}
