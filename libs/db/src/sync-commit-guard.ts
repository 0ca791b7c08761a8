import type { NoticeMessage } from 'pg-protocol/dist/messages';
import type pg from 'pg';

/**
 * A commit that PostgreSQL made on the primary but whose wait for a synchronous standby was
 * cancelled (by statement_timeout, or a cancel request): the transaction is committed locally and
 * may not be on any standby, so a failover now could lose it. The caller must treat it as not
 * stored: the MTA answers 4xx and the sender retries (a duplicate then, never a loss).
 */
export class UnreplicatedCommitError extends Error {
  readonly code = 'MAILROOM_UNREPLICATED_COMMIT';

  constructor(detail: string) {
    super(`the commit was not confirmed by a synchronous standby (${detail})`);
    this.name = 'UnreplicatedCommitError';
  }
}

// PostgreSQL's WARNING when SyncRepWaitForLSN gives up (src/backend/replication/syncrep.c). The
// text is PostgreSQL's English message: the server's lc_messages must be C or English (the
// default of a cluster initialised without a locale, and of Debian's under C.UTF-8 or en_*).
const SYNC_WAIT_CANCELLED = /wait for synchronous replication/i;

type Callback = (err: Error | null, result?: unknown) => void;

/**
 * Makes a query fail when PostgreSQL answered it with the warning above: node-postgres reports
 * it only as a 'notice' event and resolves the COMMIT (or the autocommit statement) as if all
 * were well. The notice arrives before the statement's completion, and a client runs its queries
 * one after another, so the first query to complete after the notice is the one it belongs to.
 * Queries in both forms (promise, and callback as pg.Pool.query uses) are covered; a Submittable
 * (the binary COPY reads) passes through.
 */
export function refuseUnreplicatedCommits(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    let cancelled: string | null = null;
    client.on('notice', (msg: NoticeMessage) => {
      if (msg.severity === 'WARNING' && SYNC_WAIT_CANCELLED.test(msg.message ?? '')) cancelled = msg.message ?? '';
    });
    const take = (): UnreplicatedCommitError | null => {
      if (cancelled === null) return null;
      const err = new UnreplicatedCommitError(cancelled);
      cancelled = null;
      return err;
    };
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]): unknown => {
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as Callback;
        args[last] = (err: Error | null, result?: unknown) => {
          const unreplicated = err ? null : take();
          if (unreplicated) callback(unreplicated);
          else callback(err, result);
        };
        return query(...args);
      }
      const result = query(...args);
      if (!(result instanceof Promise)) return result;
      return result.then((value: unknown) => {
        const unreplicated = take();
        if (unreplicated) throw unreplicated;
        return value;
      });
    };
  });
}
