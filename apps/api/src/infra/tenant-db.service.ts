import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Config } from '@mailroom/config';
import { DomainError, NotFound } from '@mailroom/core';
import {
  ReplicaRouter,
  closeDatabase,
  inTenantScope,
  inTransaction,
  openDatabase,
  pingDatabase,
  tenantScope,
  type Db,
  type TenantScope,
  type Tx,
} from '@mailroom/db';
import { CONFIG } from './tokens';

export type { TenantScope, Tx } from '@mailroom/db';

/**
 * The API's database and its unit of work. Services group repository calls in one transaction
 * with `tenant()` or `platform()` and hand the `Tx` to each repository method; only
 * repositories query through it (the lint rule holds that). `tenant()` runs as the role
 * mailroom_api with the tenant scope set, so PostgreSQL row-level security shows and accepts
 * only that tenant's rows whatever the query says; `platform()` runs platform-level work
 * (resellers, admin users, the tenants table across tenants) with explicit filters.
 * `tenantRead()` is `tenant()` for reads that may be a little stale (list and read routes): on a
 * streaming replica when DATABASE_REPLICA_URLS names one that is up and not lagging, else on the
 * primary. A tenant's reads stay on the primary for DATABASE_REPLICA_STICKY_MS after a `tenant()`
 * unit of work of it in this process, so a client reads its own writes.
 */
@Injectable()
export class TenantDb implements OnModuleDestroy {
  /** The root handle, for repositories whose single statement needs no transaction. */
  readonly client: Db;
  /** Null without DATABASE_REPLICA_URLS: then tenantRead is tenant, at no extra cost. */
  readonly replicas: ReplicaRouter | null;

  constructor(@Inject(CONFIG) config: Config, logger: PinoLogger) {
    this.client = openDatabase({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'mailroom-api',
      // BEGIN travels with the tenant scope's RLS setup: one round trip less per request.
      combineBegin: true,
    });
    this.replicas =
      config.DATABASE_REPLICA_URLS.length > 0
        ? new ReplicaRouter(this.client, {
            urls: config.DATABASE_REPLICA_URLS,
            poolSize: config.DATABASE_POOL_SIZE,
            applicationName: 'mailroom-api-replica',
            combineBegin: true,
            maxLagMs: config.DATABASE_REPLICA_MAX_LAG_MS,
            stickyMs: config.DATABASE_REPLICA_STICKY_MS,
            // The URL's password, if any, stays out of the log: host, port and database only.
            onChange: ({ url, usable, lagMs, reason }) => {
              const u = new URL(url);
              const replica = `${u.host}${u.pathname}`;
              if (usable) logger.info({ replica, lagMs }, 'database replica usable: reads go to it');
              else logger.warn({ replica, reason }, 'database replica not usable: its reads go to the primary');
            },
          })
        : null;
  }

  async tenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    // Any unit of work of the primary may write: the tenant's next reads stay on the primary,
    // for DATABASE_REPLICA_STICKY_MS counted from when it ends (its commit), not from when it
    // began: a slow write must not use up the window before its client reads.
    if (!this.replicas) return inTenantScope(this.client, tenantId, work);
    this.replicas.noteWrite(tenantId);
    try {
      return await inTenantScope(this.client, tenantId, work);
    } finally {
      this.replicas.noteWrite(tenantId);
    }
  }

  /**
   * A read-only unit of work that may see data a moment old (see the class comment). `work`
   * must not write: a replica refuses writes. The same RLS setup as `tenant()` runs on the
   * replica (the roles and policies are replicated), so isolation is the same.
   */
  async tenantRead<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!this.replicas) return inTenantScope(this.client, tenantId, work);
    const db = this.replicas.forRead(tenantId);
    if (db === this.client) return inTenantScope(db, tenantId, work);
    try {
      return await inTenantScope(db, tenantId, work);
    } catch (err) {
      // Not found may be a row the replica has not replayed yet (created through another API
      // process a moment ago): the primary answers. 404s are rare, so this costs little, and a
      // GET by id never fails for lag. Other domain errors (Forbidden) are the answer; anything
      // else is the replica failing (gone, restarting, a query cancelled by recovery).
      if (err instanceof NotFound) return inTenantScope(this.client, tenantId, work);
      if (err instanceof DomainError) throw err;
      this.replicas.markDown(db, err instanceof Error ? err.message : String(err));
      return inTenantScope(this.client, tenantId, work);
    }
  }

  /**
   * `tenantRead` for reads that are one statement each: `work` gets a TenantScope, and each
   * statement a repository runs on it with `readInTenant` is its own RLS-scoped implicit
   * transaction, one round trip, without Prisma (the list and read routes' hot path). Several
   * statements in one `work` do not share a snapshot: use `tenantRead` when they must.
   */
  async tenantScoped<T>(tenantId: string, work: (scope: TenantScope) => Promise<T>): Promise<T> {
    if (!this.replicas) return work(tenantScope(this.client, tenantId));
    const db = this.replicas.forRead(tenantId);
    if (db === this.client) return work(tenantScope(db, tenantId));
    try {
      return await work(tenantScope(db, tenantId));
    } catch (err) {
      // As tenantRead: not found may be replica lag; other domain errors are the answer.
      if (err instanceof NotFound) return work(tenantScope(this.client, tenantId));
      if (err instanceof DomainError) throw err;
      this.replicas.markDown(db, err instanceof Error ? err.message : String(err));
      return work(tenantScope(this.client, tenantId));
    }
  }

  platform<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.client, work);
  }

  ping(): Promise<boolean> {
    return pingDatabase(this.client);
  }

  async onModuleDestroy(): Promise<void> {
    await this.replicas?.close();
    await closeDatabase(this.client);
  }
}
