import { randomBytes } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery } from '@test/support/database';
import { basicMessage } from '@test/support/smtp/harness';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

async function waitFor(probe: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

/** An IDLE session that records EXISTS counts. */
async function idling(client: ImapFlow): Promise<number[]> {
  await client.mailboxOpen('INBOX');
  const seen: number[] = [];
  client.on('exists', (e: { count: number }) => seen.push(e.count));
  void client.idle().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  return seen;
}

// New mail reaches IDLE sessions of any IMAP process through PostgreSQL LISTEN/NOTIFY, and a
// notification lost while the LISTEN connection is down is caught up from modseq.
describe('imap: mail events across processes', () => {
  let x: ImapHarness;

  beforeAll(async () => {
    // No safety poll during the test: only notifications (or the reconnect resync) can tell.
    x = await createImapHarness({ idlePollMs: 120_000 });
  });
  afterAll(async () => x?.close());

  async function user(): Promise<string> {
    return (await x.user(`u${randomBytes(4).toString('hex')}`)).address;
  }

  it('IDLE on another IMAP process sees the MTA commit within a second', async () => {
    const address = await user();
    const other = await x.startImap({ idlePollMs: 120_000 });
    const seen = await idling(await x.client(address, undefined, other));
    await x.deliver(address, basicMessage('someone@sender.test', address, 'other process'));
    expect(await waitFor(() => seen.includes(1), 1_000)).toBeLessThan(1_000);
  });

  it("an IDLE session sees another session's flag change and expunge as they happen", async () => {
    const address = await user();
    await x.deliver(address, basicMessage('someone@sender.test', address, 'one'));
    await x.deliver(address, basicMessage('someone@sender.test', address, 'two'));
    const watcher = await x.client(address);
    const flags: string[][] = [];
    const expunged: number[] = [];
    watcher.on('flags', (e: { flags: Set<string> }) => flags.push([...e.flags]));
    watcher.on('expunge', (e: { seq: number }) => expunged.push(e.seq));
    await idling(watcher);
    const actor = await x.client(address);
    await actor.mailboxOpen('INBOX');
    await actor.messageFlagsAdd('2', ['\\Flagged']);
    await waitFor(() => flags.some((f) => f.includes('\\Flagged')), 1_000);
    await actor.messageDelete('1');
    await waitFor(() => expunged.includes(1), 1_000);
  });

  it('catches up a notification lost while the LISTEN connection was down', async () => {
    const address = await user();
    const seen = await idling(await x.client(address));
    const killed = await adminQuery(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'mailroom-imap-listen' AND datname = $1`,
      [new URL(x.h.db.url).pathname.slice(1)],
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    // Delivered while nobody listens (the listener reconnects after a second): the NOTIFY goes nowhere.
    await x.deliver(address, basicMessage('someone@sender.test', address, 'while down'));
    await waitFor(() => seen.includes(1), 5_000);
  });

  it('NOOP and CHECK report a change whose notification never came, from the folder modseq', async () => {
    const { id: mailboxId, address } = await x.user(`u${randomBytes(4).toString('hex')}`);
    await x.deliver(address, basicMessage('someone@sender.test', address, 'quiet'));
    const inbox = await x.h.prisma.folder.findFirstOrThrow({ where: { mailboxId, kind: 'inbox' } });
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    await raw.line();
    await raw.command('l', `LOGIN ${address} "${PASSWORD}"`);
    await raw.command('s', 'SELECT INBOX');
    expect(await raw.command('n1', 'NOOP')).toEqual(['n1 OK NOOP completed']);
    // A writer that bumps the modseq but sends no NOTIFY (as if it were lost on the way).
    const silently = (flags: string[]) => x.h.prisma.$executeRaw`
      WITH f AS (UPDATE folders SET highest_modseq = highest_modseq + 1
        WHERE tenant_id = ${inbox.tenantId}::uuid AND id = ${inbox.id}::uuid
        RETURNING tenant_id, id, highest_modseq)
      UPDATE messages m SET flags = ${flags}::text[], modseq = f.highest_modseq
      FROM f WHERE m.tenant_id = f.tenant_id AND m.folder_id = f.id AND m.uid = 1`;
    await silently(['\\Flagged']);
    expect(await raw.command('n2', 'NOOP')).toEqual(['* 1 FETCH (UID 1 FLAGS (\\Flagged))', 'n2 OK NOOP completed']);
    expect(await raw.command('n3', 'NOOP')).toEqual(['n3 OK NOOP completed']);
    await silently(['\\Flagged', '\\Seen']);
    expect(await raw.command('c', 'CHECK')).toEqual([
      '* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen))',
      'c OK CHECK completed',
    ]);
    raw.close();
  });
});
