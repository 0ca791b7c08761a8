import type { Prisma, PrismaClient } from '@mailroom/db';

type Tx = Prisma.TransactionClient;

/** A tenant-owned row's key. */
export interface TenantKey {
  tenantId: string;
  id: string;
}

/** Tenant tables too big for one transaction, children before parents (FK RESTRICT on blobs). */
export const TENANT_TABLES = [
  'delivery_events',
  'deliveries',
  'outbound_messages',
  'message_blobs',
  'webhook_deliveries',
] as const;

export type TenantTable = (typeof TENANT_TABLES)[number];

/**
 * The purge's reads, locks and deletes of what is not mail: tenants, domains, aliases,
 * mailbox rows and their holds. A deleted mailbox's messages go through the mail store.
 */
export class PurgeRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** One batch's transaction: short, so a backlog never holds its locks for long. */
  transaction<T>(work: (tx: Tx) => Promise<T>, timeoutMs: number): Promise<T> {
    return this.prisma.$transaction(work, { timeout: timeoutMs });
  }

  /** Domains of tenants past their grace period (deleted, purge_after passed, not held) become deleted. */
  async markDueTenantDomains(now: Date): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE domains d SET deleted_at = now(), status = 'suspended'
      FROM tenants t
      WHERE t.id = d.tenant_id AND d.deleted_at IS NULL
        AND t.status = 'deleted' AND t.purge_after <= ${now} AND t.legal_hold = false`;
  }

  /** Up to `limit` mailboxes of deleted domains (not held, SKIP LOCKED) marked deleted; returns how many. */
  markDomainMailboxes(limit: number): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE mailboxes SET status = 'deleted', deleted_at = COALESCE(deleted_at, now()), updated_at = now()
      WHERE (tenant_id, id) IN (
        SELECT mb.tenant_id, mb.id FROM mailboxes mb
        JOIN domains d ON d.tenant_id = mb.tenant_id AND d.id = mb.domain_id
        JOIN tenants t ON t.id = mb.tenant_id
        WHERE d.deleted_at IS NOT NULL AND mb.status <> 'deleted' AND mb.legal_hold = false AND t.legal_hold = false
        LIMIT ${limit} FOR UPDATE OF mb SKIP LOCKED)`;
  }

  /** Deleted mailboxes, neither they nor their tenant held, after `after` in (tenant, id) order. */
  async deletedMailboxes(after: TenantKey, limit: number): Promise<TenantKey[]> {
    const rows = await this.prisma.$queryRaw<{ tenant_id: string; id: string }[]>`
      SELECT mb.tenant_id::text, mb.id::text FROM mailboxes mb JOIN tenants t ON t.id = mb.tenant_id
      WHERE mb.status = 'deleted' AND mb.legal_hold = false AND t.legal_hold = false
        AND (mb.tenant_id, mb.id) > (${after.tenantId}::uuid, ${after.id}::uuid)
      ORDER BY mb.tenant_id, mb.id LIMIT ${limit}`;
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  }

  /**
   * Locks a mailbox that is still deleted and not held (FOR UPDATE SKIP LOCKED: another worker
   * purging it makes this one skip it); false when there is none to claim.
   */
  async claimDeletedMailbox(tx: Tx, tenantId: string, mailboxId: string): Promise<boolean> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid
        AND status = 'deleted' AND legal_hold = false
      FOR UPDATE SKIP LOCKED`;
    return rows.length > 0;
  }

  /** Locks the tenant row FOR SHARE and says whether it is on legal hold (or gone). */
  async tenantHeld(tx: Tx, tenantId: string): Promise<boolean> {
    const rows = await tx.$queryRaw<{ legal_hold: boolean }[]>`
      SELECT legal_hold FROM tenants WHERE id = ${tenantId}::uuid FOR SHARE`;
    return rows[0]?.legal_hold !== false;
  }

  /** Removes an emptied mailbox row; sent mail keeps its delivery history, without the mailbox. */
  async deleteMailbox(tx: Tx, tenantId: string, mailboxId: string): Promise<void> {
    await tx.$executeRaw`
      UPDATE outbound_messages SET mailbox_id = NULL WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid`;
    await tx.$executeRaw`DELETE FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid`;
  }

  /**
   * Deleted domains of tenants not held that have no mailbox left, domain aliases first: they
   * reference their target (ON DELETE RESTRICT).
   */
  async emptyDeletedDomains(): Promise<TenantKey[]> {
    const rows = await this.prisma.$queryRaw<{ tenant_id: string; id: string }[]>`
      SELECT d.tenant_id::text, d.id::text FROM domains d JOIN tenants t ON t.id = d.tenant_id
      WHERE d.deleted_at IS NOT NULL AND t.legal_hold = false
        AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.tenant_id = d.tenant_id AND mb.domain_id = d.id)
      ORDER BY (d.alias_of_id IS NULL), d.tenant_id, d.id`;
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  }

  /** Locks a deleted domain with no mailbox and no domain alias left (SKIP LOCKED); false when none. */
  async claimEmptyDomain(tx: Tx, tenantId: string, domainId: string): Promise<boolean> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM domains WHERE tenant_id = ${tenantId}::uuid AND id = ${domainId}::uuid AND deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.tenant_id = ${tenantId}::uuid AND mb.domain_id = ${domainId}::uuid)
        AND NOT EXISTS (SELECT 1 FROM domains a WHERE a.tenant_id = ${tenantId}::uuid AND a.alias_of_id = ${domainId}::uuid)
      FOR UPDATE SKIP LOCKED`;
    return rows.length > 0;
  }

  /** Up to `limit` aliases of a domain deleted; returns how many. */
  deleteAliases(tx: Tx, tenantId: string, domainId: string, limit: number): Promise<number> {
    return tx.$executeRaw`
      DELETE FROM aliases WHERE ctid IN (
        SELECT ctid FROM aliases WHERE tenant_id = ${tenantId}::uuid AND domain_id = ${domainId}::uuid LIMIT ${limit})`;
  }

  /** The domain row; its DKIM keys and DNS checks cascade. */
  async deleteDomain(tx: Tx, tenantId: string, domainId: string): Promise<void> {
    await tx.$executeRaw`DELETE FROM domains WHERE tenant_id = ${tenantId}::uuid AND id = ${domainId}::uuid`;
  }

  /** Tenants past their grace period, not held, with no domain and no mailbox left. */
  async dueEmptyTenants(now: Date): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM tenants t WHERE status = 'deleted' AND purge_after <= ${now} AND legal_hold = false
        AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.tenant_id = t.id)
        AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.tenant_id = t.id)
      ORDER BY id`;
    return rows.map((r) => r.id);
  }

  /** Locks the tenant and checks it is still deleted, past its grace and not held. */
  async stillDue(tx: Tx, tenantId: string, now: Date, lock: 'FOR SHARE' | 'FOR UPDATE'): Promise<boolean> {
    const rows =
      lock === 'FOR SHARE'
        ? await tx.$queryRaw<{ ok: boolean }[]>`
            SELECT (status = 'deleted' AND purge_after <= ${now} AND legal_hold = false) AS ok
            FROM tenants WHERE id = ${tenantId}::uuid FOR SHARE`
        : await tx.$queryRaw<{ ok: boolean }[]>`
            SELECT (status = 'deleted' AND purge_after <= ${now} AND legal_hold = false) AS ok
            FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
    return rows[0]?.ok === true;
  }

  /** Up to `limit` of the tenant's rows of one big table deleted; returns how many. */
  deleteTenantRows(tx: Tx, tenantId: string, table: TenantTable, limit: number): Promise<number> {
    // Identifiers come from the constant list above, never from input.
    return tx.$executeRawUnsafe(
      `DELETE FROM "${table}" WHERE ctid IN (SELECT ctid FROM "${table}" WHERE tenant_id = $1::uuid LIMIT ${limit})`,
      tenantId,
    );
  }

  /** The tenant row, after an audit entry (kept: audit rows outlive their tenant) with the run's counts. */
  async deleteTenant(tx: Tx, tenantId: string, runId: string, rows: number): Promise<void> {
    await tx.auditLog.create({
      data: {
        tenantId,
        actorType: 'system',
        actorLabel: 'maintenance worker',
        action: 'tenant.purge',
        targetType: 'tenant',
        targetId: tenantId,
        after: { runId, rows },
      },
    });
    await tx.$executeRaw`DELETE FROM tenants WHERE id = ${tenantId}::uuid`;
  }
}
