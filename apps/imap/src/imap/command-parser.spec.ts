import { describe, expect, it } from 'vitest';
import { CommandSyntaxError, parseCommand, tagOf } from './command-parser';

const parse = (s: string) => parseCommand(Buffer.from(s, 'latin1'));
const atom = (value: string) => ({ type: 'atom', value });
const str = (value: string) => ({ type: 'string', value: Buffer.from(value) });

describe('parseCommand', () => {
  it('reads tag, upper-cased name and atoms, quoted strings and lists', () => {
    expect(parse('a1 login "al\\"ice" pass')).toEqual({
      tag: 'a1',
      name: 'LOGIN',
      args: [str('al"ice'), atom('pass')],
    });
    expect(parse('t STORE 1:* +FLAGS (\\Seen $Label)')).toEqual({
      tag: 't',
      name: 'STORE',
      args: [atom('1:*'), atom('+FLAGS'), { type: 'list', items: [atom('\\Seen'), atom('$Label')] }],
    });
  });

  it('joins UID to its command', () => {
    expect(parse('x uid fetch 1 FLAGS').name).toBe('UID FETCH');
  });

  it('reads literals of every kind with their exact bytes', () => {
    const cmd = parse('a APPEND INBOX {5}\r\nhe\r\nl {3+}\r\nabc ~{2}\r\n\0x');
    expect(cmd.args).toEqual([atom('INBOX'), str('he\r\nl'), str('abc'), str('\0x')]);
  });

  it('parses sections and partials as contracts §4 says', () => {
    expect(parse('a FETCH 1 BODY.PEEK[HEADER.FIELDS (From To)]<0.2048>').args[1]).toEqual({
      type: 'atom',
      value: 'BODY.PEEK',
      section: [atom('HEADER.FIELDS'), { type: 'list', items: [atom('From'), atom('To')] }],
      partial: { start: 0, length: 2048 },
    });
    expect(parse('a FETCH 1 (BODY[] BODY[1.2.MIME])').args[1]).toEqual({
      type: 'list',
      items: [
        { type: 'atom', value: 'BODY', section: [] },
        { type: 'atom', value: 'BODY', section: [atom('1.2.MIME')] },
      ],
    });
  });

  it('keeps LIST wildcards and ] outside sections in atoms', () => {
    expect(parse('a LIST "" %/*').args).toEqual([str(''), atom('%/*')]);
  });

  it.each([
    ['a', 'Missing command'],
    ['a SELECT "INBOX', 'Unterminated quoted string'],
    ['a FETCH 1 (FLAGS', 'Unterminated list'],
    ['a FETCH 1 BODY[1', 'Unterminated section'],
    ['a APPEND X {10}\r\nshort', 'Literal shorter than announced'],
    ['a NOOP  x', 'Unexpected character'],
  ])('throws CommandSyntaxError with the tag for %j', (line, message) => {
    const err = (() => {
      try {
        parse(line);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(CommandSyntaxError);
    expect(err).toMatchObject({ tag: 'a', message });
  });

  it('finds the tag of a broken line, or *', () => {
    expect(tagOf(Buffer.from('abc FROB'))).toBe('abc');
    expect(tagOf(Buffer.from('(( bad'))).toBe('*');
    expect(tagOf(Buffer.from(''))).toBe('*');
  });
});
