import { Injectable } from '@nestjs/common';
import type { Prisma } from '@mailroom/db';
import { PrismaService } from './prisma.service';

/** A transaction client: what repositories receive. */
export type Tx = Prisma.TransactionClient;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs database work inside a transaction. `tenant()` runs it as the role mailroom_api with
 * the tenant scope set, so PostgreSQL row-level security shows and accepts only that tenant's
 * rows whatever the query says; `platform()` runs platform-level work (resellers, admin users,
 * the tenants table across tenants) with explicit filters.
 */
@Injectable()
export class TenantDb {
  constructor(private readonly prisma: PrismaService) {}

  tenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!UUID.test(tenantId)) throw new Error('tenant scope needs a tenant id');
    return this.prisma.client.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL ROLE mailroom_api');
      await tx.$executeRaw`SELECT set_config('app.tenant_id', ${tenantId}, true)`;
      return work(tx);
    });
  }

  platform<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.client.$transaction((tx) => work(tx));
  }
}
