import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { RedisService } from './redis.service';
import { QueueService } from './queue.service';
import { TenantDb } from './tenant-db.service';
import { CONFIG } from './tokens';

/** Config, database and Redis for every module of the API. */
@Global()
@Module({})
export class InfraModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: InfraModule,
      providers: [{ provide: CONFIG, useValue: config }, RedisService, TenantDb, QueueService],
      exports: [CONFIG, RedisService, TenantDb, QueueService],
    };
  }
}
