import { describe, expect, it, vi } from 'vitest';
import { generateApiKey } from '@mailroom/core';
import type { PinoLogger } from 'nestjs-pino';
import type { AuthRepository, RequestApiKey } from './auth.repository';
import { CredentialService } from './credential.service';
import type { ThrottleService } from './throttle.service';
import type { TokenService } from './token.service';

// The guard's API-key path records a key's last use at most once a minute per address, and the
// row it marks may be the CredentialCache's, shared by every later request: these check what that
// shared row says after the write succeeds or fails.
function setup(recordApiKeyUse: (id: string, at: Date, ip: string) => Promise<void>) {
  const { key, hash } = generateApiKey();
  // One object for every lookup, as the CredentialCache hands out.
  const row: RequestApiKey = {
    id: '6b0c1c36-57a4-4d39-9a77-3f0f1d5c2a10',
    name: 'ci',
    keyHash: hash,
    resellerId: null,
    tenantId: null,
    scopes: ['mailboxes:read'],
    domains: [],
    ipAllowlist: [],
    expiresAt: null,
    lastUsedAt: null,
    lastUsedIp: null,
    revokedAt: null,
    resellerStatus: null,
    tenantStatus: null,
  };
  const record = vi.fn(recordApiKeyUse);
  const auth = {
    findApiKeyForRequest: () => Promise.resolve({ credential: row, tenant: null }),
    recordApiKeyUse: record,
  } as unknown as AuthRepository;
  const throttle = {
    assertMayTry: () => Promise.resolve(),
    recordFailure: () => Promise.resolve(),
  } as unknown as ThrottleService;
  const warn = vi.fn();
  const logger = { warn } as unknown as PinoLogger;
  const sut = new CredentialService(auth, {} as TokenService, throttle, logger);
  return { sut, key, row, record, warn };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CredentialService: an API key’s last use', () => {
  it('is written once a minute, not at every request, and the shared row says so', async () => {
    const { sut, key, row, record } = setup(() => Promise.resolve());
    await sut.authenticate(key, '192.0.2.7', null, true);
    await settle();
    await sut.authenticate(key, '192.0.2.7', null, true);
    await settle();
    expect(record).toHaveBeenCalledTimes(1);
    expect(row.lastUsedIp).toBe('192.0.2.7');
    expect(row.lastUsedAt).toBeInstanceOf(Date);
  });

  it('is tried again after a short pause when the write failed, not at every request, and the failure is logged', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-12-05T04:00:00Z'));
      const { sut, key, row, record, warn } = setup(() => Promise.reject(new Error('connection lost')));
      await sut.authenticate(key, '192.0.2.7', null, true);
      await settle();
      expect(row.lastUsedAt).toBeNull();
      expect(row.lastUsedIp).toBeNull();
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ keyId: row.id }), 'could not record API key use');
      vi.setSystemTime(new Date('2026-12-05T04:00:05Z'));
      await sut.authenticate(key, '192.0.2.7', null, true);
      await settle();
      expect(record).toHaveBeenCalledTimes(1);
      vi.setSystemTime(new Date('2026-12-05T04:00:11Z'));
      await sut.authenticate(key, '192.0.2.7', null, true);
      await settle();
      expect(record).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a newer use when an older write fails after it', async () => {
    let failFirst: (err: Error) => void = () => undefined;
    const first = new Promise<void>((_, reject) => (failFirst = reject));
    let calls = 0;
    const { sut, key, row, record } = setup(() => (++calls === 1 ? first : Promise.resolve()));
    await sut.authenticate(key, '192.0.2.7', null, true);
    await sut.authenticate(key, '198.51.100.9', null, true);
    failFirst(new Error('connection lost'));
    await settle();
    expect(record).toHaveBeenCalledTimes(2);
    expect(row.lastUsedIp).toBe('198.51.100.9');
    expect(row.lastUsedAt).toBeInstanceOf(Date);
  });
});
