import { Injectable } from '@nestjs/common';
import type { Tx } from '@mailroom/db';

export interface HoldColumns {
  legalHold: boolean;
  legalHoldReason: string | null;
  legalHoldSetBy: string | null;
  legalHoldSetAt: Date | null;
}

const HOLD = { legalHold: true, legalHoldReason: true, legalHoldSetBy: true, legalHoldSetAt: true } as const;

/** The legal hold columns of tenants and mailboxes. */
@Injectable()
export class LegalHoldRepository {
  tenantHold(tx: Tx, tenantId: string): Promise<HoldColumns> {
    return tx.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: HOLD });
  }

  setTenantHold(tx: Tx, tenantId: string, hold: HoldColumns): Promise<HoldColumns> {
    return tx.tenant.update({ where: { id: tenantId }, data: hold, select: HOLD });
  }

  setMailboxHold(tx: Tx, tenantId: string, mailboxId: string, hold: HoldColumns): Promise<HoldColumns> {
    return tx.mailbox.update({ where: { tenantId_id: { tenantId, id: mailboxId } }, data: hold, select: HOLD });
  }
}
