import { describe, expect, it } from 'vitest';
import { loadConfig, webauthnRelyingParty } from './index';

const base = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/mailroom',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MX_HOSTNAME: 'mx.example.net',
  MASTER_KEY: 'a'.repeat(64),
};

describe('webauthnRelyingParty', () => {
  it.each([
    [
      'development: localhost on the API and Vite ports',
      {},
      'localhost',
      ['http://localhost:3000', 'http://localhost:5173'],
    ],
    [
      'the public URL',
      { PUBLIC_API_URL: 'https://mail.example.net/api' },
      'mail.example.net',
      ['https://mail.example.net'],
    ],
    [
      'explicit origins and RP ID',
      { WEBAUTHN_ORIGIN: 'https://admin.example.net, https://example.net', WEBAUTHN_RP_ID: 'example.net' },
      'example.net',
      ['https://admin.example.net', 'https://example.net'],
    ],
    [
      'the RP ID from the first origin',
      { WEBAUTHN_ORIGIN: 'http://localhost:4100' },
      'localhost',
      ['http://localhost:4100'],
    ],
  ])('%s', (_, env, rpId, origins) => {
    expect(webauthnRelyingParty(loadConfig({ ...base, ...env }))).toEqual({ rpId, origins, rpName: 'Mailroom' });
  });

  it.each([
    [{ WEBAUTHN_ORIGIN: 'https://example.net/login' }, /WEBAUTHN_ORIGIN: must be origins/],
    [{ WEBAUTHN_RP_ID: '127.0.0.1' }, /WEBAUTHN_RP_ID: must be a domain/],
  ])('refuses %o', (env, problem) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow();
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      expect((err as { problems: string[] }).problems.join('\n')).toMatch(problem);
    }
  });
});
