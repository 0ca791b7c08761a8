import { astring, expectCount, flagList, keyword, list, mailboxName } from '../command-args';
import type { ImapArg, WireValue } from '../imap-arg';
import { ImapBad } from '../imap-errors-map';
import type { FetchMessage, MessageState } from '../imap-store';
import type { CommandHandler, ImapSession } from '../imap-session';
import { fetchModifiers, sendFetchVanished } from '../qresync';
import { formatSet } from '../selected-view';
import { encodeResponse, SegmentBatch } from '../wire-encoder';
import { FetchBatch, fetchBatches, readFetchMessages } from '../fetch-batch';
import { requireFolder } from './folder-commands';
import { searchCommand } from './search-command';
import { sortCommand, threadCommand } from './sort-thread-command';

/** The `(UNCHANGEDSINCE n)` modifier of STORE (RFC 7162 §3.1.3). */
function modifier(arg: ImapArg | undefined, name: string): bigint | null {
  if (!arg) return null;
  const items = list(arg, 'modifiers');
  if (items.length !== 2 || keyword(items[0]) !== name) throw new ImapBad(`Expected ${name}`);
  const value = astring(items[1]);
  if (!/^\d{1,20}$/.test(value)) throw new ImapBad(`Bad ${name} value`);
  return BigInt(value);
}

// Responses of small messages are joined up to this many bytes per socket write.
const WRITE_BYTES = 256 * 1024;

/**
 * The responses of one batch: one query for its blobs, then each message rendered and joined
 * with the others into few writes. What was rendered goes out even when a later message fails.
 */
async function fetchBatch(
  s: ImapSession,
  messages: FetchMessage[],
  items: unknown,
  opts: { uid: boolean; modseq: boolean; utf8: boolean },
  updated: Map<number, MessageState>,
): Promise<void> {
  const { store, mime } = s.deps;
  const view = s.view!;
  const batch = await FetchBatch.load(store, mime, s.tenantId, messages, mime.fetchNeeds(items));
  const out = new SegmentBatch();
  try {
    for (const meta of messages) {
      const seq = view.seqOf(meta.uid);
      if (seq === 0) continue;
      const state = updated.get(meta.uid);
      const current = state ? { ...meta, flags: state.flags, modseq: state.modseq } : meta;
      const values = await mime.renderFetch(items, await batch.source(current), opts);
      if (state && !mime.fetchHasFlags(items)) {
        values.push({ atom: 'FLAGS' }, state.flags.map((f) => ({ atom: f })) as WireValue);
      }
      out.add(encodeResponse(`* ${seq} FETCH`, [values], s.utf8));
      if (out.bufferedBytes >= WRITE_BYTES) await s.conn.writeSegments(out.take());
    }
  } finally {
    if (!out.isEmpty) await s.conn.writeSegments(out.take());
  }
  // A cache that could not be written costs a parse next time, not this FETCH.
  await batch
    .saveStructures()
    .catch((err: unknown) => s.deps.logger.warn({ err }, 'mime structure cache write failed'));
}

function fetchCommand(byUid: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, 2, 3);
    const view = s.view!;
    const { store, mime } = s.deps;
    const uids = view.resolve(astring(cmd.args[0], 'sequence set'), byUid);
    const items = mime.parseFetchItems([cmd.args[1]!]);
    const { changedSince, vanishedSince } = fetchModifiers(s, cmd.args[2], byUid);
    if (changedSince !== null) s.condstore = true;
    if (vanishedSince !== null) await sendFetchVanished(s, astring(cmd.args[0]), vanishedSince);
    let metas = await readFetchMessages(store, s.tenantId, view.folder.id, uids, mime.fetchNeeds(items));
    if (changedSince !== null) metas = metas.filter((m) => m.modseq > changedSince);
    const setsSeen = mime.fetchSetsSeen(items) && !view.readOnly;
    const unseen = setsSeen ? metas.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid) : [];
    const updated = new Map<number, MessageState>();
    if (unseen.length > 0) {
      // RFC 3501 §6.4.5: BODY[] without PEEK sets \Seen; the FETCH then shows the new FLAGS.
      const result = await store.setFlags(s.tenantId, view.folder.id, unseen, 'add', ['\\Seen']);
      const changed = Array.isArray(result) ? result : result.changed;
      view.record(changed);
      for (const c of changed) updated.set(c.uid, c);
    }
    const opts = { uid: byUid, modseq: s.condstore, utf8: s.utf8 };
    const visible = metas.filter((m) => view.seqOf(m.uid) !== 0).sort((a, b) => a.uid - b.uid);
    for (const batch of fetchBatches(visible)) await fetchBatch(s, batch, items, opts, updated);
    return `OK ${byUid ? 'UID FETCH' : 'FETCH'} completed`;
  };
}

function storeOperation(arg: ImapArg | undefined): { op: 'set' | 'add' | 'remove'; silent: boolean } {
  const word = keyword(arg, 'STORE item');
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(word);
  if (!m) throw new ImapBad('Expected FLAGS, +FLAGS or -FLAGS');
  return { op: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set', silent: Boolean(m[2]) };
}

function storeCommand(byUid: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, 3, 4);
    const view = s.view!;
    if (view.readOnly) return 'NO [READ-ONLY] Mailbox is read-only';
    const uids = view.resolve(astring(cmd.args[0], 'sequence set'), byUid);
    const hasModifier = cmd.args.length === 4;
    const unchangedSince = hasModifier ? modifier(cmd.args[1], 'UNCHANGEDSINCE') : null;
    if (unchangedSince !== null) s.condstore = true;
    const { op, silent } = storeOperation(cmd.args[hasModifier ? 2 : 1]);
    const valueArg = cmd.args[hasModifier ? 3 : 2]!;
    const flags = flagList(valueArg.type === 'list' ? valueArg.items : [valueArg]);
    const result =
      uids.length === 0
        ? { changed: [], failed: [] }
        : await s.deps.store.setFlags(s.tenantId, view.folder.id, uids, op, flags, unchangedSince ?? undefined);
    const changed = Array.isArray(result) ? result : result.changed;
    const failed = Array.isArray(result) ? [] : result.failed;
    view.record(changed);
    if (!silent || s.condstore) {
      const changedUids = new Set(changed.map((c) => c.uid));
      // Non-silent: every message of the set shows its flags; with CONDSTORE, .SILENT still
      // reports the new MODSEQ of the changed ones (RFC 7162 §3.2).
      for (const uid of uids) {
        const state = view.states.get(uid);
        if (!state || failed.includes(uid) || (silent && !changedUids.has(uid))) continue;
        await s.send(`* ${view.seqOf(uid)} FETCH`, [s.flagsItems(state)]);
      }
    }
    const name = byUid ? 'UID STORE' : 'STORE';
    if (failed.length > 0) {
      const set = byUid ? failed : failed.map((u) => view.seqOf(u));
      return `OK [MODIFIED ${formatSet(set.sort((a, b) => a - b))}] Conditional ${name} failed for some messages`;
    }
    return `OK ${name} completed`;
  };
}

function copyCommand(byUid: boolean, move: boolean): CommandHandler {
  return async (s, cmd) => {
    expectCount(cmd.args, 2);
    const view = s.view!;
    if (move && view.readOnly) return 'NO [READ-ONLY] Mailbox is read-only';
    const uids = view.resolve(astring(cmd.args[0], 'sequence set'), byUid);
    const target = await requireFolder(s, mailboxName(cmd.args[1], s.utf8), true);
    const name = `${byUid ? 'UID ' : ''}${move ? 'MOVE' : 'COPY'}`;
    if (uids.length === 0) return `OK ${name} completed (no messages)`;
    const { store } = s.deps;
    const op = move ? store.move.bind(store) : store.copy.bind(store);
    const result = await op(s.tenantId, view.folder.id, uids, target.id);
    const pairs = result.pairs;
    if (target.id === view.folder.id) view.dirty = true; // EXISTS before the tagged OK
    const code = pairs.length
      ? `[COPYUID ${result.uidValidity} ${formatSet(pairs.map((p) => p[0]))} ${formatSet(pairs.map((p) => p[1]))}] `
      : '';
    if (!move) return `OK ${code}${name} completed`;
    // RFC 6851 §4.3: COPYUID comes untagged before the EXPUNGEs.
    await s.send(`* OK ${code}Moved`);
    await s.sendUpdates(view.remove(pairs.map((p) => p[0])));
    return `OK ${name} completed`;
  };
}

/** FETCH, STORE, COPY, MOVE, SEARCH, SORT, THREAD and their UID forms (selected state). */
export function messageCommands(): Record<string, CommandHandler> {
  return {
    FETCH: fetchCommand(false),
    'UID FETCH': fetchCommand(true),
    STORE: storeCommand(false),
    'UID STORE': storeCommand(true),
    COPY: copyCommand(false, false),
    'UID COPY': copyCommand(true, false),
    MOVE: copyCommand(false, true),
    'UID MOVE': copyCommand(true, true),
    SEARCH: searchCommand(false),
    'UID SEARCH': searchCommand(true),
    SORT: sortCommand(false),
    'UID SORT': sortCommand(true),
    THREAD: threadCommand(false),
    'UID THREAD': threadCommand(true),
  };
}
