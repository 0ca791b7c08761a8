import type tls from 'node:tls';
import type { Logger } from 'pino';
import { ReadClosed } from './byte-reader';
import { parseCommand, type ParsedCommand } from './command-parser';
import type { ImapConnection } from './imap-connection';
import { replyForError } from './imap-errors-map';
import type { ImapStore } from './imap-store';
import type { WireValue } from './imap-arg';
import type { SelectedView, ViewUpdate } from './selected-view';
import type { Authenticator, ImapUser } from './authenticator';
import type { ImapMetrics } from '../imap-metrics';
import type { ImapMime } from './imap-mime';
import { toRanges, vanishedLines } from './uid-ranges';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export interface SessionOptions {
  appendLimit: number;
  /** Idle time before login (RFC 9051 §5.4 allows a short one), and the command budget. */
  preAuthTimeoutMs: number;
  preAuthMaxCommands: number;
  /** Idle time once logged in: at least 30 minutes (RFC 9051 §5.4, RFC 2177). */
  authTimeoutMs: number;
  /** IDLE re-reads the folder this often even without notifications (lost NOTIFY safety net). */
  idlePollMs: number;
}

/** Sessions register here to hear about their mailbox (mail-events.ts). */
export interface SessionRegistry {
  add(session: ImapSession): void;
  remove(session: ImapSession): void;
}

export interface SessionDeps {
  store: ImapStore;
  authenticator: Authenticator;
  mime: ImapMime;
  logger: Logger;
  metrics: ImapMetrics;
  registry: SessionRegistry;
  secureContext: tls.SecureContext;
  options: SessionOptions;
}

export type CommandHandler = (s: ImapSession, cmd: ParsedCommand) => Promise<string>;

/** Commands by state: which may run in which state (RFC 9051 §6). */
export interface CommandTable {
  any: Record<string, CommandHandler>;
  notAuthenticated: Record<string, CommandHandler>;
  authenticated: Record<string, CommandHandler>;
  selected: Record<string, CommandHandler>;
}

// Commands during which an EXPUNGE must not be sent (RFC 9051 §7.5.1).
const NO_EXPUNGE = new Set(['FETCH', 'STORE', 'SEARCH', 'UID FETCH', 'UID STORE', 'UID SEARCH']);
for (const name of ['SORT', 'THREAD']) NO_EXPUNGE.add(name).add(`UID ${name}`);

/**
 * One IMAP session: its state, the logged-in user, the selected folder's view and the enabled
 * extensions. It reads one command at a time from the connection (the socket stays paused
 * while a command runs) and answers through the handlers of the command table.
 */
export class ImapSession {
  state: SessionState = 'not-authenticated';
  user: ImapUser | null = null;
  view: SelectedView | null = null;
  utf8 = false;
  rev2 = false;
  condstore = false;
  /** ENABLE QRESYNC (RFC 7162 §3.2.3): expunges are told as VANISHED for the rest of the session. */
  qresync = false;
  /** Set by a notification while idling: wakes the IDLE loop. */
  onWake: (() => void) | null = null;
  private commands = 0;

  constructor(
    readonly conn: ImapConnection,
    readonly deps: SessionDeps,
    private readonly table: CommandTable,
    readonly implicitTls: boolean,
  ) {}

  get tenantId(): string {
    return this.user!.tenantId;
  }

  get mailboxId(): string | null {
    return this.user?.mailboxId ?? null;
  }

  async run(): Promise<void> {
    this.deps.metrics.sessions.inc();
    try {
      await this.conn.send(`* OK [CAPABILITY ${this.capabilities().join(' ')}] Mailroom IMAP ready`);
      while (this.state !== 'logout' && !this.conn.isClosed) await this.step();
    } catch (err) {
      if (err instanceof ReadClosed && err.reason === 'timeout' && !this.conn.isClosed) {
        await this.conn.send('* BYE Autologout; idle for too long').catch(() => undefined);
      } else if (!(err instanceof ReadClosed)) {
        this.deps.logger.warn({ err }, 'imap session failed');
      }
    } finally {
      this.deps.metrics.sessions.dec();
      if (this.conn.compressed) this.deps.metrics.compressedSessions.dec();
      this.deps.registry.remove(this);
      await this.conn.close();
    }
  }

  /** The capability list for the current state and transport. */
  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE'];
    caps.push('UNSELECT', 'CHILDREN', 'UIDPLUS', 'MOVE', 'SPECIAL-USE', 'CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT');
    caps.push('QUOTA', 'QUOTA=RES-STORAGE', `APPENDLIMIT=${this.deps.options.appendLimit}`);
    caps.push('SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES');
    if (this.state === 'not-authenticated') {
      if (this.conn.secure) caps.push('AUTH=PLAIN');
      else caps.push('STARTTLS', 'LOGINDISABLED');
    } else if (!this.conn.compressed) caps.push('COMPRESS=DEFLATE'); // after login, as Dovecot
    return caps;
  }

  /** Writes an untagged or tagged line. */
  send(prefix: string, values: WireValue[] = []): Promise<void> {
    return this.conn.send(prefix, values, this.utf8);
  }

  /**
   * Tells the client what changed in the selected folder (EXISTS, EXPUNGE, FETCH FLAGS). With
   * QRESYNC the expunges go as one VANISHED of their uids instead (RFC 7162 §3.2.10.2); the
   * view has already renumbered, and the flag updates after it carry the new numbers.
   */
  async sendUpdates(updates: ViewUpdate[]): Promise<void> {
    if (this.qresync) {
      const gone = updates.flatMap((u) => (u.kind === 'expunge' ? [u.uid] : [])).sort((a, b) => a - b);
      for (const line of vanishedLines(toRanges(gone), false)) await this.send(line);
    }
    for (const u of updates) {
      if (u.kind === 'expunge') {
        if (!this.qresync) await this.send(`* ${u.seq} EXPUNGE`);
      } else if (u.kind === 'exists') await this.send(`* ${u.count} EXISTS`);
      else await this.send(`* ${u.seq} FETCH`, [this.flagsItems(u.state)]);
    }
  }

  /** `UID u FLAGS (...) [MODSEQ (m)]` of one message (RFC 7162 §3.2: MODSEQ once CONDSTORE is on). */
  flagsItems(state: { uid: number; flags: string[]; modseq: bigint }): WireValue[] {
    const items: WireValue[] = [{ atom: 'UID' }, state.uid, { atom: 'FLAGS' }, state.flags.map((f) => ({ atom: f }))];
    if (this.condstore) items.push({ atom: 'MODSEQ' }, [state.modseq]);
    return items;
  }

  /**
   * Brings the view forward and reports. A notification marks the view dirty; `check` (NOOP,
   * CHECK, the IDLE safety poll) asks the store even without one, but first reads only the
   * folder's highest modseq: every change bumps it, so an equal one means nothing to read, and
   * a change whose notification was lost is still caught up from our modseq.
   */
  async syncView(allowExpunge: boolean, check = false): Promise<void> {
    const view = this.view;
    if (!view || (!view.dirty && !check)) return;
    if (!view.dirty) {
      const highest = await this.deps.store.highestModseq(this.tenantId, view.folder.id);
      // null: the folder is gone; the full sync below says so the usual way.
      if (highest !== null && highest <= view.modseq) {
        // Nothing new, but expunges held back during FETCH, STORE or SEARCH go out now.
        if (allowExpunge && view.hasHeldExpunges) await this.sendUpdates(view.releaseHeld());
        return;
      }
    }
    await this.sendUpdates(await view.sync(this.deps.store, this.tenantId, allowExpunge));
  }

  /** A notification for this mailbox (or a reconnect of LISTEN, folderId null): mark and wake. */
  notify(folderId: string | null, modseq: bigint | null): void {
    const view = this.view;
    if (!view) return;
    if (folderId !== null && folderId !== view.folder.id) return;
    if (modseq !== null && modseq <= view.modseq) return;
    view.dirty = true;
    this.onWake?.();
  }

  /** After LISTEN reconnected: a revocation sent meanwhile was lost, so ask the database. */
  recheck(): void {
    const user = this.user;
    if (!user) return;
    this.deps.authenticator.isCurrent(user).then(
      (current) => current || this.revoke(),
      () => undefined,
    );
  }

  /** Access revoked (sign out everywhere, password change, disable): say goodbye and close. */
  revoke(): void {
    this.state = 'logout';
    void this.conn
      .send('* BYE Access to this mailbox was revoked; please sign in again')
      .then(() => this.conn.close())
      .catch(() => undefined);
    this.onWake?.();
  }

  private async step(): Promise<void> {
    const preAuth = this.state === 'not-authenticated';
    const timeout = preAuth ? this.deps.options.preAuthTimeoutMs : this.deps.options.authTimeoutMs;
    const read = await this.conn.readCommand(timeout, !preAuth);
    if (preAuth && ++this.commands > this.deps.options.preAuthMaxCommands) {
      await this.send('* BYE Too many commands without logging in');
      this.state = 'logout';
      return;
    }
    if (read.kind === 'refused') {
      await this.send(`${read.tag} ${read.reply}`);
      if (read.close) {
        await this.send('* BYE Cannot resynchronise after an oversized literal');
        this.state = 'logout';
      }
      return;
    }
    await this.execute(read.raw);
    // Let other sessions run between two pipelined commands of this one.
    await new Promise((resolve) => setImmediate(resolve));
  }

  private async execute(raw: Buffer): Promise<void> {
    let cmd: ParsedCommand;
    try {
      cmd = parseCommand(raw);
    } catch (err) {
      const tag = err instanceof Error && 'tag' in err ? String(err.tag) : '*';
      await this.send(`${tag} BAD ${err instanceof Error ? err.message : 'Syntax error'}`);
      return;
    }
    const handler = this.handlerFor(cmd.name);
    this.deps.metrics.commands.inc({ command: handler ? cmd.name : 'unknown' });
    if (!handler) {
      await this.send(`${cmd.tag} BAD ${this.unknownReason(cmd.name)}`);
      return;
    }
    let reply: string;
    try {
      reply = await handler(this, cmd);
    } catch (err) {
      const mapped = replyForError(err);
      if (!mapped) this.deps.logger.error({ err, command: cmd.name }, 'imap command failed');
      reply = mapped ?? 'NO [SERVERBUG] Internal error; try again';
    }
    if (this.state === 'selected') await this.syncView(!NO_EXPUNGE.has(cmd.name)).catch(() => undefined);
    const pending = this.view?.pendingSince;
    // RFC 7162 §3.2: MODSEQs were shown while expunges wait, so a client that reconnects with
    // the highest of them would skip those expunges; tell it a modseq below them.
    if (this.qresync && pending !== null && pending !== undefined) {
      await this.send(`* OK [HIGHESTMODSEQ ${pending}] Expunges are pending`);
    }
    if (reply) await this.send(`${cmd.tag} ${reply}`);
  }

  private handlerFor(name: string): CommandHandler | undefined {
    const t = this.table;
    const own = (m: Record<string, CommandHandler>) => (Object.hasOwn(m, name) ? m[name] : undefined);
    const found = own(t.any);
    if (found) return found;
    if (this.state === 'not-authenticated') return own(t.notAuthenticated);
    if (this.state === 'authenticated') return own(t.authenticated);
    if (this.state === 'selected') return own(t.selected) ?? own(t.authenticated);
    return undefined;
  }

  private unknownReason(name: string): string {
    const t = this.table;
    const known = [t.notAuthenticated, t.authenticated, t.selected].some((m) => Object.hasOwn(m, name));
    return known ? `${name} not allowed now` : 'Unknown command';
  }
}
