import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import {
  closeDatabase,
  inTenantScope,
  inTransaction,
  openDatabase,
  pingDatabase,
  type Db,
  type Tx,
} from '@mailroom/db';
import { CONFIG } from './tokens';

export type { Tx } from '@mailroom/db';

/**
 * The API's database and its unit of work. Services group repository calls in one transaction
 * with `tenant()` or `platform()` and hand the `Tx` to each repository method; only
 * repositories query through it (the lint rule holds that). `tenant()` runs as the role
 * mailroom_api with the tenant scope set, so PostgreSQL row-level security shows and accepts
 * only that tenant's rows whatever the query says; `platform()` runs platform-level work
 * (resellers, admin users, the tenants table across tenants) with explicit filters.
 */
@Injectable()
export class TenantDb implements OnModuleDestroy {
  /** The root handle, for repositories whose single statement needs no transaction. */
  readonly client: Db;

  constructor(@Inject(CONFIG) config: Config) {
    this.client = openDatabase({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'mailroom-api',
      // BEGIN travels with the tenant scope's RLS setup: one round trip less per request.
      combineBegin: true,
    });
  }

  tenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTenantScope(this.client, tenantId, work);
  }

  platform<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.client, work);
  }

  ping(): Promise<boolean> {
    return pingDatabase(this.client);
  }

  async onModuleDestroy(): Promise<void> {
    await closeDatabase(this.client);
  }
}
