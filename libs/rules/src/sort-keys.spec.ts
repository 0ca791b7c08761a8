import { describe, expect, it } from 'vitest';
import { messageSummaryFromHeaders } from './message-summary';
import { baseSubject, messageIds, sortKeysOf, unicodeCasemap } from './sort-keys';

describe('baseSubject (RFC 5256 section 2.1)', () => {
  it.each([
    ['Hello world', 'Hello world', false],
    ['Re: Hello world', 'Hello world', true],
    ['RE: re: Hello world', 'Hello world', true],
    ['Fwd: [list] Hello world', 'Hello world', true],
    ['Fw : Hello', 'Hello', true],
    ['Re[2]: Hello', 'Hello', true],
    ['[list] Re: Hello world (fwd)', 'Hello world', true],
    ['[fwd: Hello world]', 'Hello world', true],
    ['[Fwd: Re: [x] Hello (fwd)]', 'Hello', true],
    ['[list] ', '[list]', false],
    ['[a][b] Topic', 'Topic', false],
    ['Re:   ', '', true],
    ['  Hello\t\t  world  ', 'Hello world', false],
    ['Reply: not a leader', 'Reply: not a leader', false],
    ['', '', false],
  ])('%j -> %j', (subject, base, isReply) => {
    expect(baseSubject(subject)).toEqual({ subject: base, isReply });
  });
});

describe('baseSubject on long input', () => {
  it('strips a thousand leading blobs and leaders', () => {
    expect(baseSubject(`${'[a] Re: '.repeat(1000)}x`)).toEqual({ subject: 'x', isReply: true });
  });
});

describe('unicodeCasemap (RFC 5051)', () => {
  it('titlecases each character and decomposes it one level, as Dovecot does', () => {
    expect(unicodeCasemap('résumé')).toBe('RE\u0301SUME\u0301');
    expect(unicodeCasemap('R\u00e9SUM\u00c9')).toBe(unicodeCasemap('résumé'));
    expect(unicodeCasemap('Stra\u00dfe')).toBe('STRA\u00dfE');
    expect(unicodeCasemap('\u01c6emal')).toBe('\u01c5EMAL'); // titlecase ǅ, not decomposed
    expect(unicodeCasemap('\u1ebf')).toBe('\u00ca\u0301'); // ế: one level, Ê + acute
    expect(unicodeCasemap('\u1f80')).toBe('\u1f88');
    expect(unicodeCasemap('\u212b')).toBe('\u00c5'); // Angstrom sign: one level, Å
    expect(unicodeCasemap('a\0b')).toBe('AB');
    expect(unicodeCasemap('\ufb01')).toBe('fi'); // no one-character titlecase; NFKD splits the ligature
  });
});

describe('unicodeCasemap on ASCII', () => {
  it('maps every ASCII character as the character-by-character path does', () => {
    // A non-ASCII letter after it sends the same characters through the general path.
    for (let c = 0; c < 128; c++) {
      const ascii = `a${String.fromCharCode(c)}z`;
      expect(unicodeCasemap(`${ascii}é`), `character ${c}`).toBe(`${unicodeCasemap(ascii)}E\u0301`);
    }
    expect(unicodeCasemap('Re: Hello, World! [42]')).toBe('RE: HELLO, WORLD! [42]');
    expect(unicodeCasemap('a\u0000b')).toBe('AB');
  });
});

describe('sortKeysOf', () => {
  it('takes the addr-mailbox of the first address, a group name for a group, and References before In-Reply-To', () => {
    const sut = sortKeysOf(
      messageSummaryFromHeaders(
        [
          'From: "Zed" <alice@a.test>, bob@b.test',
          'To: Undisclosed recipients:;',
          'Cc: =?UTF-8?Q?=C3=89mile?= <emile@e.test>',
          'Subject: =?UTF-8?Q?Re:_r=C3=A9sum=C3=A9?=',
          'In-Reply-To: <p@x.test>',
          'References: <g@x.test> (comment) <p@x.test>',
          '',
        ].join('\r\n'),
        1,
      ),
    );
    expect(sut).toEqual({
      subject: 'RE\u0301SUME\u0301',
      subjectIsReply: true,
      from: 'ALICE',
      to: 'UNDISCLOSED RECIPIENTS',
      cc: 'EMILE',
      displayFrom: 'ZED',
      displayTo: 'UNDISCLOSED RECIPIENTS',
      threadRefs: ['g@x.test', 'p@x.test'],
    });
  });

  it('keeps empty keys for a message without those fields, and the first valid In-Reply-To id', () => {
    const sut = sortKeysOf(messageSummaryFromHeaders('In-Reply-To: <not an id> <a@b.test>\r\n\r\n', 1));
    expect(sut).toMatchObject({ subject: '', from: '', to: '', cc: '', displayFrom: '', threadRefs: ['a@b.test'] });
  });

  it('reads msg-ids with an @ only', () => {
    expect(messageIds('<a@b> junk <nope> <c @ d>')).toEqual(['a@b', 'c@d']);
  });
});
