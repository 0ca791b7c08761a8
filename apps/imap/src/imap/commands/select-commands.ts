import { astring, expectCount, keyword, list, mailboxName, wireName } from '../command-args';
import { ImapBad } from '../imap-errors-map';
import type { CommandHandler, ImapSession } from '../imap-session';
import { SelectedView } from '../selected-view';
import { displayName, requireFolder } from './folder-commands';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

function deselect(s: ImapSession): void {
  s.view = null;
  s.state = 'authenticated';
}

function selectCommand(readOnly: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, 1, 2);
    const name = mailboxName(cmd.args[0], s.utf8);
    if (cmd.args[1]) {
      for (const p of list(cmd.args[1], 'select parameters')) {
        if (keyword(p) === 'CONDSTORE') s.condstore = true;
        else throw new ImapBad(`Unknown SELECT parameter ${astring(p)}`);
      }
    }
    if (s.view) {
      deselect(s);
      // RFC 9051 §6.3.2: the old folder is closed without expunging; IMAP4rev1 clients only
      // know the CLOSED code from QRESYNC, so they do not get it.
      if (s.rev2) await s.send('* OK [CLOSED] Previous mailbox closed');
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
    return `OK ${byUid ? 'UID EXPUNGE' : 'EXPUNGE'} completed`;
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
