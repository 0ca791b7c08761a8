import { Injectable } from '@nestjs/common';
import type { AppPassword, Tx } from '@mailroom/db';

export interface NewAppPasswordRow {
  name: string;
  secretHash: string;
  protocols: string[];
}

/** A mailbox's app passwords. Revoking sets revoked_at; a trigger then moves the mailbox's auth_version. */
@Injectable()
export class AppPasswordRepository {
  listLive(tx: Tx, tenantId: string, mailboxId: string): Promise<AppPassword[]> {
    return tx.appPassword.findMany({
      where: { tenantId, mailboxId, revokedAt: null },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  countLive(tx: Tx, tenantId: string, mailboxId: string): Promise<number> {
    return tx.appPassword.count({ where: { tenantId, mailboxId, revokedAt: null } });
  }

  find(tx: Tx, tenantId: string, mailboxId: string, id: string): Promise<AppPassword | null> {
    return tx.appPassword.findFirst({ where: { tenantId, mailboxId, id } });
  }

  create(tx: Tx, tenantId: string, mailboxId: string, row: NewAppPasswordRow): Promise<AppPassword> {
    return tx.appPassword.create({ data: { tenantId, mailboxId, ...row } });
  }

  /** Compare-and-set: true when this call revoked it. */
  async revoke(tx: Tx, tenantId: string, id: string, at: Date): Promise<boolean> {
    const { count } = await tx.appPassword.updateMany({
      where: { tenantId, id, revokedAt: null },
      data: { revokedAt: at },
    });
    return count === 1;
  }

  /** Revokes every live app password of the mailbox; how many. */
  async revokeAll(tx: Tx, tenantId: string, mailboxId: string, at: Date): Promise<number> {
    const { count } = await tx.appPassword.updateMany({
      where: { tenantId, mailboxId, revokedAt: null },
      data: { revokedAt: at },
    });
    return count;
  }

  /** Moves auth_version: cached logins miss, and the trigger's NOTIFY ends live IMAP/POP3 sessions. */
  async bumpAuthVersion(tx: Tx, tenantId: string, mailboxId: string): Promise<void> {
    await tx.mailbox.update({
      where: { tenantId_id: { tenantId, id: mailboxId } },
      data: { authVersion: { increment: 1 } },
    });
  }
}
