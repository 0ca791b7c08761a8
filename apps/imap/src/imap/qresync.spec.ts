import { describe, expect, it } from 'vitest';
import { parseCommand } from './command-parser';
import { parseQresyncParam } from './qresync';

/** The QRESYNC list of `SELECT INBOX (QRESYNC <text>)` as the parser delivers it. */
const param = (text: string) => {
  const cmd = parseCommand(Buffer.from(`t SELECT INBOX (QRESYNC ${text})`, 'latin1'));
  const params = cmd.args[1];
  if (params?.type !== 'list') throw new Error('no parameter list');
  return parseQresyncParam(params.items[1]);
};

describe('parseQresyncParam', () => {
  it('reads UIDVALIDITY and modseq, and leaves known UIDs to the server when absent', () => {
    expect(param('(67890007 20050715194045000)')).toEqual({
      uidValidity: 67890007,
      modseq: 20050715194045000n,
      knownUids: null,
    });
  });

  it('reads known UIDs, normalized, with or without sequence match data', () => {
    expect(param('(1 5 41,43:211,214:541)').knownUids).toEqual([
      [41, 41],
      [43, 211],
      [214, 541],
    ]);
    expect(param('(1 5 1:10 (1:3 2,4,9))').knownUids).toEqual([[1, 10]]);
    expect(param('(1 5 (1:3 2,4,9))').knownUids).toBeNull();
  });

  it.each([
    ['QRESYNC', 'QRESYNC needs a list: (uidvalidity modseq [known-uids])'],
    ['(1)', 'QRESYNC takes a UIDVALIDITY, a mod-sequence, and optionally known UIDs and a match list'],
    ['(0 5)', 'QRESYNC needs the UIDVALIDITY the client knows, a number from 1 to 4294967295'],
    ['(4294967296 5)', 'QRESYNC needs the UIDVALIDITY the client knows, a number from 1 to 4294967295'],
    ['(1 0)', 'QRESYNC needs a mod-sequence from 1 to 9223372036854775807'],
    ['(1 9223372036854775808)', 'QRESYNC needs a mod-sequence from 1 to 9223372036854775807'],
    ['(1 x)', 'QRESYNC needs a mod-sequence from 1 to 9223372036854775807'],
    ['(1 5 1:*)', 'QRESYNC known UIDs may not contain *'],
    ['(1 5 1:x)', 'QRESYNC known UIDs is not a valid set such as 1:40,42'],
    ['(1 5 1:3 (1:2 7))', 'QRESYNC match data needs as many UIDs as message numbers'],
    ['(1 5 1:3 (1:2))', 'QRESYNC match data is a list of message numbers and their UIDs'],
    ['(1 5 1:3 (1 2) 4)', 'QRESYNC takes a UIDVALIDITY, a mod-sequence, and optionally known UIDs and a match list'],
    ['(1 5 (1 2) 4)', 'QRESYNC has too many arguments'],
  ])('answers %s with BAD: %s', (text, message) => {
    expect(() => param(text)).toThrow(message);
  });
});
