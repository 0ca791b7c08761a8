import { JobName } from '@mailroom/queue';
import { MailStore, type ClaimedMessage, type StoreTx } from '@mailroom/mailstore';
import { BATCH_SIZE, recordRun, RunAudit, type MaintenanceContext, type Run, type RunJob } from './job-run';
import { RetentionRepository, type RetentionTarget } from './retention.repository';

/**
 * Days kept when no policy row exists. The same defaults as the retention policy API
 * (apps/api/src/retention/retention.dto.ts DEFAULT_DAYS); both should move to libs/core.
 */
export const DEFAULT_RETENTION_DAYS: Record<string, number> = { trash: 30, junk: 30 };

const TENANT_PAGE = 100;
const ZERO = '00000000-0000-0000-0000-000000000000';

export interface RetentionOptions {
  batchSize?: number;
  /** The run's clock: mail received before now - days goes. */
  now?: Date;
}

/** What one tenant's part of a run deleted; kept in the tenant's job_runs row. */
interface TenantTally {
  runRowId: string | null;
  messages: number;
  bytes: number;
  mailboxes: Set<string>;
  byFolderKind: Record<string, { messages: number; bytes: number }>;
}

/** The mail store for the messages, the repository for tenants, holds, policies and run rows. */
interface Deps {
  store: MailStore;
  repo: RetentionRepository;
}

/**
 * The retention job: for every tenant and mailbox not on legal hold, deletes messages older
 * than their folder's policy (mailbox override, else tenant policy, else 30 days for Trash
 * and Junk). Batches of `batchSize` messages, each its own transaction that also lowers the
 * mailbox's quota, adds to the run's audit entry for the mailbox and to the tenant's job_runs
 * row; so a killed run leaves consistent, recorded progress and the next run finishes the work.
 */
export async function runRetention(ctx: MaintenanceContext, job: RunJob, options: RetentionOptions = {}) {
  const deps: Deps = { store: new MailStore(ctx.prisma), repo: new RetentionRepository(ctx.prisma) };
  return recordRun(ctx, JobName.RetentionRun, job, async (run) => {
    const now = options.now ?? new Date();
    const batch = options.batchSize ?? BATCH_SIZE;
    const totals = { tenants: 0, messagesExamined: 0, messagesDeleted: 0, bytesFreed: 0 };
    let cursor = run.resumeFrom<string>('tenantCursor') ?? ZERO;
    for (;;) {
      const tenants = await deps.repo.openTenants(cursor, TENANT_PAGE);
      for (const id of tenants) {
        const tally = await retainTenant(ctx, deps, run, id, now, batch);
        totals.tenants++;
        totals.messagesExamined += tally.examined;
        totals.messagesDeleted += tally.messages;
        totals.bytesFreed += tally.bytes;
        cursor = id;
        await run.progress({ tenantCursor: cursor, ...totals });
      }
      if (tenants.length < TENANT_PAGE) return totals;
    }
  });
}

async function retainTenant(ctx: MaintenanceContext, deps: Deps, run: Run, tenantId: string, now: Date, batch: number) {
  const audit = new RunAudit(run.id, 'retention.purge', 'mailbox');
  const tally: TenantTally = { runRowId: null, messages: 0, bytes: 0, mailboxes: new Set(), byFolderKind: {} };
  let examined = 0;
  let after = { mailboxId: ZERO, folderId: ZERO };
  for (;;) {
    const page = await deps.repo.targetFolders(tenantId, after, batch, DEFAULT_RETENTION_DAYS);
    if (page.length === 0) break;
    const last = page[page.length - 1]!;
    after = { mailboxId: last.mailboxId, folderId: last.folderId };
    let targets = page;
    while (targets.length > 0) {
      const input: BatchInput = { tenantId, targets, now, batch, audit, tally, run };
      const outcome = await deps.store.transaction((tx) => deleteBatch(deps, tx, input), { timeoutMs: 60_000 });
      examined += outcome.examined;
      ctx.metrics.examined.inc({ job: JobName.RetentionRun }, outcome.examined);
      ctx.metrics.deleted.inc({ job: JobName.RetentionRun, table: 'messages' }, outcome.deleted);
      ctx.metrics.bytesFreed.inc({ job: JobName.RetentionRun }, outcome.bytes);
      if (outcome.tenantHeld) break;
      if (outcome.examined === 0) break;
      // A mailbox put on hold meanwhile keeps its mail: stop looking at its folders.
      targets = targets.filter((t) => !outcome.heldMailboxes.has(t.mailboxId));
    }
    if (page.length < batch) break;
  }
  if (tally.runRowId) await deps.repo.finishTenantRun(tenantId, tally.runRowId);
  audit.clear();
  return { examined, ...tally };
}

interface BatchInput {
  tenantId: string;
  targets: RetentionTarget[];
  now: Date;
  batch: number;
  audit: RunAudit;
  tally: TenantTally;
  run: Run;
}

/**
 * One batch in one transaction. Messages are claimed with FOR UPDATE SKIP LOCKED, so a second
 * worker running at the same time takes other rows and each message is deleted (and counted
 * off the quota) exactly once. Then the tenant row FOR SHARE and the mailbox rows FOR NO KEY
 * UPDATE, re-checking the legal hold: a hold set through the API waits for this batch, and no
 * batch after it deletes anything, so a hold is a barrier. The mail store's delete then lowers
 * the (already locked) mailboxes' usage and gives their folders a new modseq: mailbox before
 * folder, the lock order of every writer.
 */
async function deleteBatch({ store, repo }: Deps, tx: StoreTx, input: BatchInput) {
  const { tenantId, targets, now, batch } = input;
  const expiry = targets.map((t) => ({
    mailboxId: t.mailboxId,
    folderId: t.folderId,
    cutoff: new Date(now.getTime() - t.days * 86_400_000),
  }));
  const victims = await store.claimExpired(tx, tenantId, expiry, batch);
  const result = {
    examined: victims.length,
    deleted: 0,
    bytes: 0,
    tenantHeld: false,
    heldMailboxes: new Set<string>(),
  };
  if (victims.length === 0) return result;
  if (!(await repo.lockTenantOpen(tx, tenantId))) return { ...result, tenantHeld: true };
  const mailboxIds = [...new Set(victims.map((v) => v.mailboxId))].sort();
  const allowed = await repo.lockOpenMailboxes(tx, tenantId, mailboxIds);
  for (const id of mailboxIds) if (!allowed.has(id)) result.heldMailboxes.add(id);
  const ids = victims.filter((v) => allowed.has(v.mailboxId)).map((v) => v.id);
  const removed = await store.remove(tx, tenantId, ids);
  const deleted: ClaimedMessage[] = removed.map((d) => ({
    id: d.id,
    mailboxId: d.mailbox_id,
    folderId: d.folder_id,
    size: d.size,
  }));
  await applyDeletion(repo, tx, input, deleted);
  result.deleted = deleted.length;
  result.bytes = deleted.reduce((sum, d) => sum + d.size, 0);
  return result;
}

/** Audit entries and the tenant's run row for the rows one batch deleted (the store kept usage right). */
async function applyDeletion(repo: RetentionRepository, tx: StoreTx, input: BatchInput, deleted: ClaimedMessage[]) {
  if (deleted.length === 0) return;
  const { tenantId, targets, tally, audit } = input;
  const perMailbox = new Map<string, { messages: number; bytes: number }>();
  const kindOf = new Map(targets.map((t) => [t.folderId, t.kind]));
  for (const d of deleted) {
    const m = perMailbox.get(d.mailboxId) ?? { messages: 0, bytes: 0 };
    m.messages++;
    m.bytes += d.size;
    perMailbox.set(d.mailboxId, m);
    const kind = kindOf.get(d.folderId) ?? 'custom';
    const k = (tally.byFolderKind[kind] ??= { messages: 0, bytes: 0 });
    k.messages++;
    k.bytes += d.size;
  }
  for (const id of [...perMailbox.keys()].sort()) {
    await audit.add(tx, tenantId, id, perMailbox.get(id)!);
    tally.mailboxes.add(id);
  }
  tally.messages += deleted.length;
  tally.bytes += deleted.reduce((sum, d) => sum + d.size, 0);
  tally.runRowId = await repo.saveTenantRun(tx, tenantId, JobName.RetentionRun, tally.runRowId, {
    runId: input.run.id,
    jobId: input.run.jobId,
    messagesDeleted: tally.messages,
    bytesFreed: tally.bytes,
    mailboxes: tally.mailboxes.size,
    byFolderKind: tally.byFolderKind,
  });
}
