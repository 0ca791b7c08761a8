import { describe, expect, it } from 'vitest';
import { FETCH_INLINE_MAX, FetchBatch, OBJECT_READS_AT_ONCE } from './fetch-batch';
import type { ImapMime } from './imap-mime';
import type { BlobPlace, FetchMessage, ImapStore } from './imap-store';

/**
 * The object reads of a FETCH batch, with a store whose readBlob GETs are held until the test lets
 * them answer: how many are under way at once, in which order they start, and which body each
 * message gets. (The same over a real socket and a real S3 server: test/e2e/imap/imap-s3.test.ts.)
 */
class HeldObjects {
  readonly started: string[] = [];
  readonly reads: Array<{ sha: string; place: BlobPlace | undefined; range: unknown }> = [];
  private readonly waiting = new Map<string, { answer: () => void; fail: (e: Error) => void }>();
  inFlight = 0;
  maxInFlight = 0;

  readBlob(_tenant: string, sha: string, range?: unknown, place?: BlobPlace): AsyncIterable<Buffer> {
    this.reads.push({ sha, place, range });
    return this.get(sha);
  }

  private async *get(sha: string): AsyncIterable<Buffer> {
    this.started.push(sha);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise<void>((answer, fail) => this.waiting.set(sha, { answer, fail }));
    } finally {
      this.inFlight--;
    }
    yield Buffer.from(`body of ${sha}`);
  }

  /** Lets the GET of `sha` answer (or fail), and the promise callbacks behind it run. */
  async answer(sha: string, error?: Error): Promise<void> {
    const w = this.waiting.get(sha);
    if (!w) throw new Error(`no GET of ${sha} is under way`);
    this.waiting.delete(sha);
    if (error) w.fail(error);
    else w.answer();
    await settle();
  }

  underWay(): string[] {
    return [...this.waiting.keys()];
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

const mime = { isCurrentStructure: () => true } as unknown as ImapMime;
const bodies = { structure: false, bodies: true };

function message(uid: number, size: number, object: boolean): FetchMessage {
  const sha = `sha${uid}`;
  return {
    id: `m${uid}`,
    uid,
    flags: [],
    modseq: 1n,
    size,
    receivedAt: new Date(0),
    blobSha256: sha,
    blob: {
      size,
      object: object ? { storage: 's3', key: `t/${sha}` } : null,
      structure: null,
      bytes: object ? null : Buffer.from(`inline ${sha}`),
    },
  };
}

async function load(held: HeldObjects, messages: FetchMessage[], needs = bodies) {
  return FetchBatch.load(held as unknown as ImapStore, mime, 't', messages, needs);
}

async function text(batch: FetchBatch, m: FetchMessage): Promise<string> {
  const src = await batch.source(m);
  return src.bytes ? src.bytes.toString() : 'streamed';
}

describe('FetchBatch object reads', () => {
  it(`starts the GETs of small S3 bodies in uid order, at most ${OBJECT_READS_AT_ONCE} at once, and gives each message its own`, async () => {
    const held = new HeldObjects();
    const messages = Array.from({ length: 20 }, (_, i) => message(i + 1, 10_000, i % 5 !== 4));
    const batch = await load(held, messages);
    await settle();
    const objects = messages.filter((m) => m.blob!.object).map((m) => m.blobSha256);
    expect(held.started).toEqual(objects.slice(0, OBJECT_READS_AT_ONCE));
    // Three later GETs answer first: each frees its place for the next body in uid order.
    for (const sha of held.underWay().reverse().slice(0, 3)) await held.answer(sha);
    expect(held.started).toEqual(objects.slice(0, OBJECT_READS_AT_ONCE + 3));
    expect(held.maxInFlight).toBe(OBJECT_READS_AT_ONCE);
    // Let every GET answer as it starts; each message gets its own body, in uid order.
    const seen: string[] = [];
    for (const m of messages) {
      const pending = text(batch, m);
      while (held.underWay().length > 0) await held.answer(held.underWay()[0]!);
      seen.push(await pending);
    }
    expect(seen).toEqual(messages.map((m) => (m.blob!.object ? `body of ${m.blobSha256}` : `inline ${m.blobSha256}`)));
    expect(held.started).toEqual(objects);
    expect(held.maxInFlight).toBe(OBJECT_READS_AT_ONCE);
    // Every read knew where its object was: no lookup by sha alone.
    expect(held.reads.every((r) => r.place?.object?.key === `t/${r.sha}`)).toBe(true);
  });

  it('streams a body over FETCH_INLINE_MAX on its turn instead of reading it whole', async () => {
    const held = new HeldObjects();
    const big = message(1, FETCH_INLINE_MAX + 1, true);
    const batch = await load(held, [big, message(2, 5_000, true)]);
    await settle();
    expect(held.started).toEqual(['sha2']);
    const src = await batch.source(big);
    expect(src.bytes).toBeNull();
    const chunks = src.read({ start: 10, end: 20 })[Symbol.asyncIterator]();
    const first = chunks.next();
    await settle();
    expect(held.reads.at(-1)).toEqual({ sha: 'sha1', place: big.blob, range: { start: 10, end: 20 } });
    await held.answer('sha1');
    expect((await first).value).toEqual(Buffer.from('body of sha1'));
  });

  it('reads nothing for FLAGS, and a failed GET fails its own message only', async () => {
    const held = new HeldObjects();
    await load(held, [message(1, 5_000, true)], { structure: false, bodies: false });
    await settle();
    expect(held.started).toEqual([]);

    const messages = [message(1, 5_000, true), message(2, 5_000, true)];
    const batch = await load(held, messages);
    await settle();
    await held.answer('sha1', new Error('S3 said 503'));
    await held.answer('sha2');
    await expect(batch.source(messages[0]!)).rejects.toThrow('S3 said 503');
    expect(await text(batch, messages[1]!)).toBe('body of sha2');
  });
});
