import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { createPrismaClient, pingDatabase, type PrismaClient } from '@mailroom/db';
import { CONFIG } from './tokens';

/** The API's Prisma client; repositories receive it, nothing else touches Prisma. */
@Injectable()
export class PrismaService implements OnModuleDestroy {
  readonly client: PrismaClient;

  constructor(@Inject(CONFIG) config: Config) {
    this.client = createPrismaClient({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'mailroom-api',
    });
  }

  ping(): Promise<boolean> {
    return pingDatabase(this.client);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.$disconnect();
  }
}
