import { describe, expect, it } from 'vitest';
import { renameForgedAuthResults } from './forged-headers';

describe('renameForgedAuthResults', () => {
  const ours = 'mx.mailroom.test';

  it('renames fields that claim our authserv-id, keeping their text', () => {
    const header = Buffer.from(
      'From: a@b.example\r\nAuthentication-Results: MX.mailroom.test; dkim=pass header.d=bank.example\r\n\tspf=pass\r\nSubject: hi\r\n\r\n',
    );
    const sut = renameForgedAuthResults(header, ours)!.toString('latin1');
    expect(sut).toBe(
      'From: a@b.example\r\nX-Original-Authentication-Results: MX.mailroom.test; dkim=pass header.d=bank.example\r\n\tspf=pass\r\nSubject: hi\r\n\r\n',
    );
  });

  it('leaves other hosts’ results alone and returns null when nothing changes', () => {
    const header = Buffer.from(
      'Authentication-Results: mx.google.example; dkim=pass\r\nX-Note: Authentication-Results: mx.mailroom.test\r\n\r\n',
    );
    expect(renameForgedAuthResults(header, ours)).toBeNull();
  });
});
