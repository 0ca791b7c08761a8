import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { createRedis, JobProducer, type JobName, type JobPayloads } from '@mailroom/queue';
import { CONFIG } from './tokens';

/**
 * Queues jobs for the worker. Callers write their intent to PostgreSQL first (a due time, a
 * pending row), so a failed add (Redis down) loses nothing: the worker's sweepers find the row.
 */
@Injectable()
export class QueueService implements OnModuleDestroy {
  private readonly connection;
  private readonly producer: JobProducer;

  constructor(@Inject(CONFIG) config: Config) {
    this.connection = createRedis(config, 'client');
    this.connection.on('error', () => undefined);
    this.producer = new JobProducer(this.connection, config.QUEUE_PREFIX);
  }

  /** True when queued; false when Redis refused (the durable row will be swept up later). */
  async tryAdd<J extends JobName>(name: J, payload: JobPayloads[J]): Promise<boolean> {
    try {
      await this.producer.add(name, payload);
      return true;
    } catch {
      return false;
    }
  }

  /** As tryAdd, but a job of the same id waiting delayed is promoted to run now (JobProducer.addNow). */
  async tryAddNow<J extends JobName>(name: J, payload: JobPayloads[J]): Promise<boolean> {
    try {
      await this.producer.addNow(name, payload);
      return true;
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer.close();
    this.connection.disconnect();
  }
}
