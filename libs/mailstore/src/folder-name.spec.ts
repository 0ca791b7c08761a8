import { describe, expect, it } from 'vitest';
import { InvalidFolderName } from './errors';
import { normaliseFolderName, parentNames, renamedName } from './folder-name';

describe('normaliseFolderName', () => {
  it.each([
    ['inbox', 'INBOX'],
    ['InBoX/Lists', 'INBOX/Lists'],
    ['Inboxes', 'Inboxes'],
    ['Work/2026', 'Work/2026'],
    ['Entwürfe', 'Entwürfe'],
  ])('keeps %s as %s', (input, expected) => {
    expect(normaliseFolderName(input)).toBe(expected);
  });

  it.each(['', '/a', 'a/', 'a//b', 'a\u0000b', 'tab\there', 'a*', 'b%', 'x'.repeat(256)])('refuses %j', (input) => {
    expect(() => normaliseFolderName(input)).toThrow(InvalidFolderName);
  });
});

describe('hierarchy helpers', () => {
  it('lists the superiors outermost first', () => {
    expect(parentNames('a/b/c')).toEqual(['a', 'a/b']);
    expect(parentNames('a')).toEqual([]);
  });

  it('moves an inferior under the new name', () => {
    expect(renamedName('a/b/c', 'a/b', 'x')).toBe('x/c');
    expect(renamedName('a/b', 'a/b', 'x/y')).toBe('x/y');
  });
});
