import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { RedisClient } from '@mailroom/queue';
import type { Config } from '@mailroom/config';
import { createRedis, pingRedis } from '@mailroom/queue';
import { CONFIG } from './tokens';

/** Redis for rate limits and queue producers; fails fast so a request never hangs on an outage. */
@Injectable()
export class RedisService implements OnModuleDestroy {
  readonly client: RedisClient;

  constructor(@Inject(CONFIG) config: Config) {
    this.client = createRedis(config, 'client');
    // Errors surface through health and through each command's rejection; without a listener
    // ioredis would print every reconnect failure.
    this.client.on('error', () => undefined);
  }

  ping(): Promise<boolean> {
    return pingRedis(this.client);
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}
