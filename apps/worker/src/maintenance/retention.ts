import { JobName } from '@mailroom/queue';
import type { Prisma } from '@mailroom/db';
import { BATCH_SIZE, recordRun, RunAudit, type MaintenanceContext, type Run, type RunJob } from './job-run';

type Tx = Prisma.TransactionClient;

/**
 * Days kept when no policy row exists. The same defaults as the retention policy API
 * (apps/api/src/retention/retention.dto.ts DEFAULT_DAYS); both should move to libs/core.
 */
export const DEFAULT_RETENTION_DAYS: Record<string, number> = { trash: 30, junk: 30 };

const TENANT_PAGE = 100;

export interface RetentionOptions {
  batchSize?: number;
  /** The run's clock: mail received before now - days goes. */
  now?: Date;
}

interface Target {
  mailbox_id: string;
  folder_id: string;
  kind: string;
  days: number;
}

interface Victim {
  id: string;
  mailbox_id: string;
  folder_id: string;
  size: number;
}

/** What one tenant's part of a run deleted; kept in the tenant's job_runs row. */
interface TenantTally {
  runRowId: string | null;
  messages: number;
  bytes: number;
  mailboxes: Set<string>;
  byFolderKind: Record<string, { messages: number; bytes: number }>;
}

/**
 * The retention job: for every tenant and mailbox not on legal hold, deletes messages older
 * than their folder's policy (mailbox override, else tenant policy, else 30 days for Trash
 * and Junk). Batches of `batchSize` messages, each its own transaction that also lowers the
 * mailbox's quota, adds to the run's audit entry for the mailbox and to the tenant's job_runs
 * row; so a killed run leaves consistent, recorded progress and the next run finishes the work.
 */
export async function runRetention(ctx: MaintenanceContext, job: RunJob, options: RetentionOptions = {}) {
  return recordRun(ctx, JobName.RetentionRun, job, async (run) => {
    const now = options.now ?? new Date();
    const batch = options.batchSize ?? BATCH_SIZE;
    const totals = { tenants: 0, messagesExamined: 0, messagesDeleted: 0, bytesFreed: 0 };
    let cursor = run.resumeFrom<string>('tenantCursor') ?? '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const tenants = await ctx.prisma.$queryRaw<{ id: string }[]>`
        SELECT id FROM tenants WHERE id > ${cursor}::uuid AND legal_hold = false AND status <> 'deleted'
        ORDER BY id LIMIT ${TENANT_PAGE}`;
      for (const { id } of tenants) {
        const tally = await retainTenant(ctx, run, id, now, batch);
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

async function retainTenant(ctx: MaintenanceContext, run: Run, tenantId: string, now: Date, batch: number) {
  const audit = new RunAudit(run.id, 'retention.purge', 'mailbox');
  const tally: TenantTally = { runRowId: null, messages: 0, bytes: 0, mailboxes: new Set(), byFolderKind: {} };
  let examined = 0;
  let after = { mailbox: '00000000-0000-0000-0000-000000000000', folder: '00000000-0000-0000-0000-000000000000' };
  for (;;) {
    const page = await targetFolders(ctx, tenantId, after, batch);
    if (page.length === 0) break;
    const last = page[page.length - 1]!;
    after = { mailbox: last.mailbox_id, folder: last.folder_id };
    let targets = page;
    while (targets.length > 0) {
      const outcome = await ctx.prisma.$transaction(
        (tx) => deleteBatch(tx, { tenantId, targets, now, batch, audit, tally, run }),
        { timeout: 60_000 },
      );
      examined += outcome.examined;
      ctx.metrics.examined.inc({ job: JobName.RetentionRun }, outcome.examined);
      ctx.metrics.deleted.inc({ job: JobName.RetentionRun, table: 'messages' }, outcome.deleted);
      ctx.metrics.bytesFreed.inc({ job: JobName.RetentionRun }, outcome.bytes);
      if (outcome.tenantHeld) break;
      if (outcome.examined === 0) break;
      // A mailbox put on hold meanwhile keeps its mail: stop looking at its folders.
      targets = targets.filter((t) => !outcome.heldMailboxes.has(t.mailbox_id));
    }
    if (page.length < batch) break;
  }
  if (tally.runRowId) {
    await ctx.prisma.jobRun.update({
      where: { id: tally.runRowId },
      data: { status: 'succeeded', finishedAt: new Date() },
    });
  }
  audit.clear();
  return { examined, ...tally };
}

/** The next page of the tenant's folders that have a maximum age, in (mailbox, folder) order. */
function targetFolders(
  ctx: MaintenanceContext,
  tenantId: string,
  after: { mailbox: string; folder: string },
  limit: number,
): Promise<Target[]> {
  const kinds = Object.keys(DEFAULT_RETENTION_DAYS);
  const days = Object.values(DEFAULT_RETENTION_DAYS);
  return ctx.prisma.$queryRaw<Target[]>`
    SELECT f.mailbox_id, f.id AS folder_id, f.kind::text AS kind,
      COALESCE(mp.days, tp.days, d.days)::int AS days
    FROM folders f
    JOIN mailboxes mb ON mb.tenant_id = f.tenant_id AND mb.id = f.mailbox_id
    LEFT JOIN retention_policies mp
      ON mp.tenant_id = f.tenant_id AND mp.mailbox_id = f.mailbox_id AND mp.folder_kind = f.kind
    LEFT JOIN retention_policies tp
      ON tp.tenant_id = f.tenant_id AND tp.mailbox_id IS NULL AND tp.folder_kind = f.kind
    LEFT JOIN unnest(${kinds}::text[], ${days}::int[]) AS d(kind, days) ON d.kind = f.kind::text
    WHERE f.tenant_id = ${tenantId}::uuid AND mb.legal_hold = false AND mb.status <> 'deleted'
      AND (f.mailbox_id, f.id) > (${after.mailbox}::uuid, ${after.folder}::uuid)
      AND COALESCE(mp.days, tp.days, d.days) IS NOT NULL
    ORDER BY f.mailbox_id, f.id
    LIMIT ${limit}`;
}

interface BatchInput {
  tenantId: string;
  targets: Target[];
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
 * batch after it deletes anything, so a hold is a barrier.
 */
async function deleteBatch(tx: Tx, input: BatchInput) {
  const { tenantId, targets, now, batch } = input;
  const cutoffs = targets.map((t) => new Date(now.getTime() - t.days * 86_400_000).toISOString());
  const victims = await tx.$queryRaw<Victim[]>`
    WITH t AS (
      SELECT * FROM unnest(${targets.map((t) => t.folder_id)}::uuid[], ${targets.map((t) => t.mailbox_id)}::uuid[],
        ${cutoffs}::timestamptz[]) AS t(folder_id, mailbox_id, cutoff))
    SELECT v.id, v.mailbox_id, v.folder_id, v.size FROM t CROSS JOIN LATERAL (
      SELECT m.id, m.mailbox_id, m.folder_id, m.size FROM messages m
      WHERE m.tenant_id = ${tenantId}::uuid AND m.mailbox_id = t.mailbox_id AND m.folder_id = t.folder_id
        AND m.received_at < t.cutoff
      ORDER BY m.received_at LIMIT ${batch}
      FOR UPDATE SKIP LOCKED) v
    LIMIT ${batch}`;
  const result = {
    examined: victims.length,
    deleted: 0,
    bytes: 0,
    tenantHeld: false,
    heldMailboxes: new Set<string>(),
  };
  if (victims.length === 0) return result;
  const [tenant] = await tx.$queryRaw<{ legal_hold: boolean; status: string }[]>`
    SELECT legal_hold, status::text FROM tenants WHERE id = ${tenantId}::uuid FOR SHARE`;
  if (!tenant || tenant.legal_hold || tenant.status === 'deleted') return { ...result, tenantHeld: true };
  const mailboxIds = [...new Set(victims.map((v) => v.mailbox_id))].sort();
  const open = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${mailboxIds}::uuid[])
      AND legal_hold = false AND status <> 'deleted'
    ORDER BY id FOR NO KEY UPDATE`;
  const allowed = new Set(open.map((m) => m.id));
  for (const id of mailboxIds) if (!allowed.has(id)) result.heldMailboxes.add(id);
  const ids = victims.filter((v) => allowed.has(v.mailbox_id)).map((v) => v.id);
  const deleted = await tx.$queryRaw<Victim[]>`
    DELETE FROM messages WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${ids}::uuid[])
    RETURNING id, mailbox_id, folder_id, size`;
  await applyDeletion(tx, input, deleted);
  result.deleted = deleted.length;
  result.bytes = deleted.reduce((sum, d) => sum + d.size, 0);
  return result;
}

/** Quota, audit entries and the tenant's run row for the rows one batch deleted. */
async function applyDeletion(tx: Tx, input: BatchInput, deleted: Victim[]): Promise<void> {
  if (deleted.length === 0) return;
  const { tenantId, targets, tally, audit } = input;
  const perMailbox = new Map<string, { messages: number; bytes: number }>();
  const kindOf = new Map(targets.map((t) => [t.folder_id, t.kind]));
  for (const d of deleted) {
    const m = perMailbox.get(d.mailbox_id) ?? { messages: 0, bytes: 0 };
    m.messages++;
    m.bytes += d.size;
    perMailbox.set(d.mailbox_id, m);
    const kind = kindOf.get(d.folder_id) ?? 'custom';
    const k = (tally.byFolderKind[kind] ??= { messages: 0, bytes: 0 });
    k.messages++;
    k.bytes += d.size;
  }
  const ids = [...perMailbox.keys()].sort();
  await tx.$executeRaw`
    UPDATE mailboxes mb SET
      used_bytes = GREATEST(mb.used_bytes - d.bytes, 0),
      message_count = GREATEST(mb.message_count - d.n, 0),
      updated_at = now()
    FROM unnest(${ids}::uuid[], ${ids.map((id) => perMailbox.get(id)!.bytes)}::bigint[],
      ${ids.map((id) => perMailbox.get(id)!.messages)}::int[]) AS d(id, bytes, n)
    WHERE mb.tenant_id = ${tenantId}::uuid AND mb.id = d.id`;
  for (const id of ids) {
    await audit.add(tx, tenantId, id, perMailbox.get(id)!);
    tally.mailboxes.add(id);
  }
  tally.messages += deleted.length;
  tally.bytes += deleted.reduce((sum, d) => sum + d.size, 0);
  const stats = {
    runId: input.run.id,
    jobId: input.run.jobId,
    messagesDeleted: tally.messages,
    bytesFreed: tally.bytes,
    mailboxes: tally.mailboxes.size,
    byFolderKind: tally.byFolderKind,
  };
  if (tally.runRowId) {
    await tx.jobRun.update({ where: { id: tally.runRowId }, data: { stats } });
  } else {
    const row = await tx.jobRun.create({
      data: { name: JobName.RetentionRun, tenantId, status: 'running', stats },
      select: { id: true },
    });
    tally.runRowId = row.id;
  }
}
