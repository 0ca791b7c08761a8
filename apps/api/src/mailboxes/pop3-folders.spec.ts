import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '@mailroom/core';
import { resolvePop3Folders } from './pop3-folders';

const folders = [
  { name: 'INBOX', kind: 'inbox' },
  { name: 'Junk', kind: 'junk' },
  { name: 'junk', kind: 'custom' },
];

describe('resolvePop3Folders', () => {
  it('keeps folder names as stored, INBOX in any case, without repeats, the Inbox first', () => {
    expect(resolvePop3Folders(['junk', 'Junk', 'inbox', 'Junk'], folders)).toEqual(['INBOX', 'junk', 'Junk']);
  });

  it('names each unknown folder by its index', () => {
    try {
      resolvePop3Folders(['INBOX', 'JUNK', 'Spam'], folders);
      expect.fail('expected ValidationFailed');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationFailed);
      expect((err as ValidationFailed).fields.map((f) => f.field)).toEqual(['pop3.folders.1', 'pop3.folders.2']);
    }
  });
});
