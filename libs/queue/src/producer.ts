import { Queue, type JobsOptions } from 'bullmq';
import { bullPrefix, type RedisClient } from './redis';
import { JOB_QUEUE, jobIdFor, type QueueName, type JobName, type JobPayloads } from './jobs';

/**
 * Default retry policy: exponential backoff from 10 s. Finished jobs are removed at once: a job's
 * id is its row's id, and a kept job would make BullMQ ignore the next add of the same work
 * (a second verification, a retried delivery). What happened is in PostgreSQL, the logs and the
 * metrics, not in Redis.
 */
const DEFAULTS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: true,
  removeOnFail: true,
};

/** Adds jobs to the right queue with the right id. Used by the API, the MTA and the worker. */
export class JobProducer {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: RedisClient,
    private readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connection,
        prefix: bullPrefix(this.prefix, this.connection, name),
        defaultJobOptions: DEFAULTS,
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async add<J extends JobName>(name: J, payload: JobPayloads[J], options: JobsOptions = {}): Promise<void> {
    const jobId = jobIdFor(name, payload);
    await this.queue(JOB_QUEUE[name]).add(name, payload, { ...(jobId ? { jobId } : {}), ...options });
  }

  /**
   * Adds the job to run now: when a job of that id waits delayed (a retry scheduled for later),
   * it is promoted instead, since an add with a known id would be ignored.
   */
  async addNow<J extends JobName>(name: J, payload: JobPayloads[J]): Promise<void> {
    const jobId = jobIdFor(name, payload);
    const queue = this.queue(JOB_QUEUE[name]);
    const job = jobId ? await queue.getJob(jobId) : undefined;
    if (job && (await job.isDelayed())) {
      // It may have come due between the two calls: then it is already waiting, as wanted.
      await job.promote().catch(() => undefined);
      return;
    }
    await this.add(name, payload);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
