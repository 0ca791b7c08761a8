import type { Prisma, PrismaClient } from '@mailroom/db';

/** The client a method runs on: the pool, or the caller's transaction. */
type Db = PrismaClient | Prisma.TransactionClient;

/** Writes of maintenance runs (job_runs rows with tenant_id NULL) and their audit entries. */
export class JobRunRepository {
  constructor(private readonly db: Db) {}

  /**
   * Marks failed the runs of `name` still 'running' that belong to an attempt that died: the same
   * BullMQ job (`jobId`) tried again, or one started more than `staleHours` ago.
   */
  async failInterrupted(name: string, jobId: string | null, staleHours: number): Promise<void> {
    await this.db.$executeRaw`
      UPDATE job_runs SET status = 'failed', error = 'interrupted', finished_at = now()
      WHERE name = ${name} AND status = 'running'
        AND (stats->>'jobId' = ${jobId ?? ''} OR started_at < now() - make_interval(hours => ${staleHours}))`;
  }

  async start(name: string, jobId: string | null): Promise<{ id: string; startedAt: Date }> {
    return this.db.jobRun.create({
      data: { name, stats: jobId ? { jobId } : {} },
      select: { id: true, startedAt: true },
    });
  }

  async succeed(id: string, stats: Prisma.InputJsonObject): Promise<void> {
    await this.db.jobRun.update({ where: { id }, data: { status: 'succeeded', finishedAt: new Date(), stats } });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db.jobRun.update({ where: { id }, data: { status: 'failed', finishedAt: new Date(), error } });
  }

  /** A system audit entry about one object of a tenant; returns its id. */
  async insertAudit(
    tenantId: string,
    entry: { action: string; targetType: string; targetId: string; after: Prisma.InputJsonObject },
  ): Promise<string> {
    const created = await this.db.auditLog.create({
      data: { tenantId, actorType: 'system', actorLabel: 'maintenance worker', ...entry },
      select: { id: true },
    });
    return created.id;
  }

  async updateAudit(tenantId: string, id: string, after: Prisma.InputJsonObject): Promise<void> {
    await this.db.auditLog.updateMany({ where: { tenantId, id }, data: { after } });
  }
}
