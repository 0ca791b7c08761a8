import type { Prisma, PrismaClient } from '@mailroom/db';

type Tx = Prisma.TransactionClient;

/** A folder with a maximum age: mail received more than `days` ago goes. */
export interface RetentionTarget {
  mailboxId: string;
  folderId: string;
  kind: string;
  days: number;
}

/** What one tenant's part of a run deleted so far; kept in the tenant's job_runs row. */
// A type, not an interface: it must fit Prisma's JSON input, which needs an index signature.
export type TenantRunStats = {
  runId: string;
  jobId: string | null;
  messagesDeleted: number;
  bytesFreed: number;
  mailboxes: number;
  byFolderKind: Record<string, { messages: number; bytes: number }>;
};

/**
 * Retention's reads and locks of what is not mail: tenants, legal holds, policies and the
 * per-tenant job_runs rows. The messages themselves go through the mail store.
 */
export class RetentionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Tenants after `after` in id order that are neither on legal hold nor deleted. */
  async openTenants(after: string, limit: number): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM tenants WHERE id > ${after}::uuid AND legal_hold = false AND status <> 'deleted'
      ORDER BY id LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }

  /**
   * The next page of the tenant's folders that have a maximum age, in (mailbox, folder) order:
   * the mailbox's policy, else the tenant's, else `defaults` by folder kind. Mailboxes on hold
   * or deleted are left out.
   */
  async targetFolders(
    tenantId: string,
    after: { mailboxId: string; folderId: string },
    limit: number,
    defaults: Record<string, number>,
  ): Promise<RetentionTarget[]> {
    const rows = await this.prisma.$queryRaw<{ mailbox_id: string; folder_id: string; kind: string; days: number }[]>`
      SELECT f.mailbox_id::text, f.id::text AS folder_id, f.kind::text AS kind,
        COALESCE(mp.days, tp.days, d.days)::int AS days
      FROM folders f
      JOIN mailboxes mb ON mb.tenant_id = f.tenant_id AND mb.id = f.mailbox_id
      LEFT JOIN retention_policies mp
        ON mp.tenant_id = f.tenant_id AND mp.mailbox_id = f.mailbox_id AND mp.folder_kind = f.kind
      LEFT JOIN retention_policies tp
        ON tp.tenant_id = f.tenant_id AND tp.mailbox_id IS NULL AND tp.folder_kind = f.kind
      LEFT JOIN unnest(${Object.keys(defaults)}::text[], ${Object.values(defaults)}::int[]) AS d(kind, days)
        ON d.kind = f.kind::text
      WHERE f.tenant_id = ${tenantId}::uuid AND mb.legal_hold = false AND mb.status <> 'deleted'
        AND (f.mailbox_id, f.id) > (${after.mailboxId}::uuid, ${after.folderId}::uuid)
        AND COALESCE(mp.days, tp.days, d.days) IS NOT NULL
      ORDER BY f.mailbox_id, f.id
      LIMIT ${limit}`;
    return rows.map((r) => ({ mailboxId: r.mailbox_id, folderId: r.folder_id, kind: r.kind, days: r.days }));
  }

  /**
   * Locks the tenant row FOR SHARE and says whether retention may delete its mail (not on
   * hold, not deleted). Setting a hold through the API waits for this transaction.
   */
  async lockTenantOpen(tx: Tx, tenantId: string): Promise<boolean> {
    const [tenant] = await tx.$queryRaw<{ legal_hold: boolean; status: string }[]>`
      SELECT legal_hold, status::text FROM tenants WHERE id = ${tenantId}::uuid FOR SHARE`;
    return !!tenant && !tenant.legal_hold && tenant.status !== 'deleted';
  }

  /**
   * Locks the given mailboxes that are neither on hold nor deleted (FOR NO KEY UPDATE, in id
   * order) and returns their ids; the others are left out and unlocked.
   */
  async lockOpenMailboxes(tx: Tx, tenantId: string, mailboxIds: string[]): Promise<Set<string>> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${mailboxIds}::uuid[])
        AND legal_hold = false AND status <> 'deleted'
      ORDER BY id FOR NO KEY UPDATE`;
    return new Set(rows.map((r) => r.id));
  }

  /** Writes the tenant's job_runs row of this run (creates it the first time); returns its id. */
  async saveTenantRun(
    tx: Tx,
    tenantId: string,
    name: string,
    rowId: string | null,
    stats: TenantRunStats,
  ): Promise<string> {
    if (rowId) {
      await tx.jobRun.updateMany({ where: { id: rowId, tenantId }, data: { stats } });
      return rowId;
    }
    const row = await tx.jobRun.create({
      data: { name, tenantId, status: 'running', stats },
      select: { id: true },
    });
    return row.id;
  }

  /** Marks the tenant's job_runs row of this run succeeded. */
  async finishTenantRun(tenantId: string, rowId: string): Promise<void> {
    await this.prisma.jobRun.updateMany({
      where: { id: rowId, tenantId },
      data: { status: 'succeeded', finishedAt: new Date() },
    });
  }
}
