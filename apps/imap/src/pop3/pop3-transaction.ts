import type { Logger } from '@mailroom/logger';
import { DotStuffer } from './dot-stuffer';
import { uidlOf, type Maildrop, type MaildropMessage } from './maildrop';
import type { Pop3Connection } from './pop3-connection';
import { replies } from './pop3-replies';
import type { Pop3Store, Pop3User } from './pop3-types';

const NUMBER = /^[1-9][0-9]{0,9}$/;
const LINES = /^[0-9]{1,9}$/;
/** Scan listings go out in writes of this many lines (a 100,000-message LIST is not one string). */
const LISTING_BATCH = 500;

/**
 * The TRANSACTION state commands of RFC 1939 section 5 over one maildrop snapshot. Messages
 * are sent from the blob as it streams (DotStuffer), never read whole into memory.
 */
export class Pop3Transaction {
  constructor(
    private readonly conn: Pop3Connection,
    private readonly store: Pop3Store,
    private readonly user: Pop3User,
    readonly maildrop: Maildrop,
    private readonly logger: Logger,
  ) {}

  async stat(args: string[]): Promise<void> {
    if (args.length > 0) return this.conn.writeLine(replies.syntax('STAT'));
    const { count, size } = this.maildrop.stat();
    await this.conn.writeLine(`+OK ${count} ${size}`);
  }

  list(args: string[]): Promise<void> {
    return this.listing(args, 'LIST [msg]', (m) => String(m.size));
  }

  uidl(args: string[]): Promise<void> {
    return this.listing(args, 'UIDL [msg]', uidlOf);
  }

  async retr(args: string[]): Promise<void> {
    if (args.length !== 1) return this.conn.writeLine(replies.syntax('RETR msg'));
    const m = await this.message(args[0]!);
    if (m) await this.send(m, null);
  }

  async top(args: string[]): Promise<void> {
    if (args.length !== 2) return this.conn.writeLine(replies.syntax('TOP msg n'));
    if (!LINES.test(args[1]!)) return this.conn.writeLine(replies.invalidLines);
    const m = await this.message(args[0]!);
    if (m) await this.send(m, Number(args[1]));
  }

  async dele(args: string[]): Promise<void> {
    if (args.length !== 1) return this.conn.writeLine(replies.syntax('DELE msg'));
    const m = await this.message(args[0]!);
    if (!m) return;
    m.deleted = true;
    await this.conn.writeLine(replies.deleted);
  }

  async rset(args: string[]): Promise<void> {
    if (args.length > 0) return this.conn.writeLine(replies.syntax('RSET'));
    this.maildrop.reset();
    const { count, size } = this.maildrop.stat();
    await this.conn.writeLine(`+OK ${count} messages (${size} octets)`);
  }

  /** The UPDATE state (RFC 1939 section 6); false when not every change was applied. */
  update(): Promise<boolean> {
    return this.maildrop.update(this.store, this.user, this.logger);
  }

  private async listing(args: string[], usage: string, value: (m: MaildropMessage) => string): Promise<void> {
    if (args.length > 1) return this.conn.writeLine(replies.syntax(usage));
    if (args.length === 1) {
      const m = await this.message(args[0]!);
      if (m) await this.conn.writeLine(`+OK ${args[0]} ${value(m)}`);
      return;
    }
    const { count, size } = this.maildrop.stat();
    await this.conn.writeLine(`+OK ${count} messages (${size} octets)`);
    let lines: string[] = [];
    for (const [i, m] of this.maildrop.messages.entries()) {
      if (m.deleted) continue;
      lines.push(`${i + 1} ${value(m)}\r\n`);
      if (lines.length >= LISTING_BATCH) {
        await this.conn.write(Buffer.from(lines.join('')));
        lines = [];
      }
    }
    await this.conn.write(Buffer.from(`${lines.join('')}.\r\n`));
  }

  /** Message `arg`, or null after the -ERR reply (not a number, none such, marked deleted). */
  private async message(arg: string): Promise<MaildropMessage | null> {
    if (!NUMBER.test(arg)) {
      await this.conn.writeLine(replies.invalidNumber(arg));
      return null;
    }
    const m = this.maildrop.get(Number(arg));
    if (!m) await this.conn.writeLine(replies.noSuchMessage(Number(arg)));
    else if (m.deleted) await this.conn.writeLine(replies.alreadyDeleted);
    else return m;
    return null;
  }

  /**
   * RETR (bodyLines null) or TOP. The first chunk is read before "+OK", so a blob that cannot
   * be read gets -ERR; a failure after "+OK" can only be told by closing the connection.
   */
  private async send(m: MaildropMessage, bodyLines: number | null): Promise<void> {
    const chunks = this.store.readBlob(this.user.tenantId, m.sha256)[Symbol.asyncIterator]();
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
      if (next.done && m.size > 0) throw new Error('blob is empty');
    } catch (err) {
      this.logger.warn({ err, mailboxId: this.user.mailboxId, messageId: m.id }, 'pop3 blob unreadable');
      await this.conn.writeLine(replies.messageVanished);
      return;
    }
    await this.conn.writeLine(`+OK ${m.size} octets`);
    const stuffer = new DotStuffer(bodyLines);
    try {
      for (; !next.done; next = await chunks.next()) {
        const out = stuffer.push(next.value);
        if (out.length > 0) await this.conn.write(out);
        if (stuffer.done || this.conn.isClosed) {
          await chunks.return?.();
          break;
        }
      }
    } catch (err) {
      this.logger.error({ err, mailboxId: this.user.mailboxId, messageId: m.id }, 'pop3 blob read failed mid-reply');
      this.conn.closeNow();
      return;
    }
    await this.conn.write(stuffer.end());
    if (bodyLines === null) m.retrieved = true;
  }
}
