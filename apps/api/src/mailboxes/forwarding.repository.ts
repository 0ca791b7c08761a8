import { Injectable } from '@nestjs/common';
import type { ForwardingRule, Tx } from '@mailroom/db';

export interface ForwardingSettings {
  targets: string[];
  keepCopy?: boolean | undefined;
  enabled?: boolean | undefined;
}

/** A mailbox's forwarding rule (at most one). */
@Injectable()
export class ForwardingRepository {
  find(tx: Tx, tenantId: string, mailboxId: string): Promise<ForwardingRule | null> {
    return tx.forwardingRule.findFirst({ where: { tenantId, mailboxId } });
  }

  save(tx: Tx, tenantId: string, mailboxId: string, settings: ForwardingSettings): Promise<ForwardingRule> {
    return tx.forwardingRule.upsert({
      where: { tenantId_mailboxId: { tenantId, mailboxId } },
      create: { tenantId, mailboxId, ...settings },
      update: settings,
    });
  }

  async remove(tx: Tx, tenantId: string, mailboxId: string): Promise<void> {
    await tx.forwardingRule.deleteMany({ where: { tenantId, mailboxId } });
  }
}
