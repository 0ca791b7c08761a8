import { JobName } from '@mailroom/queue';
import { MailStore, type StoreTx } from '@mailroom/mailstore';
import { BATCH_SIZE, recordRun, RunAudit, type MaintenanceContext, type Run, type RunJob } from './job-run';
import { PurgeRepository, TENANT_TABLES, type TenantKey } from './purge.repository';

const PAGE = 100;
const ZERO = '00000000-0000-0000-0000-000000000000';
const TX_TIMEOUT_MS = 60_000;

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

/** The mail store for a deleted mailbox's messages, the repository for everything else. */
interface Deps {
  store: MailStore;
  repo: PurgeRepository;
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
  const deps: Deps = { store: new MailStore(ctx.prisma), repo: new PurgeRepository(ctx.prisma) };
  return recordRun(ctx, JobName.PurgeDeleted, job, async (run) => {
    const now = options.now ?? new Date();
    const batch = options.batchSize ?? BATCH_SIZE;
    const stats: Stats = { mailboxes: 0, domains: 0, tenants: 0, messagesDeleted: 0, bytesFreed: 0, rowsDeleted: 0 };
    await deps.repo.markDueTenantDomains(now);
    await markDomainMailboxes(deps, batch);
    await purgeMailboxes(ctx, deps, run, batch, stats);
    await removeDomains(ctx, deps, run, batch, stats);
    await removeTenants(ctx, deps, run, now, batch, stats);
    return { ...stats };
  });
}

/** Mailboxes of deleted domains become deleted mailboxes, 1,000 a transaction. */
async function markDomainMailboxes({ repo }: Deps, batch: number): Promise<void> {
  for (;;) {
    if ((await repo.markDomainMailboxes(batch)) < batch) return;
  }
}

async function purgeMailboxes(ctx: MaintenanceContext, deps: Deps, run: Run, batch: number, stats: Stats) {
  const audit = new RunAudit(run.id, 'mailbox.purge', 'mailbox');
  let cursor: TenantKey = { tenantId: ZERO, id: ZERO };
  for (;;) {
    const page = await deps.repo.deletedMailboxes(cursor, PAGE);
    for (const m of page) {
      for (;;) {
        const step = await deps.store.transaction((tx) => purgeMailboxBatch(deps, tx, m, batch, audit), {
          timeoutMs: TX_TIMEOUT_MS,
        });
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
      cursor = m;
      await run.progress({ phase: 'mailboxes', ...stats });
    }
    if (page.length < PAGE) return;
  }
}

/**
 * One batch of a deleted mailbox, with the mailbox row locked (another worker skips it) and the
 * hold re-checked under lock: a hold set meanwhile stops the purge. The messages go the mail
 * store's way (usage lowered, folders' modseq bumped), mailbox before folder as everywhere.
 */
async function purgeMailboxBatch({ store, repo }: Deps, tx: StoreTx, m: TenantKey, batch: number, audit: RunAudit) {
  const none = { state: 'skipped' as 'skipped' | 'more' | 'removed', messages: 0, bytes: 0 };
  const { tenantId, id: mailboxId } = m;
  if (!(await repo.claimDeletedMailbox(tx, tenantId, mailboxId)) || (await repo.tenantHeld(tx, tenantId))) return none;
  const deleted = await store.removeFromMailbox(tx, tenantId, mailboxId, batch);
  const bytes = deleted.reduce((sum, d) => sum + d.size, 0);
  if (deleted.length > 0) await audit.add(tx, tenantId, mailboxId, { messages: deleted.length, bytes });
  if (deleted.length === batch) return { state: 'more' as const, messages: deleted.length, bytes };
  // Sent mail keeps its delivery history; it only forgets which mailbox sent it.
  await repo.deleteMailbox(tx, tenantId, mailboxId);
  await audit.add(tx, tenantId, mailboxId, { removed: 1 });
  return { state: 'removed' as const, messages: deleted.length, bytes };
}

/** Deleted domains whose mailboxes are all gone: aliases in batches, then the domain. */
async function removeDomains(ctx: MaintenanceContext, { repo }: Deps, run: Run, batch: number, stats: Stats) {
  const audit = new RunAudit(run.id, 'domain.purge', 'domain');
  // Domain aliases first: they reference their target (ON DELETE RESTRICT).
  for (const d of await repo.emptyDeletedDomains()) {
    for (;;) {
      const step = await repo.transaction(async (tx) => {
        const claimed = await repo.claimEmptyDomain(tx, d.tenantId, d.id);
        if (!claimed || (await repo.tenantHeld(tx, d.tenantId))) return 'skipped';
        const aliases = await repo.deleteAliases(tx, d.tenantId, d.id, batch);
        stats.rowsDeleted += aliases;
        if (aliases > 0) await audit.add(tx, d.tenantId, d.id, { aliases });
        if (aliases === batch) return 'more';
        await repo.deleteDomain(tx, d.tenantId, d.id);
        await audit.add(tx, d.tenantId, d.id, { removed: 1 });
        return 'removed';
      }, TX_TIMEOUT_MS);
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
async function removeTenants(ctx: MaintenanceContext, deps: Deps, run: Run, now: Date, batch: number, stats: Stats) {
  for (const id of await deps.repo.dueEmptyTenants(now)) {
    const { gone, rows } = await removeTenant(ctx, deps, run, id, now, batch);
    stats.rowsDeleted += rows;
    if (gone) {
      stats.tenants++;
      ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table: 'tenants' });
    }
  }
  await run.progress({ phase: 'tenants', ...stats });
}

/** One tenant: each big table in batches while it is still due (FOR SHARE), then the row (FOR UPDATE). */
async function removeTenant(ctx: MaintenanceContext, { repo }: Deps, run: Run, id: string, now: Date, batch: number) {
  let rows = 0;
  for (const table of TENANT_TABLES) {
    for (;;) {
      const n = await repo.transaction(async (tx) => {
        if (!(await repo.stillDue(tx, id, now, 'FOR SHARE'))) return -1;
        return repo.deleteTenantRows(tx, id, table, batch);
      }, TX_TIMEOUT_MS);
      if (n < 0) return { gone: false, rows };
      rows += n;
      ctx.metrics.deleted.inc({ job: JobName.PurgeDeleted, table }, n);
      if (n < batch) break;
    }
  }
  const gone = await repo.transaction(async (tx) => {
    if (!(await repo.stillDue(tx, id, now, 'FOR UPDATE'))) return false;
    await repo.deleteTenant(tx, id, run.id, rows);
    return true;
  }, TX_TIMEOUT_MS);
  return { gone, rows };
}
