import { ImapBad } from './imap-errors-map';
import type { FolderInfo, ImapStore, MessageState } from './imap-store';

/** An untagged update the session owes the client after a sync. */
export type ViewUpdate =
  | { kind: 'expunge'; seq: number; uid: number }
  | { kind: 'exists'; count: number }
  | { kind: 'flags'; seq: number; state: MessageState };

/**
 * The client's picture of the selected folder: sequence numbers (index + 1) to uids, flags
 * and the modseq it has seen. The store is the truth; `sync` brings the picture forward with
 * `changesSince` and says what to tell the client. Expunges wait while a FETCH, STORE or
 * SEARCH runs (RFC 9051 §7.5.1): the uid stays in the map until it may be announced.
 */
export class SelectedView {
  uids: number[] = [];
  readonly states = new Map<number, MessageState>();
  /** Set when a notification for this folder arrived (or the LISTEN connection came back). */
  dirty = false;
  private readonly gone = new Set<number>();
  /**
   * While expunges wait to be announced: the modseq the view had before the first of them, so
   * below every waiting expunge's own (RFC 7162 §3.2 asks for it as HIGHESTMODSEQ then).
   */
  pendingSince: bigint | null = null;

  constructor(
    public folder: FolderInfo,
    readonly readOnly: boolean,
    public modseq: bigint,
  ) {}

  static async open(store: ImapStore, tenantId: string, folderId: string, readOnly: boolean): Promise<SelectedView> {
    const snap = await store.snapshot(tenantId, folderId);
    const view = new SelectedView(snap.folder, readOnly, snap.folder.highestModseq);
    for (const m of snap.messages) {
      view.uids.push(m.uid);
      view.states.set(m.uid, m);
    }
    return view;
  }

  get exists(): number {
    return this.uids.length;
  }

  /** Sequence number of a uid, 0 when not in the view. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  isGone(uid: number): boolean {
    return this.gone.has(uid);
  }

  /** The uids a sequence set (or uid set) names, in ascending order, present in the view. */
  resolve(set: string, uid: boolean): number[] {
    const ranges = uid ? this.uidRanges(set) : this.seqRanges(set);
    const out: number[] = [];
    for (const [a, b] of ranges) {
      if (uid) {
        for (const u of this.uids) if (u >= a && u <= b) out.push(u);
      } else {
        for (let s = a; s <= Math.min(b, this.uids.length); s++) out.push(this.uids[s - 1]!);
      }
    }
    return [...new Set(out)].sort((x, y) => x - y);
  }

  /** Sequence ranges turned into uid ranges (for SEARCH). */
  sequenceToUids(set: string): Array<[number, number]> {
    return this.seqRanges(set)
      .filter(([a]) => a <= this.uids.length)
      .map(([a, b]) => [this.uids[a - 1]!, this.uids[Math.min(b, this.uids.length) - 1]!]);
  }

  uidRanges(set: string): Array<[number, number]> {
    const max = this.uids.length > 0 ? this.uids[this.uids.length - 1]! : 0;
    // '*' is the largest uid in use; when the folder is empty, it is uidNext - 1 (RFC 9051 §6.4.8).
    return parseSet(set, max || Math.max(0, this.folder.uidNext - 1));
  }

  private seqRanges(set: string): Array<[number, number]> {
    return parseSet(set, this.uids.length);
  }

  /** Takes the store's changes since our modseq and returns what to tell the client. */
  async sync(store: ImapStore, tenantId: string, allowExpunge: boolean): Promise<ViewUpdate[]> {
    this.dirty = false;
    const changes = await store.changesSince(tenantId, this.folder.id, this.modseq);
    const floor = this.modseq;
    for (const uid of changes.expunged) if (this.states.has(uid)) this.gone.add(uid);
    if (changes.complete === false) await this.compareSnapshot(store, tenantId);
    if (this.gone.size > 0) this.pendingSince ??= floor;
    const updates: ViewUpdate[] = allowExpunge ? this.flushExpunges() : [];
    const before = this.uids.length;
    let max = this.uids.length > 0 ? this.uids[this.uids.length - 1]! : 0;
    for (const state of [...changes.changed].sort((a, b) => a.uid - b.uid)) {
      const known = this.states.get(state.uid);
      if (known) {
        if (!sameFlags(known.flags, state.flags) && !this.gone.has(state.uid)) {
          updates.push({ kind: 'flags', seq: this.seqOf(state.uid), state });
        }
        this.states.set(state.uid, state);
      } else if (state.uid > max) {
        this.uids.push(state.uid);
        this.states.set(state.uid, state);
        max = state.uid;
      }
    }
    if (this.uids.length !== before) updates.push({ kind: 'exists', count: this.uids.length });
    if (changes.highestModseq > this.modseq) this.modseq = changes.highestModseq;
    return updates;
  }

  /** After a trimmed expunge log: whatever the snapshot lacks was expunged. */
  private async compareSnapshot(store: ImapStore, tenantId: string): Promise<void> {
    const present = new Set((await store.snapshot(tenantId, this.folder.id)).messages.map((m) => m.uid));
    for (const uid of this.uids) if (!present.has(uid)) this.gone.add(uid);
  }

  /** Removes uids this session expunged or moved itself; returns their EXPUNGE updates. */
  remove(uids: number[]): ViewUpdate[] {
    for (const uid of uids) if (this.states.has(uid)) this.gone.add(uid);
    return this.flushExpunges();
  }

  /** Expunges learned while they could not be announced (RFC 9051 §7.5.1), still to send. */
  get hasHeldExpunges(): boolean {
    return this.gone.size > 0;
  }

  /** The held expunges as updates, now that the client may be told. */
  releaseHeld(): ViewUpdate[] {
    return this.flushExpunges();
  }

  /** Records flags this session changed, so the next sync does not repeat them. */
  record(states: MessageState[]): void {
    for (const s of states) if (this.states.has(s.uid)) this.states.set(s.uid, s);
  }

  private flushExpunges(): ViewUpdate[] {
    const updates: ViewUpdate[] = [];
    // Highest first: each EXPUNGE renumbers the messages after it (RFC 9051 §7.5.1).
    for (const uid of [...this.gone].sort((a, b) => b - a)) {
      const seq = this.seqOf(uid);
      if (seq > 0) {
        this.uids.splice(seq - 1, 1);
        updates.push({ kind: 'expunge', seq, uid });
      }
      this.states.delete(uid);
    }
    this.gone.clear();
    this.pendingSince = null;
    return updates;
  }
}

/** A sequence set (`1,3:5,7:*`) as inclusive ranges; '*' is `star`. */
export function parseSet(set: string, star: number): Array<[number, number]> {
  if (!/^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(set)) throw new ImapBad('Invalid sequence set');
  return set.split(',').map((part) => {
    const [a, b] = part.split(':').map((n) => (n === '*' ? star : Number(n)));
    if (a === 0 || b === 0) throw new ImapBad('Invalid sequence set: 0');
    const lo = Math.min(a!, b ?? a!);
    const hi = Math.max(a!, b ?? a!);
    return [lo, hi] as [number, number];
  });
}

/** A uid list as a compact set (`1:3,7`) for COPYUID, ESEARCH. */
export function formatSet(nums: number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < nums.length) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    out.push(j > i ? `${nums[i]}:${nums[j]}` : String(nums[i]));
    i = j + 1;
  }
  return out.join(',');
}

function sameFlags(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((f) => set.has(f));
}
