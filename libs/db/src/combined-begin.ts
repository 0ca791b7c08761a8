import type pg from 'pg';

const DEFERRED = Symbol('mailroom.deferredBegin');

type Patched = pg.PoolClient & { [DEFERRED]?: boolean };
type QueryArg = string | (pg.QueryConfig & { rowMode?: string; name?: string });

/** A command's text when the call has no parameters, no name and no callback; else null. */
function plainText(args: unknown[]): string | null {
  const [config, values, callback] = args;
  if (typeof values === 'function' || typeof callback === 'function') return null;
  if (typeof config === 'string') return Array.isArray(values) && values.length > 0 ? null : config;
  if (!config || typeof config !== 'object') return null;
  const c = config as pg.QueryConfig & { name?: string; callback?: unknown };
  if (c.name || typeof c.callback === 'function') return null;
  if ((c.values?.length ?? 0) > 0 || (Array.isArray(values) && values.length > 0)) return null;
  return c.text;
}

function withText(config: QueryArg, text: string): QueryArg {
  return typeof config === 'string' ? text : { ...config, text };
}

/**
 * Sends a transaction's BEGIN together with its first statement when that statement has no
 * parameters (one simple-query message, one round trip instead of two): the API's RLS setup
 * (`SELECT set_config(...)`) is such a statement, so a tenant-scoped read costs BEGIN + setup
 * in one trip. PrismaPg starts a transaction by sending "BEGIN" alone on a pooled client; this
 * holds it back until the next command on that client:
 * - a parameterless command goes as "BEGIN;<command>" and answers with the command's result
 *   (an error in it leaves the transaction aborted, as it would have been, and Prisma rolls back);
 * - a command with parameters or a callback sends the held BEGIN first, as before.
 * A client released with a BEGIN still held (nothing was sent) forgets it.
 */
export function combineBeginWithFirstStatement(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const c = client as Patched;
    const query = c.query.bind(c) as (...args: unknown[]) => Promise<pg.QueryResult | pg.QueryResult[]>;
    // Overridden for this client only; pg.Pool itself calls client.query with a callback, which
    // passes through untouched unless a BEGIN is held (not the case outside a transaction).
    (c as { query: unknown }).query = (...args: unknown[]): unknown => {
      const text = plainText(args);
      if (text !== null && text.trim().toUpperCase() === 'BEGIN') {
        c[DEFERRED] = true;
        return Promise.resolve({ command: 'BEGIN', rowCount: null, rows: [], fields: [], oid: 0 });
      }
      if (!c[DEFERRED]) return query(...args);
      c[DEFERRED] = false;
      if (text !== null) {
        return query(withText(args[0] as QueryArg, `BEGIN;${text}`)).then((result) =>
          Array.isArray(result) ? result[result.length - 1] : result,
        );
      }
      return query('BEGIN').then(() => query(...args));
    };
  });
  pool.on('release', (_err: Error | undefined, client: pg.PoolClient) => {
    (client as Patched)[DEFERRED] = false;
  });
}
