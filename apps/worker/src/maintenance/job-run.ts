import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Db, Tx } from '@mailroom/db';
import { JobRunRepository } from './job-run.repository';

/** Rows a maintenance batch touches at most: one transaction, one short set of row locks. */
export const BATCH_SIZE = 1_000;

/** Prometheus counters of the maintenance jobs, by job name. */
export interface MaintenanceMetrics {
  examined: Counter<'job'>;
  deleted: Counter<'job' | 'table'>;
  bytesFreed: Counter<'job'>;
  seconds: Counter<'job'>;
  driftBytes: Counter<'job'>;
}

export function createMaintenanceMetrics(registry: Registry): MaintenanceMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    examined: counter('mailroom_maintenance_rows_examined_total', 'Rows a maintenance job examined', ['job']),
    deleted: counter('mailroom_maintenance_rows_deleted_total', 'Rows a maintenance job deleted', ['job', 'table']),
    bytesFreed: counter('mailroom_maintenance_bytes_freed_total', 'Message or blob bytes freed', ['job']),
    seconds: counter('mailroom_maintenance_duration_seconds_total', 'Time spent in maintenance jobs', ['job']),
    driftBytes: counter('mailroom_quota_drift_bytes_total', 'Absolute quota drift found and repaired', ['job']),
  };
}

/** What every maintenance job gets: the database, its counters and the BullMQ job (progress). */
export interface MaintenanceContext {
  prisma: Db;
  metrics: MaintenanceMetrics;
  logger?: Logger;
}

/** A run still marked running after this long died with its worker. */
const STALE_RUN_HOURS = 6;

export type RunStats = Record<string, number>;

/** The BullMQ job of a run, when there is one (tests call handlers with a stub). */
export type RunJob = Pick<Job, 'id' | 'progress' | 'updateProgress'> | undefined;

/** A recorded run: a job_runs row (tenant_id NULL) updated when the run ends. */
export interface Run {
  id: string;
  /** The BullMQ job id, kept in the stats of every row the run writes. */
  jobId: string | null;
  name: string;
  startedAt: Date;
  /** Reports progress to BullMQ; errors there never stop the run. */
  progress(data: Record<string, unknown>): Promise<void>;
  /** The progress an earlier, interrupted attempt of the same BullMQ job reported. */
  resumeFrom<T>(key: string): T | undefined;
}

/**
 * Runs `work` as one recorded run: a job_runs row while it runs, its stats when it ends, and the
 * counters. An earlier attempt of the same BullMQ job still marked running was interrupted (the
 * worker died); it is marked failed, and `resumeFrom` hands this attempt its last progress.
 */
export async function recordRun(
  ctx: MaintenanceContext,
  name: string,
  job: RunJob,
  work: (run: Run) => Promise<RunStats>,
): Promise<RunStats> {
  const jobId = typeof job?.id === 'string' ? job.id : null;
  const runs = new JobRunRepository(ctx.prisma);
  // Rows of this job still running belong to an attempt that died: the same BullMQ job tried
  // again, or one started so long ago that no live run can own it.
  await runs.failInterrupted(name, jobId, STALE_RUN_HOURS);
  const row = await runs.start(name, jobId);
  const previous = job && typeof job.progress === 'object' ? (job.progress as Record<string, unknown>) : {};
  const run: Run = {
    id: row.id,
    jobId,
    name,
    startedAt: row.startedAt,
    progress: async (data) => {
      if (typeof job?.updateProgress === 'function') await job.updateProgress(data).catch(() => undefined);
    },
    resumeFrom: <T>(key: string) => previous[key] as T | undefined,
  };
  const started = process.hrtime.bigint();
  try {
    const stats = await work(run);
    await runs.succeed(row.id, { ...stats, ...(jobId ? { jobId } : {}) });
    return stats;
  } catch (err) {
    await runs.fail(row.id, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  } finally {
    ctx.metrics.seconds.inc({ job: name }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/**
 * One audit entry per run and object (a mailbox, a domain, a tenant), however many batches the
 * run takes: the first batch inserts it, later ones add to its counts, each in the batch's own
 * transaction, so the entry always equals what was committed.
 */
export class RunAudit {
  private readonly entries = new Map<string, { id: string; counts: Record<string, number> }>();

  constructor(
    private readonly runId: string,
    private readonly action: string,
    private readonly targetType: string,
  ) {}

  async add(tx: Tx, tenantId: string, targetId: string, counts: Record<string, number>) {
    const known = this.entries.get(targetId);
    const total = { ...(known?.counts ?? {}) };
    for (const [k, v] of Object.entries(counts)) total[k] = (total[k] ?? 0) + v;
    const after = { runId: this.runId, ...total };
    const audits = new JobRunRepository(tx);
    if (known) {
      await audits.updateAudit(tenantId, known.id, after);
    } else {
      const id = await audits.insertAudit(tenantId, {
        action: this.action,
        targetType: this.targetType,
        targetId,
        after,
      });
      this.entries.set(targetId, { id, counts: total });
      return;
    }
    known.counts = total;
  }

  /** Forgets entries (after a tenant is done) so memory stays bounded by one tenant. */
  clear(): void {
    this.entries.clear();
  }
}
