import type { CommandHandler, ImapSession } from '../imap-session';
import type { SearchContext } from '../search-parser';
import { parseSort, parseThread } from '../sort-thread-parser';
import { formatThreads, threadOrderedSubject, threadReferences } from '../thread';
import { esearch, foundModseq } from './search-command';

function searchContext(s: ImapSession): SearchContext {
  const view = s.view!;
  return {
    sequenceToUids: (set) => view.sequenceToUids(set),
    uidSetToRanges: (set) => view.uidRanges(set),
  };
}

/**
 * SORT and UID SORT (RFC 5256): `* SORT` with the numbers in sort order, or `* ESEARCH` for
 * RETURN (RFC 5267); the store orders them in SQL. With a MODSEQ key, the highest modseq of the
 * found messages follows (RFC 7162 section 3.1.5).
 */
export function sortCommand(byUid: boolean): CommandHandler {
  return async (s, cmd) => {
    const view = s.view!;
    const parsed = parseSort(cmd.args, searchContext(s));
    const uids = await s.deps.store.sort(s.tenantId, view.folder.id, parsed.query, parsed.criteria);
    const found = uids.filter((uid) => view.seqOf(uid) > 0);
    const nums = found.map((uid) => (byUid ? uid : view.seqOf(uid)));
    const modseq = foundModseq(s, parsed.query, found);
    if (parsed.returnOptions) {
      // ESORT (RFC 5267 section 3.1): MIN and MAX are the first and last in sort order, ALL keeps it.
      await s.send(esearch(cmd.tag, byUid, nums, parsed.returnOptions, modseq));
    } else {
      await s.send(`* SORT${nums.map((n) => ` ${n}`).join('')}${modseq !== null ? ` (MODSEQ ${modseq})` : ''}`);
    }
    return `OK ${byUid ? 'UID SORT' : 'SORT'} completed`;
  };
}

/** THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT or REFERENCES over the matching messages. */
export function threadCommand(byUid: boolean): CommandHandler {
  return async (s, cmd) => {
    const view = s.view!;
    const parsed = parseThread(cmd.args, searchContext(s));
    const messages = (await s.deps.store.threadMessages(s.tenantId, view.folder.id, parsed.query)).filter(
      (m) => view.seqOf(m.uid) > 0,
    );
    const roots = parsed.algorithm === 'references' ? threadReferences(messages) : threadOrderedSubject(messages);
    const list = formatThreads(roots, (m) => (byUid ? m.uid : view.seqOf(m.uid)));
    await s.send(`* THREAD${list ? ` ${list}` : ''}`);
    return `OK ${byUid ? 'UID THREAD' : 'THREAD'} completed`;
  };
}
