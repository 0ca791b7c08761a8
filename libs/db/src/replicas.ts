import type { PrismaClient } from './generated/client';
import { createPrismaClient, type DbOptions } from './prisma';

export interface ReplicaOptions extends Omit<DbOptions, 'url'> {
  /** Streaming replicas of the primary (DATABASE_REPLICA_URLS). */
  urls: string[];
  /** A replica whose replay lag is above this is skipped until it catches up. */
  maxLagMs: number;
  /** After a write of a tenant through this process, that tenant's reads stay on the primary. */
  stickyMs: number;
  /** How often each replica's state is measured (default 1 s). */
  checkIntervalMs?: number;
  /** Told when a replica becomes usable or stops being usable (for a log line). */
  onChange?: (state: ReplicaState) => void;
}

/** What the last check of a replica saw. */
export interface ReplicaState {
  url: string;
  /** Answered, still a standby, streaming, and not further behind than maxLagMs. */
  usable: boolean;
  /** Replay lag in ms (0 when everything received is replayed), null when unknown. */
  lagMs: number | null;
  /** Why it is not usable. */
  reason?: string;
}

interface Replica {
  db: PrismaClient;
  state: ReplicaState;
}

// Lag: 0 when all WAL received is replayed (an idle primary sends nothing, so "last replayed
// commit was long ago" is not lag); otherwise the age of the last replayed commit. A standby with
// no WAL receiver (the primary is gone, or the link is broken) is stale by an unknown amount.
const CHECK = `SELECT pg_is_in_recovery() AS standby,
  EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiving,
  CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 END AS lag_ms`;

interface CheckRow {
  standby: boolean;
  receiving: boolean;
  lag_ms: number | null;
}

/**
 * Routes reads that may be a little stale to streaming replicas, and everything else to the
 * primary. Each replica is checked every second; one that does not answer, was promoted, lost
 * its primary or lags more than `maxLagMs` gets no reads until a check sees it well again, so
 * reads fall back to the primary. A tenant that wrote through this process in the last
 * `stickyMs` reads from the primary (read-your-writes for the client that wrote).
 */
export class ReplicaRouter {
  private readonly replicas: Replica[];
  private readonly lastWrite = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private next = 0;
  private checking = false;

  constructor(
    private readonly primary: PrismaClient,
    private readonly options: ReplicaOptions,
  ) {
    this.replicas = options.urls.map((url) => ({
      db: createPrismaClient({ ...options, url }),
      state: { url, usable: false, lagMs: null, reason: 'not checked yet' },
    }));
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), options.checkIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** The handle for a stale-tolerant read of `tenantId`: a usable replica (round robin), else the primary. */
  forRead(tenantId: string): PrismaClient {
    const wrote = this.lastWrite.get(tenantId);
    if (wrote !== undefined) {
      if (Date.now() - wrote < this.options.stickyMs) return this.primary;
      this.lastWrite.delete(tenantId);
    }
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length]!;
      if (replica.state.usable) {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica.db;
      }
    }
    return this.primary;
  }

  /** True when `db` is one of the replicas (not the primary). */
  isReplica(db: PrismaClient): boolean {
    return this.replicas.some((r) => r.db === db);
  }

  /** Records a write (or a unit of work that may have written) of `tenantId`. */
  noteWrite(tenantId: string): void {
    // Bounded: expired entries go when the map grows.
    if (this.lastWrite.size > 10_000) {
      const cutoff = Date.now() - this.options.stickyMs;
      for (const [id, at] of this.lastWrite) if (at < cutoff) this.lastWrite.delete(id);
    }
    this.lastWrite.set(tenantId, Date.now());
  }

  /** A replica a query just failed on gets no reads until the next check sees it well. */
  markDown(db: PrismaClient, reason: string): void {
    const replica = this.replicas.find((r) => r.db === db);
    if (replica) this.update(replica, { ...replica.state, usable: false, reason });
  }

  states(): ReplicaState[] {
    return this.replicas.map((r) => ({ ...r.state }));
  }

  /** Measures every replica now (also done every second). */
  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await Promise.all(this.replicas.map((r) => this.check(r)));
    } finally {
      this.checking = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.replicas.map((r) => r.db.$disconnect()));
  }

  private async check(replica: Replica): Promise<void> {
    const url = replica.state.url;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2_000);
      });
      const [row] = await Promise.race([replica.db.$queryRawUnsafe<CheckRow[]>(CHECK), timeout]);
      const lagMs = row?.lag_ms === null || row?.lag_ms === undefined ? null : Math.max(0, Number(row.lag_ms));
      let reason: string | undefined;
      if (!row?.standby) reason = 'not a standby (promoted?)';
      else if (!row.receiving) reason = 'not receiving WAL from a primary';
      else if (lagMs === null || lagMs > this.options.maxLagMs) reason = `replay lag ${lagMs ?? 'unknown'} ms`;
      this.update(replica, { url, usable: reason === undefined, lagMs, ...(reason ? { reason } : {}) });
    } catch (err) {
      this.update(replica, {
        url,
        usable: false,
        lagMs: null,
        reason: err instanceof Error ? err.message : String(err),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private update(replica: Replica, state: ReplicaState): void {
    const changed = replica.state.usable !== state.usable;
    replica.state = state;
    if (changed) this.options.onChange?.(state);
  }
}
