import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { expect } from 'vitest';
import { PASSWORD, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

export interface Box {
  id: string;
  address: string;
}

/** The number inside `[CODE n]` of the first line that has it. */
export function code(lines: string[], name: string): string {
  const found = lines.map((l) => new RegExp(`\\[${name} (\\d+)\\]`).exec(l)).find(Boolean);
  if (!found) throw new Error(`no ${name} in ${lines.join(' | ')}`);
  return found[1]!;
}

/**
 * Raw-socket sessions and imapflow clients for the QRESYNC tests, over one harness. Every
 * mailbox is new, so its uids start at 1.
 */
export class QresyncClients {
  private readonly open: RawImap[] = [];
  private readonly flows: ImapFlow[] = [];

  constructor(private readonly x: () => ImapHarness) {}

  /** A raw session logged in over TLS, with ENABLE QRESYNC unless `qresync` is false. */
  async login(box: Box, qresync = true): Promise<RawImap> {
    const raw = await RawImap.connect(this.x().imap.ports.imaps, true);
    this.open.push(raw);
    await raw.line();
    expect((await raw.command('l', `LOGIN ${box.address} "${PASSWORD}"`)).at(-1)).toMatch(/^l OK /);
    if (qresync) {
      expect(await raw.command('e', 'ENABLE QRESYNC')).toEqual(['* ENABLED QRESYNC', 'e OK ENABLE completed']);
    }
    return raw;
  }

  /** A new mailbox with `count` messages in INBOX (uids 1..count). */
  async mailbox(count: number): Promise<Box> {
    const box = await this.x().user(`q${randomBytes(4).toString('hex')}`);
    const raw = await this.login(box, false);
    for (let i = 1; i <= count; i++) {
      const msg = `Subject: m${i}\r\nMessage-ID: <m${i}@sender.test>\r\n\r\nbody ${i}\r\n`;
      raw.write(`a${i} APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
      expect((await raw.until(`a${i}`)).at(-1)).toMatch(new RegExp(`^a${i} OK \\[APPENDUID \\d+ ${i}\\]`));
    }
    raw.close();
    return box;
  }

  /** Selects INBOX in a QRESYNC session and returns what a client would remember of it. */
  async remember(box: Box): Promise<{ validity: string; modseq: string }> {
    const raw = await this.login(box);
    const res = await raw.command('s', 'SELECT INBOX');
    raw.close();
    return { validity: code(res, 'UIDVALIDITY'), modseq: code(res, 'HIGHESTMODSEQ') };
  }

  /** Another client: deletes `expunge` (uids) and flags `flag` in INBOX. */
  async change(box: Box, expunge: string, flag?: string): Promise<void> {
    const raw = await this.login(box, false);
    await raw.command('s', 'SELECT INBOX');
    await raw.command('d', `UID STORE ${expunge} +FLAGS.SILENT (\\Deleted)`);
    expect((await raw.command('x', `UID EXPUNGE ${expunge}`)).at(-1)).toBe('x OK UID EXPUNGE completed');
    if (flag) await raw.command('f', `UID STORE ${flag} +FLAGS.SILENT (\\Flagged)`);
    raw.close();
  }

  /** An imapflow client with `qresync: true` (not yet connected). */
  imapflow(box: Box): ImapFlow {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: this.x().imap.ports.imaps,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: box.address, pass: PASSWORD },
      logger: false,
      qresync: true,
    });
    this.flows.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const raw of this.open) raw.close();
    for (const c of this.flows) await c.logout().catch(() => c.close());
  }
}
