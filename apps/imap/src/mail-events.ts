import type { Logger } from 'pino';
import { NotifyListener } from '@mailroom/db';

/** A live session of one mailbox (IMAP or POP3) as the events see it. */
export interface MailEventTarget {
  readonly mailboxId: string | null;
  /** New state in a folder (folderId/modseq null: re-check everything, e.g. after a reconnect). */
  notify(folderId: string | null, modseq: bigint | null): void;
  /** The mailbox's access was revoked: end the session with BYE (or -ERR for POP3). */
  revoke(): void;
  /** After a reconnect: end the session if its access changed while notifications were lost. */
  recheck?(): void;
}

export const MAIL_CHANNEL = 'mailroom_mail';
export const ACCESS_CHANNEL = 'mailroom_access';

/**
 * The process's one LISTEN connection for 'mailroom_mail' (payload
 * tenant:mailbox:folder:modseq) and 'mailroom_access' (tenant:mailbox), fanned out to the
 * sessions of that mailbox. After a reconnect every session is told to re-sync: a lost
 * notification is caught up from modseq, never missed.
 */
export class MailEvents {
  private readonly byMailbox = new Map<string, Set<MailEventTarget>>();
  private readonly listener: NotifyListener;
  private readonly revokedListeners = new Set<(tenantId: string, mailboxId: string) => void>();
  private readonly reconnectedListeners = new Set<() => void>();
  private connectedOnce = false;

  constructor(url: string, logger: Logger) {
    this.listener = new NotifyListener({
      url,
      logger,
      name: 'mailroom-imap-listen',
      channels: [MAIL_CHANNEL, ACCESS_CHANNEL],
      onNotify: (channel, payload) => this.dispatch(channel, payload),
      onConnect: () => this.resyncAll(),
    });
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  close(): Promise<void> {
    return this.listener.close();
  }

  /** Revocations for sessions not registered as targets (POP3, as AccessEvents.onRevoked). */
  onRevoked(listener: (tenantId: string, mailboxId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** Called after the LISTEN connection came back (not on the first connect). */
  onReconnected(listener: () => void): () => void {
    this.reconnectedListeners.add(listener);
    return () => this.reconnectedListeners.delete(listener);
  }

  add(target: MailEventTarget): void {
    if (!target.mailboxId) return;
    let set = this.byMailbox.get(target.mailboxId);
    if (!set) this.byMailbox.set(target.mailboxId, (set = new Set()));
    set.add(target);
  }

  remove(target: MailEventTarget): void {
    if (!target.mailboxId) return;
    const set = this.byMailbox.get(target.mailboxId);
    set?.delete(target);
    if (set && set.size === 0) this.byMailbox.delete(target.mailboxId);
  }

  /** Sessions currently registered (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.byMailbox.values()) n += set.size;
    return n;
  }

  private dispatch(channel: string, payload: string): void {
    const [tenantId, mailboxId, folderId, modseq] = payload.split(':');
    if (channel === ACCESS_CHANNEL && tenantId && mailboxId) {
      for (const listener of this.revokedListeners) listener(tenantId, mailboxId);
    }
    const targets = mailboxId ? this.byMailbox.get(mailboxId) : undefined;
    if (!targets) return;
    for (const t of [...targets]) {
      if (channel === ACCESS_CHANNEL) t.revoke();
      else t.notify(folderId || null, modseq && /^\d+$/.test(modseq) ? BigInt(modseq) : null);
    }
  }

  private resyncAll(): void {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    for (const set of this.byMailbox.values()) {
      for (const t of set) {
        t.notify(null, null);
        t.recheck?.();
      }
    }
    for (const listener of this.reconnectedListeners) listener();
  }
}
