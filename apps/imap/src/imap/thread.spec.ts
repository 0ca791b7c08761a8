import { describe, expect, it } from 'vitest';
import type { ThreadMessage } from './imap-store';
import { formatThreads, threadOrderedSubject, threadReferences, type ThreadNode } from './thread';

function msg(uid: number, fields: Partial<ThreadMessage> & { day: number }): ThreadMessage {
  return {
    uid,
    messageId: fields.messageId === undefined ? `m${uid}@x` : fields.messageId,
    references: fields.references ?? [],
    baseSubject: fields.baseSubject ?? `S${uid}`,
    isReply: fields.isReply ?? false,
    sentAt: new Date(Date.UTC(2026, 0, fields.day)),
  };
}
const uidOf = (m: ThreadMessage) => m.uid;

describe('threadReferences', () => {
  it('links along References, keeps a dummy for siblings of a missing parent and promotes an only child', () => {
    const sut = threadReferences([
      msg(1, { day: 1 }),
      msg(2, { day: 2, references: ['m1@x'] }),
      msg(3, { day: 3, references: ['gone@x'] }),
      msg(4, { day: 4, references: ['gone@x'] }),
      msg(5, { day: 5, references: ['lost@x'] }),
    ]);
    expect(formatThreads(sut, uidOf)).toBe('(1 2)((3)(4))(5)');
  });

  it('refuses a link that would make a loop, and gives a duplicate Message-ID its own container', () => {
    const sut = threadReferences([
      msg(1, { day: 1, messageId: 'a@x', references: ['b@x'] }),
      msg(2, { day: 2, messageId: 'b@x', references: ['a@x'] }),
      msg(3, { day: 3, messageId: 'a@x' }),
    ]);
    expect(formatThreads(sut, uidOf)).toBe('(2 1)(3)');
  });

  it('merges top-level threads by subject: a reply under the original, two originals under a dummy', () => {
    const sut = threadReferences([
      msg(1, { day: 3, baseSubject: 'T' }),
      msg(2, { day: 1, baseSubject: 'T', isReply: true }),
      msg(3, { day: 4, baseSubject: 'T' }),
      msg(4, { day: 2, baseSubject: '' }),
      msg(5, { day: 5, baseSubject: '' }),
    ]);
    expect(formatThreads(sut, uidOf)).toBe('(4)((1 2)(3))(5)');
  });

  it('threads a reply chain ten thousand deep without exhausting the stack', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) =>
      msg(i + 1, { day: 1, references: i === 0 ? [] : [`m${i}@x`], baseSubject: 'S' }),
    );
    const text = formatThreads(threadReferences(chain), uidOf);
    expect(text.startsWith('(1 2 3 ')).toBe(true);
    expect(text.endsWith(' 9999 10000)')).toBe(true);
  });
});

describe('formatThreads', () => {
  it('writes a tree nested ten thousand levels deep', () => {
    // Message 2k has children 2k+1 and 2k+2: every level branches.
    const nodes = Array.from({ length: 20_001 }, (_, i) => ({
      msg: msg(i + 1, { day: 1 }),
      parent: null,
      children: [] as ThreadNode[],
    }));
    for (let i = 0; i + 2 < nodes.length; i += 2) nodes[i]!.children.push(nodes[i + 1]!, nodes[i + 2]!);
    const text = formatThreads([nodes[0]!], uidOf);
    expect(text.startsWith('(1 (2)(3 (4)(5 (6)(7')).toBe(true);
    expect(text.endsWith(`(20000)(20001${')'.repeat(10_001)}`)).toBe(true);
  });

  it('writes a dummy root as its children only', () => {
    const dummy: ThreadNode = { msg: null, parent: null, children: [] };
    for (const uid of [4, 9]) dummy.children.push({ msg: msg(uid, { day: 1 }), parent: dummy, children: [] });
    expect(formatThreads([dummy], uidOf)).toBe('((4)(9))');
  });
});

describe('threadOrderedSubject', () => {
  it('puts every later message of a subject under the first, threads by the date of their first message', () => {
    const sut = threadOrderedSubject([
      msg(1, { day: 5, baseSubject: 'B' }),
      msg(2, { day: 1, baseSubject: 'B' }),
      msg(3, { day: 3, baseSubject: 'A' }),
      msg(4, { day: 9, baseSubject: 'B' }),
      msg(5, { day: 4, baseSubject: 'A' }),
    ]);
    expect(formatThreads(sut, uidOf)).toBe('(2 (1)(4))(3 5)');
  });
});
