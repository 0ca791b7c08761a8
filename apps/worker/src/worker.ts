import { Queue, Worker, type Job } from 'bullmq';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Config } from '@mailroom/config';
import { bullPrefix, createRedis, JOB_QUEUE, JOB_SCHEDULES, JobName, QueueName } from '@mailroom/queue';
import type { JobHandlers } from './job-handler';

export interface WorkerRuntime {
  queues: Map<QueueName, Queue>;
  close(): Promise<void>;
}

/** Throws when a job name has no handler: a job nobody processes would sit in Redis forever. */
export function assertEveryJobHandled(handlers: Partial<Record<string, unknown>>): void {
  const missing = Object.values(JobName).filter((name) => typeof handlers[name] !== 'function');
  if (missing.length > 0) throw new Error(`no handler for job(s): ${missing.join(', ')}`);
}

/**
 * One BullMQ worker per queue, dispatching on the job name, and the repeating job schedulers.
 * Upserting a scheduler is idempotent, so every replica may do it at start.
 */
export async function startWorkers(
  config: Config,
  logger: Logger,
  handlers: JobHandlers,
  registry: Registry,
): Promise<WorkerRuntime> {
  assertEveryJobHandled(handlers);
  const processed = new Counter({
    name: 'mailroom_jobs_total',
    help: 'Jobs finished, by job name and outcome',
    labelNames: ['job', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mailroom_job_duration_seconds',
    help: 'Job run time',
    labelNames: ['job'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });

  const connection = createRedis(config, 'worker');
  connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queues = new Map<QueueName, Queue>();
  const workers: Worker[] = [];

  for (const queueName of Object.values(QueueName)) {
    const prefix = bullPrefix(config.QUEUE_PREFIX, connection, queueName);
    queues.set(queueName, new Queue(queueName, { connection, prefix }));
    const worker = new Worker(
      queueName,
      async (job: Job) => {
        const handler = handlers[job.name as JobName] as ((data: unknown, job: Job) => Promise<unknown>) | undefined;
        if (!handler || JOB_QUEUE[job.name as JobName] !== queueName) {
          throw new Error(`job ${job.name} does not belong to queue ${queueName}`);
        }
        const stop = duration.startTimer({ job: job.name });
        try {
          const result = await handler(job.data, job);
          processed.inc({ job: job.name, outcome: 'completed' });
          logger.info({ job: job.name, jobId: job.id, result }, 'job completed');
          return result;
        } catch (err) {
          processed.inc({ job: job.name, outcome: 'failed' });
          logger.error({ job: job.name, jobId: job.id, err }, 'job failed');
          throw err;
        } finally {
          stop();
        }
      },
      {
        connection,
        prefix,
        concurrency: config.WORKER_CONCURRENCY,
        lockDuration: config.WORKER_LOCK_MS,
        stalledInterval: config.WORKER_LOCK_MS,
      },
    );
    worker.on('error', (err) => logger.warn({ err: err.message, queue: queueName }, 'worker error'));
    workers.push(worker);
  }

  // Sweeps find work Redis lost; their interval is configurable (tests run them every second).
  const SWEEPS = new Set<JobName>([JobName.DeliverySweep, JobName.WebhookSweep, JobName.DomainCheckDue]);
  const interval = (name: JobName, every: number) => {
    if (SWEEPS.has(name)) return config.SWEEP_INTERVAL_MS;
    if (name === JobName.BlobOrphanSweep) return Math.round(config.BLOB_SWEEP_INTERVAL_HOURS * 3_600_000);
    return every;
  };
  const upsertSchedulers = async () => {
    // deliveries.sweep ran on the deliveries queue before it moved to maintenance; a scheduler
    // left there from an older version would add jobs that queue's worker refuses.
    await queues.get(QueueName.Deliveries)?.removeJobScheduler(JobName.DeliverySweep);
    for (const [name, every] of Object.entries(JOB_SCHEDULES) as [JobName, number][]) {
      const queue = queues.get(JOB_QUEUE[name])!;
      await queue.upsertJobScheduler(name, { every: interval(name, every) }, { name, data: {} });
    }
  };
  let refresh: NodeJS.Timeout | undefined;
  if (config.SCHEDULES_ENABLED) {
    await upsertSchedulers();
    // A flushed or replaced Redis loses the schedulers with everything else; upserting is
    // idempotent, so every worker re-creates them now and then.
    refresh = setInterval(() => {
      upsertSchedulers().catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'could not refresh job schedulers'),
      );
    }, config.SCHEDULER_REFRESH_MS);
  }

  return {
    queues,
    close: async () => {
      clearInterval(refresh);
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      connection.disconnect();
    },
  };
}
