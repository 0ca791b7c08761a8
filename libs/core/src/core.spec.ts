import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey, open, seal } from './index';

describe('API keys', () => {
  it('makes keys that carry their prefix and match only their own hash', () => {
    const sut = generateApiKey();
    expect(sut.key).toMatch(/^mr_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyPrefix(sut.key)).toBe(sut.prefix);
    expect(apiKeyMatches(sut.key, sut.hash)).toBe(true);
    expect(apiKeyMatches(generateApiKey().key, sut.hash)).toBe(false);
    expect(sut.hash).toBe(hashApiKey(sut.key));
    expect(sut.hash).not.toContain(sut.key.slice('mr_'.length + 12 + 1));
  });

  it('finds no prefix in a malformed key', () => {
    expect(apiKeyPrefix('mr_short_x')).toBeNull();
    expect(apiKeyPrefix('Bearer something')).toBeNull();
  });
});

describe('sealed secrets', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and nothing of the plaintext shows', () => {
    const sealed = seal(key, '-----BEGIN PRIVATE KEY-----abc', 'dkim:1');
    expect(sealed).not.toContain('PRIVATE');
    expect(open(key, sealed, 'dkim:1')).toBe('-----BEGIN PRIVATE KEY-----abc');
  });

  it('refuses another key, another context or a changed byte', () => {
    const sealed = seal(key, 'secret', 'row-1');
    expect(() => open(randomBytes(32), sealed, 'row-1')).toThrow();
    expect(() => open(key, sealed, 'row-2')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => open(key, parts.join('.'), 'row-1')).toThrow();
  });
});
