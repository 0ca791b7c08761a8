import type { ImapArg } from './imap-arg';
import { astring, keyword, list } from './command-args';
import { ImapBad } from './imap-errors-map';
import type { ImapSession } from './imap-session';
import type { FolderChanges, MessageState } from './imap-store';
import { parseSet, type SelectedView } from './selected-view';
import {
  countRanges,
  inRanges,
  missingFrom,
  normalizeRanges,
  toRanges,
  vanishedLines,
  type UidRange,
} from './uid-ranges';

const MAX_UID = 4_294_967_295;
// mod-sequence-value: 1 <= n <= 2^63 - 1 (RFC 7162 §7).
const MAX_MODSEQ = 9_223_372_036_854_775_807n;

/** The QRESYNC select parameter: what the client knew when it last had the folder open. */
export interface QresyncParam {
  uidValidity: number;
  modseq: bigint;
  /** Normalized; null when the client sent none (then 1:UIDNEXT-1, RFC 7162 §3.2.5). */
  knownUids: UidRange[] | null;
}

function atomText(arg: ImapArg | undefined): string {
  return arg?.type === 'atom' && arg.section === undefined ? arg.value : '';
}

/** A mod-sequence-value: 1 to 2^63 - 1; 0 is not one (RFC 7162 §7). */
function modseqValue(arg: ImapArg | undefined, what: string): bigint {
  const text = atomText(arg);
  if (!/^\d{1,19}$/.test(text) || BigInt(text) < 1n || BigInt(text) > MAX_MODSEQ) {
    throw new ImapBad(`${what} needs a mod-sequence from 1 to ${MAX_MODSEQ}`);
  }
  return BigInt(text);
}

function uidValidityValue(arg: ImapArg | undefined): number {
  const text = atomText(arg);
  if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > MAX_UID) {
    throw new ImapBad(`QRESYNC needs the UIDVALIDITY the client knows, a number from 1 to ${MAX_UID}`);
  }
  return Number(text);
}

/** A set of known uids or message numbers: '*' is not allowed (RFC 7162 §7 known-uids). */
function knownSet(arg: ImapArg | undefined, what: string): UidRange[] {
  const text = atomText(arg);
  if (text.includes('*')) throw new ImapBad(`QRESYNC ${what} may not contain *`);
  let ranges: UidRange[];
  try {
    ranges = parseSet(text, 0);
  } catch {
    throw new ImapBad(`QRESYNC ${what} is not a valid set such as 1:40,42`);
  }
  if (ranges.some(([, hi]) => hi > MAX_UID)) throw new ImapBad(`QRESYNC ${what} cannot go past ${MAX_UID}`);
  return normalizeRanges(ranges);
}

/**
 * `(uidvalidity modseq [known-uids] [(known-sequence-set known-uid-set)])` (RFC 7162 §3.2.5).
 * The sequence match data is checked but not used: the expunge log, or the folder's current
 * uids when the log was trimmed, answer exactly without it.
 */
export function parseQresyncParam(arg: ImapArg | undefined): QresyncParam {
  if (arg?.type !== 'list') throw new ImapBad('QRESYNC needs a list: (uidvalidity modseq [known-uids])');
  const [validity, modseq, ...rest] = arg.items;
  if (!modseq || rest.length > 2) {
    throw new ImapBad('QRESYNC takes a UIDVALIDITY, a mod-sequence, and optionally known UIDs and a match list');
  }
  const param: QresyncParam = {
    uidValidity: uidValidityValue(validity),
    modseq: modseqValue(modseq, 'QRESYNC'),
    knownUids: null,
  };
  let next = rest.shift();
  if (next && next.type !== 'list') {
    param.knownUids = knownSet(next, 'known UIDs');
    next = rest.shift();
  }
  if (next) checkSeqMatch(next);
  if (rest.length > 0) throw new ImapBad('QRESYNC has too many arguments');
  return param;
}

function checkSeqMatch(arg: ImapArg): void {
  if (arg.type !== 'list' || arg.items.length !== 2) {
    throw new ImapBad('QRESYNC match data is a list of message numbers and their UIDs');
  }
  const seqs = knownSet(arg.items[0], 'message numbers');
  const uids = knownSet(arg.items[1], 'matched UIDs');
  if (countRanges(seqs) !== countRanges(uids)) {
    throw new ImapBad('QRESYNC match data needs as many UIDs as message numbers');
  }
}

/**
 * FETCH modifiers: `(CHANGEDSINCE n)`, and on UID FETCH with QRESYNC enabled
 * `(CHANGEDSINCE n VANISHED)` (RFC 7162 §3.1.4.1, §3.2.6).
 */
export function fetchModifiers(
  s: ImapSession,
  arg: ImapArg | undefined,
  byUid: boolean,
): { changedSince: bigint | null; vanishedSince: bigint | null } {
  let changedSince: bigint | null = null;
  let vanished = false;
  if (!arg) return { changedSince, vanishedSince: null };
  const items = list(arg, 'FETCH modifiers');
  if (items.length === 0) throw new ImapBad('Expected CHANGEDSINCE');
  for (let i = 0; i < items.length; i++) {
    const name = keyword(items[i], 'FETCH modifier');
    if (name === 'CHANGEDSINCE' && changedSince === null) {
      i++;
      const value = items[i]?.type === 'atom' ? astring(items[i]) : '';
      if (!/^\d{1,20}$/.test(value)) throw new ImapBad('Bad CHANGEDSINCE value');
      changedSince = BigInt(value);
    } else if (name === 'VANISHED' && !vanished) vanished = true;
    else throw new ImapBad(`Unexpected FETCH modifier ${name}`);
  }
  if (!vanished) return { changedSince, vanishedSince: null };
  // RFC 7162 §3.2.6 and §3.2.3: each of these is a tagged BAD.
  if (!byUid) throw new ImapBad('VANISHED is only allowed with UID FETCH');
  if (changedSince === null) throw new ImapBad('VANISHED needs CHANGEDSINCE');
  if (!s.qresync) throw new ImapBad('VANISHED needs ENABLE QRESYNC first');
  return { changedSince, vanishedSince: changedSince };
}

/**
 * The uids of `wanted` expunged since the changes' modseq that the client may hear of as
 * VANISHED (EARLIER). From the expunge log; when the log was trimmed past that modseq
 * (EXPUNGE_LOG_RETENTION_DAYS), every uid of `wanted` below UIDNEXT the folder no longer
 * holds, which RFC 7162 §3.2.5.2 allows (the client may hear of uids it already dropped) and
 * which never misses one. Uids the session still numbers are left for a plain VANISHED.
 */
export async function expungedSince(
  s: ImapSession,
  view: SelectedView,
  changes: FolderChanges,
  wanted: UidRange[],
): Promise<UidRange[]> {
  if (changes.complete !== false) {
    return toRanges(changes.expunged.filter((uid) => inRanges(uid, wanted) && view.seqOf(uid) === 0));
  }
  const snap = await s.deps.store.snapshot(s.tenantId, view.folder.id);
  const present = [...new Set([...snap.messages.map((m) => m.uid), ...view.uids])].sort((a, b) => a - b);
  return missingFrom(wanted, present, snap.folder.uidNext - 1);
}

/** Sends VANISHED (EARLIER) lines; they go before any FETCH (RFC 7162 §3.2.6). */
async function sendVanishedEarlier(s: ImapSession, ranges: UidRange[]): Promise<void> {
  for (const line of vanishedLines(ranges, true)) await s.send(line);
}

/** UID FETCH set (items) (CHANGEDSINCE m VANISHED): the uids of the set expunged since m. */
export async function sendFetchVanished(s: ImapSession, set: string, modseq: bigint): Promise<void> {
  const view = s.view!;
  const changes = await s.deps.store.changesSince(s.tenantId, view.folder.id, modseq);
  await sendVanishedEarlier(s, await expungedSince(s, view, changes, normalizeRanges(view.uidRanges(set))));
}

/**
 * SELECT/EXAMINE (QRESYNC ...) after the usual responses (RFC 7162 §3.2.5.1): VANISHED
 * (EARLIER) of the known uids expunged since the client's modseq, then FETCH (UID FLAGS
 * MODSEQ) of those changed since, as `UID FETCH known-uids (FLAGS) (CHANGEDSINCE m VANISHED)`
 * would. Nothing when UIDVALIDITY changed: the client has to forget the folder anyway.
 */
export async function resyncSelected(s: ImapSession, view: SelectedView, param: QresyncParam): Promise<void> {
  if (param.uidValidity !== view.folder.uidValidity) return;
  const top = view.folder.uidNext - 1;
  const wanted = param.knownUids ?? (top > 0 ? [[1, top] as UidRange] : []);
  if (wanted.length === 0) return;
  const changes = await s.deps.store.changesSince(s.tenantId, view.folder.id, param.modseq);
  await sendVanishedEarlier(s, await expungedSince(s, view, changes, wanted));
  const sent: MessageState[] = [];
  for (const state of [...changes.changed].sort((a, b) => a.uid - b.uid)) {
    const seq = view.seqOf(state.uid);
    if (seq === 0 || !inRanges(state.uid, wanted)) continue;
    await s.send(`* ${seq} FETCH`, [s.flagsItems(state)]);
    sent.push(state);
  }
  // The view's next sync starts from its own (older) modseq: do not report these again.
  view.record(sent);
}
