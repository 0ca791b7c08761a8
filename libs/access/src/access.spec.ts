import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessDenied } from './access-types';
import { appPasswordLetters, appPasswordMatches, generateAppPassword } from './app-password';
import { AuthCache } from './auth-cache';
import { pop3Settings } from './pop3-settings';

const login = { tenantId: 't', mailboxId: 'm', appPasswordId: null, authVersion: 1 };

describe('AuthCache', () => {
  it('keys by a keyed hash: another secret, service, login or password is another key', () => {
    const a = new AuthCache(Buffer.alloc(32, 1), { size: 10, ttlMs: 1_000 });
    const b = new AuthCache(Buffer.alloc(32, 2), { size: 10, ttlMs: 1_000 });
    const key = a.key('imap', 'a@x.test', 'pw');
    expect(key).not.toContain('pw');
    expect(b.key('imap', 'a@x.test', 'pw')).not.toBe(key);
    expect(a.key('pop3', 'a@x.test', 'pw')).not.toBe(key);
    expect(a.key('imap', 'a@x.test\0', 'pw')).not.toBe(a.key('imap', 'a@x.test', '\0pw'));
  });

  it('evicts the least recently used entry past its size, and expires entries after the TTL', () => {
    let now = 0;
    const sut = new AuthCache(Buffer.alloc(32), { size: 2, ttlMs: 100 }, () => now);
    sut.set('a', login);
    sut.set('b', login);
    expect(sut.get('a')).toEqual(login);
    sut.set('c', login);
    expect(sut.get('b')).toBeNull();
    expect(sut.get('a')).toEqual(login);
    now = 150;
    expect(sut.get('a')).toBeNull();
    expect(sut.size).toBe(1);
  });

  it('keeps nothing when its size is 0', () => {
    const sut = new AuthCache(Buffer.alloc(32), { size: 0, ttlMs: 100 });
    sut.set('a', login);
    expect(sut.get('a')).toBeNull();
  });
});

describe('app passwords', () => {
  it('are 16 letters in four groups, accepted without spaces or in capitals, matched by keyed hash', () => {
    const key = randomBytes(32);
    const sut = generateAppPassword(key);
    expect(sut.password).toMatch(/^[a-z]{4}( [a-z]{4}){3}$/);
    const letters = appPasswordLetters(sut.password.toUpperCase().replace(/ /g, ''))!;
    expect(appPasswordMatches(key, letters, sut.secretHash)).toBe(true);
    expect(appPasswordMatches(randomBytes(32), letters, sut.secretHash)).toBe(false);
    expect(appPasswordLetters('correct horse battery staple')).toBeNull();
    expect(appPasswordLetters('abcd efgh ijkl mno1')).toBeNull();
  });
});

describe('pop3Settings', () => {
  const folders = [
    { id: 'junk', name: 'Junk', kind: 'junk' },
    { id: 'inbox', name: 'INBOX', kind: 'inbox' },
    { id: 'news', name: 'News', kind: 'custom' },
  ];
  const row = (names: string[]) => ({
    pop3FolderNames: names,
    pop3MarkRead: false,
    pop3DeleteMode: 'delete' as const,
    folders,
  });

  it('resolves names to ids, Inbox first, unknown names skipped', () => {
    expect(pop3Settings(row(['News', 'Gone', 'Inbox'])).folderIds).toEqual(['inbox', 'news']);
    expect(pop3Settings(row(['Junk'])).folderIds).toEqual(['junk']);
  });

  it('serves the Inbox when no name resolves', () => {
    expect(pop3Settings(row(['Gone'])).folderIds).toEqual(['inbox']);
  });
});

describe('AccessDenied', () => {
  it("carries the provider's sentence for a disabled protocol, and one text for bad credentials and locks", () => {
    expect(new AccessDenied('service-disabled', 'pop3').message).toBe(
      'POP3 access is disabled for this mailbox; enable it in the dashboard',
    );
    expect(new AccessDenied('locked', 'imap').message).toBe(new AccessDenied('bad-credentials', 'imap').message);
  });
});
