import { JobName } from '@mailroom/queue';
import type { Prisma } from '@mailroom/db';
import { BATCH_SIZE, recordRun, RunAudit, type MaintenanceContext, type Run, type RunJob } from './job-run';

type Tx = Prisma.TransactionClient;

const PAGE = 100;
const ZERO = '00000000-0000-0000-0000-000000000000';
const TX = { timeout: 60_000 };

/** Tenant tables too big for one transaction, children before parents (FK RESTRICT on blobs). */
const TENANT_TABLES = ['delivery_events', 'deliveries', 'outbound_messages', 'message_blobs', 'webhook_deliveries'];

export interface PurgeOptions {
  batchSize?: number;
  now?: Date;
}

interface Stats {
  mailboxes: number;
  domains: number;
  tenants: number;
  messagesDeleted: number;
  bytesFreed: number;
  rowsDeleted: number;
}

/**
 * Removes what the API marked deleted, never anything on legal hold (a held mailbox, or any
 * mailbox of a held tenant, stays, and so do its domain and tenant):
 * 1. tenants past their grace period (status deleted, purge_after passed): their domains are
 *    marked deleted; 2. deleted domains: their mailboxes are marked deleted; 3. deleted
 *    mailboxes: messages in batches (quota kept right), then the row, whose folders, filter
 *    and forwarding rules, vacation replies, policies and password go with it (cascade);
 *    4. deleted domains with no mailbox left: aliases in batches, then the row (DKIM keys and
 *    DNS checks cascade); 5. due tenants with no domain left: their big tables in batches,
 *    then the row. Every batch claims its rows with SKIP LOCKED and commits on its own.
 */
export async function runPurge(ctx: MaintenanceContext, job: RunJob, options: PurgeOptions = {}) {
  return recordRun(ctx, JobName.PurgeDeleted, job, async (run) => {
    const now = options.now ?? new Date();
    const batch = options.batchSize ?? BATCH_SIZE;
    const stats: Stats = { mailboxes: 0, domains: 0, tenants: 0, messagesDeleted: 0, bytesFreed: 0, rowsDeleted: 0 };
    await markDueTenants(ctx, now);
    await markDomainMailboxes(ctx, batch);
    await purgeMailboxes(ctx, run, batch, stats);
    await removeDomains(ctx, run, batch, stats);
    await removeTenants(ctx, run, now, batch, stats);
    return { ...stats };
  });
}

async function markDueTenants(ctx: MaintenanceContext, now: Date): Promise<void> {
  await ctx.prisma.$executeRaw`
    UPDATE domains d SET deleted_at = now(), status = 'suspended'
    FROM tenants t
    WHERE t.id = d.tenant_id AND d.deleted_at IS NULL
      AND t.status = 'deleted' AND t.purge_after <= ${now} AND t.legal_hold = false`;
}

/** Mailboxes of deleted domains become deleted mailboxes, 1,000 a transaction. */
async function markDomainMailboxes(ctx: MaintenanceContext, batch: number): Promise<void> {
  for (;;) {
    const marked = await ctx.prisma.$executeRaw`
      UPDATE mailboxes SET status = 'deleted', deleted_at = COALESCE(deleted_at, now()), updated_at = now()
      WHERE (tenant_id, id) IN (
        SELECT mb.tenant_id, mb.id FROM mailboxes mb
        JOIN domains d ON d.tenant_id = mb.tenant_id AND d.id = mb.domain_id
        JOIN tenants t ON t.id = mb.tenant_id
        WHERE d.deleted_at IS NOT NULL AND mb.status <> 'deleted' AND mb.legal_hold = false AND t.legal_hold = false
        LIMIT ${batch} FOR UPDATE OF mb SKIP LOCKED)`;
    if (marked < batch) return;
  }
}

async function purgeMailboxes(ctx: MaintenanceContext, run: Run, batch: number, stats: Stats): Promise<void> {
  const audit = new RunAudit(run.id, 'mailbox.purge', 'mailbox');
  let cursor = { tenant: ZERO, id: ZERO };
  for (;;) {
    const page = await ctx.prisma.$queryRaw<{ tenant_id: string; id: string }[]>`
      SELECT mb.tenant_id, mb.id FROM mailboxes mb JOIN tenants t ON t.id = mb.tenant_id
      WHERE mb.status = 'deleted' AND mb.legal_hold = false AND t.legal_hold = false
        AND (mb.tenant_id, mb.id) > (${cursor.tenant}::uuid, ${cursor.id}::uuid)
      ORDER BY mb.tenant_id, mb.id LIMIT ${PAGE}`;
    for (const m of page) {
      for (;;) {
        const step = await ctx.prisma.$transaction((tx) => purgeMailboxBatch(tx, m.tenant_id, m.id, batch, audit), TX);
        stats.messagesDeleted += step.messages;
        stats.bytesFreed += step.bytes;
        ctx.metrics.examined.inc({ job: JobName.PurgeDeleted }, step.messages);
        ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table: 'messages' }, step.messages);
        ctx.metrics.bytesFreed.inc({ job: JobName.PurgeDeleted }, step.bytes);
        if (step.state === 'removed') {
          stats.mailboxes++;
          ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table: 'mailboxes' });
        }
        if (step.state !== 'more') break;
      }
      cursor = { tenant: m.tenant_id, id: m.id };
      await run.progress({ phase: 'mailboxes', ...stats });
    }
    if (page.length < PAGE) return;
  }
}

/**
 * One batch of a deleted mailbox, with the mailbox row locked (another worker skips it) and the
 * hold re-checked under lock: a hold set meanwhile stops the purge.
 */
async function purgeMailboxBatch(tx: Tx, tenantId: string, mailboxId: string, batch: number, audit: RunAudit) {
  const none = { state: 'skipped' as 'skipped' | 'more' | 'removed', messages: 0, bytes: 0 };
  const claimed = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid
      AND status = 'deleted' AND legal_hold = false
    FOR UPDATE SKIP LOCKED`;
  if (claimed.length === 0 || (await tenantHeld(tx, tenantId))) return none;
  const deleted = await tx.$queryRaw<{ size: number }[]>`
    DELETE FROM messages WHERE (tenant_id, id) IN (
      SELECT tenant_id, id FROM messages WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid
      ORDER BY folder_id, received_at LIMIT ${batch})
    RETURNING size`;
  const bytes = deleted.reduce((sum, d) => sum + d.size, 0);
  if (deleted.length > 0) {
    await tx.$executeRaw`
      UPDATE mailboxes SET used_bytes = GREATEST(used_bytes - ${bytes}, 0),
        message_count = GREATEST(message_count - ${deleted.length}, 0)
      WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid`;
    await audit.add(tx, tenantId, mailboxId, { messages: deleted.length, bytes });
  }
  if (deleted.length === batch) return { state: 'more' as const, messages: deleted.length, bytes };
  // Sent mail keeps its delivery history; it only forgets which mailbox sent it.
  await tx.$executeRaw`
    UPDATE outbound_messages SET mailbox_id = NULL WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid`;
  await tx.$executeRaw`DELETE FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid`;
  await audit.add(tx, tenantId, mailboxId, { removed: 1 });
  return { state: 'removed' as const, messages: deleted.length, bytes };
}

async function tenantHeld(tx: Tx, tenantId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ legal_hold: boolean }[]>`
    SELECT legal_hold FROM tenants WHERE id = ${tenantId}::uuid FOR SHARE`;
  return rows[0]?.legal_hold !== false;
}

/** Deleted domains whose mailboxes are all gone: aliases in batches, then the domain. */
async function removeDomains(ctx: MaintenanceContext, run: Run, batch: number, stats: Stats): Promise<void> {
  const audit = new RunAudit(run.id, 'domain.purge', 'domain');
  // Domain aliases first: they reference their target (ON DELETE RESTRICT).
  const domains = await ctx.prisma.$queryRaw<{ tenant_id: string; id: string }[]>`
    SELECT d.tenant_id, d.id FROM domains d JOIN tenants t ON t.id = d.tenant_id
    WHERE d.deleted_at IS NOT NULL AND t.legal_hold = false
      AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.tenant_id = d.tenant_id AND mb.domain_id = d.id)
    ORDER BY (d.alias_of_id IS NULL), d.tenant_id, d.id`;
  for (const d of domains) {
    for (;;) {
      const step = await ctx.prisma.$transaction(async (tx) => {
        const claimed = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM domains WHERE tenant_id = ${d.tenant_id}::uuid AND id = ${d.id}::uuid AND deleted_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.tenant_id = ${d.tenant_id}::uuid AND mb.domain_id = ${d.id}::uuid)
            AND NOT EXISTS (SELECT 1 FROM domains a WHERE a.tenant_id = ${d.tenant_id}::uuid AND a.alias_of_id = ${d.id}::uuid)
          FOR UPDATE SKIP LOCKED`;
        if (claimed.length === 0 || (await tenantHeld(tx, d.tenant_id))) return 'skipped';
        const aliases = await tx.$executeRaw`
          DELETE FROM aliases WHERE ctid IN (
            SELECT ctid FROM aliases WHERE tenant_id = ${d.tenant_id}::uuid AND domain_id = ${d.id}::uuid LIMIT ${batch})`;
        stats.rowsDeleted += aliases;
        if (aliases > 0) await audit.add(tx, d.tenant_id, d.id, { aliases });
        if (aliases === batch) return 'more';
        await tx.$executeRaw`DELETE FROM domains WHERE tenant_id = ${d.tenant_id}::uuid AND id = ${d.id}::uuid`;
        await audit.add(tx, d.tenant_id, d.id, { removed: 1 });
        return 'removed';
      }, TX);
      if (step === 'removed') {
        stats.domains++;
        ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table: 'domains' });
      }
      if (step !== 'more') break;
    }
  }
  await run.progress({ phase: 'domains', ...stats });
}

/** Due tenants with no domain left: their big tables in batches, then the tenant row. */
async function removeTenants(ctx: MaintenanceContext, run: Run, now: Date, batch: number, stats: Stats) {
  const due = await ctx.prisma.$queryRaw<{ id: string }[]>`
    SELECT id FROM tenants t WHERE status = 'deleted' AND purge_after <= ${now} AND legal_hold = false
      AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.tenant_id = t.id)
      AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.tenant_id = t.id)
    ORDER BY id`;
  for (const { id } of due) {
    let rows = 0;
    const gone = await (async () => {
      for (const table of TENANT_TABLES) {
        for (;;) {
          const n = await ctx.prisma.$transaction(async (tx) => {
            if (!(await stillDue(tx, id, now, 'FOR SHARE'))) return -1;
            // Identifiers come from the constant list above, never from input.
            return tx.$executeRawUnsafe(
              `DELETE FROM "${table}" WHERE ctid IN (SELECT ctid FROM "${table}" WHERE tenant_id = $1::uuid LIMIT ${batch})`,
              id,
            );
          }, TX);
          if (n < 0) return false;
          rows += n;
          ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table }, n);
          if (n < batch) break;
        }
      }
      return ctx.prisma.$transaction(async (tx) => {
        if (!(await stillDue(tx, id, now, 'FOR UPDATE'))) return false;
        await tx.auditLog.create({
          data: {
            tenantId: id,
            actorType: 'system',
            actorLabel: 'maintenance worker',
            action: 'tenant.purge',
            targetType: 'tenant',
            targetId: id,
            after: { runId: run.id, rows },
          },
        });
        await tx.$executeRaw`DELETE FROM tenants WHERE id = ${id}::uuid`;
        return true;
      }, TX);
    })();
    stats.rowsDeleted += rows;
    if (gone) {
      stats.tenants++;
      ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table: 'tenants' });
    }
  }
  await run.progress({ phase: 'tenants', ...stats });
}

/** Locks the tenant and checks it is still deleted, past its grace and not held. */
async function stillDue(tx: Tx, id: string, now: Date, lock: 'FOR SHARE' | 'FOR UPDATE'): Promise<boolean> {
  const rows =
    lock === 'FOR SHARE'
      ? await tx.$queryRaw<{ ok: boolean }[]>`
          SELECT (status = 'deleted' AND purge_after <= ${now} AND legal_hold = false) AS ok
          FROM tenants WHERE id = ${id}::uuid FOR SHARE`
      : await tx.$queryRaw<{ ok: boolean }[]>`
          SELECT (status = 'deleted' AND purge_after <= ${now} AND legal_hold = false) AS ok
          FROM tenants WHERE id = ${id}::uuid FOR UPDATE`;
  return rows[0]?.ok === true;
}
