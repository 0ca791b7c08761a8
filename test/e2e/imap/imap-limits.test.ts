import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapHarness, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

const TOO_MANY = '* BYE [LIMIT] Too many connections from your IP address (limit 2); close some and try again';

describe('imap: connections per IP', () => {
  let x: ImapHarness;

  beforeAll(async () => {
    x = await createImapHarness({}, { IMAP_MAX_CONNECTIONS_PER_IP: '2' });
  });
  afterAll(async () => x?.close());

  it('greets a third connection from one address with BYE [LIMIT] and takes it again once one closes', async () => {
    const first = await RawImap.connect(x.imap.ports.imaps, true);
    const second = await RawImap.connect(x.imap.ports.imap);
    expect(await first.line()).toMatch(/^\* OK \[CAPABILITY /);
    expect(await second.line()).toMatch(/^\* OK \[CAPABILITY /);
    const third = await RawImap.connect(x.imap.ports.imaps, true);
    expect(await third.line()).toBe(TOO_MANY);
    await third.waitClosed();
    const refused = await x.registry.getSingleMetric('mailroom_imap_connections_refused_total')!.get();
    expect(refused.values).toEqual([{ labels: { reason: 'per-ip' }, value: 1 }]);
    expect(await second.command('o', 'LOGOUT')).toEqual(['* BYE Mailroom IMAP logging out', 'o OK LOGOUT completed']);
    await second.waitClosed();
    // The server sees the close a moment after the client does: retry until the slot is free.
    let greeting: string | null = TOO_MANY;
    for (let i = 0; i < 50 && greeting === TOO_MANY; i++) {
      const next = await RawImap.connect(x.imap.ports.imap);
      greeting = await next.line();
      next.close();
    }
    expect(greeting).toMatch(/^\* OK \[CAPABILITY /);
    first.close();
  });
});
