import type { SearchQuery } from '../imap-store';
import type { CommandHandler, ImapSession } from '../imap-session';
import { formatSet } from '../selected-view';

/** Whether the program has a MODSEQ key: the response then carries the highest modseq (RFC 7162 §3.1.5). */
function hasModseq(q: SearchQuery): boolean {
  if (q.op === 'modseq') return true;
  if (q.op === 'and' || q.op === 'or') return q.of.some(hasModseq);
  if (q.op === 'not') return hasModseq(q.of);
  return false;
}

/**
 * With a MODSEQ key: the highest modseq of the messages found (null for none), and the session
 * turns CONDSTORE on; else null. SEARCH and SORT answer the same way.
 */
export function foundModseq(s: ImapSession, q: SearchQuery, found: number[]): bigint | null {
  if (!hasModseq(q)) return null;
  s.condstore = true;
  let modseq: bigint | null = null;
  for (const uid of found) {
    const m = s.view!.states.get(uid)?.modseq ?? 0n;
    if (modseq === null || m > modseq) modseq = m;
  }
  return modseq;
}

/** SEARCH and UID SEARCH; ESEARCH for RETURN (RFC 4731) and IMAP4rev2 sessions (RFC 9051 §6.4.4). */
export function searchCommand(byUid: boolean): CommandHandler {
  return async (s, cmd) => {
    const view = s.view!;
    const parsed = s.deps.mime.parseSearch(cmd.args, {
      sequenceToUids: (set) => view.sequenceToUids(set),
      uidSetToRanges: (set) => view.uidRanges(set),
    });
    const found = (await s.deps.store.search(s.tenantId, view.folder.id, parsed.query)).filter(
      (uid) => view.seqOf(uid) > 0,
    );
    const nums = found.map((uid) => (byUid ? uid : view.seqOf(uid))).sort((a, b) => a - b);
    const modseq = foundModseq(s, parsed.query, found);
    if (parsed.returnOptions || s.rev2) {
      await s.send(esearch(cmd.tag, byUid, nums, parsed.returnOptions ?? ['ALL'], modseq));
    } else {
      const tail = modseq !== null ? ` (MODSEQ ${modseq})` : '';
      await s.send(`* SEARCH${nums.map((n) => ` ${n}`).join('')}${tail}`);
    }
    return `OK ${byUid ? 'UID SEARCH' : 'SEARCH'} completed`;
  };
}

/** RFC 4731 / RFC 9051 §7.3.4 ESEARCH response; RETURN () means ALL. */
export function esearch(tag: string, byUid: boolean, nums: number[], options: string[], modseq: bigint | null): string {
  const opts = options.length === 0 ? ['ALL'] : options.map((o) => o.toUpperCase());
  let line = `* ESEARCH (TAG "${tag.replace(/["\\]/g, '')}")${byUid ? ' UID' : ''}`;
  if (opts.includes('MIN') && nums.length) line += ` MIN ${nums[0]}`;
  if (opts.includes('MAX') && nums.length) line += ` MAX ${nums[nums.length - 1]}`;
  if (opts.includes('ALL') && nums.length) line += ` ALL ${formatSet(nums)}`;
  if (opts.includes('COUNT')) line += ` COUNT ${nums.length}`;
  if (modseq !== null && nums.length) line += ` MODSEQ ${modseq}`;
  return line;
}
