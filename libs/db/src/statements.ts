import pg from 'pg';
import type { PrismaClient } from './generated/client';
import type { Prisma } from './generated/client';

/**
 * The pg.Pool under each root client createPrismaClient made: Prisma's adapter and the named
 * statements below share it, so an app has one pool and one connection budget
 * (DATABASE_POOL_SIZE), one statement_timeout and one application_name.
 */
const pools = new WeakMap<object, pg.Pool>();

/** Called by createPrismaClient only. */
export function registerPool(db: PrismaClient, pool: pg.Pool): void {
  pools.set(db, pool);
}

/** The pool under a root client createPrismaClient made; undefined for anything else. */
export function poolOf(db: PrismaClient | Prisma.TransactionClient): pg.Pool | undefined {
  return pools.get(db);
}

/** int8 comes back as bigint, as Prisma's $queryRaw returns it; everything else as pg parses it. */
const parseInt8 = (value: string) => BigInt(value);
const TYPES = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The RLS setup of a tenant scope (as `inTenantScope`): role mailroom_api, app.tenant_id, both LOCAL. */
function scopeSetup(tenantId: string): string {
  if (!UUID.test(tenantId)) throw new Error('tenant scope needs a tenant id');
  return `SELECT set_config('role', 'mailroom_api', true), set_config('app.tenant_id', '${tenantId}', true)`;
}

const SCOPES = new WeakSet<object>();

/**
 * Where a tenant-scoped read runs: an app's root client and the tenant whose rows row-level
 * security shows (see `Statement.readInTenant`). Made by `tenantScope` only.
 */
export interface TenantScope {
  readonly db: PrismaClient;
  readonly tenantId: string;
}

/** A read scope of `tenantId` on `db` (a root client). */
export function tenantScope(db: PrismaClient, tenantId: string): TenantScope {
  if (!UUID.test(tenantId)) throw new Error('tenant scope needs a tenant id');
  const scope = Object.freeze({ db, tenantId });
  SCOPES.add(scope);
  return scope;
}

/** True for a scope made by `tenantScope` (repositories that take a transaction or a scope). */
export function isTenantScope(value: unknown): value is TenantScope {
  return typeof value === 'object' && value !== null && SCOPES.has(value);
}

/**
 * A value as an SQL literal, for statements that take no parameters (COPY) or whose parameters
 * travel inlined (`EXECUTE name(...)`): strings through pg's escapeLiteral, so a value can never
 * end the string it is in; an untyped literal is read as the type its place asks for (so
 * `$1::uuid` still checks a uuid). Refuses NUL, which PostgreSQL text cannot hold and which
 * would end the query message.
 */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('SQL literal: a number that is not finite');
    return `(${String(v)})`;
  }
  if (typeof v === 'bigint') return `(${v.toString()})`;
  if (typeof v === 'string') return pg.escapeLiteral(noNul(v));
  if (v instanceof Date) return pg.escapeLiteral(v.toISOString());
  if (Buffer.isBuffer(v)) return pg.escapeLiteral(`\\x${v.toString('hex')}`);
  // An array goes as one array literal ('{1,2}' then the SQL's cast), which PostgreSQL reads
  // far faster than an ARRAY[...] of many constants.
  if (Array.isArray(v)) return pg.escapeLiteral(`{${v.map(element).join(',')}}`);
  throw new Error(`SQL literal: cannot write a ${typeof v} as a literal`);
}

function noNul(v: string): string {
  if (v.includes('\0')) throw new Error('SQL literal: a string with a NUL character');
  return v;
}

function element(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('SQL literal: a number that is not finite');
    return String(v);
  }
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return `"${noNul(v).replace(/["\\]/g, (c) => `\\${c}`)}"`;
  throw new Error(`SQL literal: cannot write a ${typeof v} in an array literal`);
}

/** The SQL-level prepared statements (PREPARE) each pooled connection holds, by name. */
const preparedOn = new WeakMap<object, Set<string>>();

/** Every statement defined in this process: a name stands for exactly one SQL text. */
const defined = new Map<string, string>();

/** Every statement defined so far, name to SQL text (for plan checks and tests). */
export function definedStatements(): ReadonlyMap<string, string> {
  return defined;
}

/** Records a statement's name and text (one text per name); used by defineStatement and defineCopyStatement. */
export function declareStatement(name: string, text: string): void {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`statement name ${name}: lower-case letters, digits and _`);
  const known = defined.get(name);
  if (known !== undefined && known !== text) throw new Error(`statement ${name} is defined twice with different SQL`);
  defined.set(name, text);
}

export interface StatementOptions {
  /**
   * `readInTenant` plans it for its parameters at every run (plan_cache_mode
   * force_custom_plan), for a statement whose optional filters (`$n IS NULL OR ...`) no one
   * generic plan suits; it still skips parsing.
   */
  customPlans?: boolean;
}

/** A named prepared statement of fixed SQL text ($1, $2, ... parameters). */
export interface Statement<Row, Params extends readonly unknown[]> {
  readonly name: string;
  readonly text: string;
  /**
   * Runs it with `params` (a Buffer goes to PostgreSQL as binary bytea, not copied to base64).
   * On a root client: on its pool, prepared once per pooled connection and reused from then on.
   * In a transaction (or on a client not made by createPrismaClient): the same text through
   * Prisma, unprepared.
   */
  run(db: PrismaClient | Prisma.TransactionClient, params: Params): Promise<Row[]>;
  /**
   * Runs it as a read of one tenant under row-level security (role mailroom_api and
   * `app.tenant_id`, as `inTenantScope`) in ONE round trip: the RLS setup and
   * `EXECUTE mailroom_t_<name>(literals)` go as one simple-query message, which PostgreSQL runs
   * as one implicit transaction, so the LOCAL settings end with it (an error rolls it back and
   * leaves the connection idle) and no BEGIN or COMMIT travels. The statement is prepared on a
   * pooled connection the first time it runs there (as mailroom_api, in its own round trip),
   * and PostgreSQL keeps its plan. Only for a read that is one statement; parameters are
   * strings, numbers, booleans, bigints, dates, arrays of these, or null (inlined as quoted
   * literals, never as SQL). On a client not made by createPrismaClient: the same in a Prisma
   * transaction.
   */
  readInTenant(scope: TenantScope, params: Params): Promise<Row[]>;
}

/**
 * Defines a named prepared statement for a hot path (opt-in; repositories and the mail store only).
 * Each pooled connection keeps every statement it has run until it closes, so the set must stay
 * fixed and small: define statements at module level, never from a dynamic name or text (an
 * IN-list whose length varies is an array parameter: `= ANY($1::uuid[])`).
 *
 * PostgreSQL plans a prepared statement per run five times, then keeps one generic plan if it
 * costs no more than the custom ones did; a statement whose best plan depends on a parameter's
 * value (a big tenant against a small one) must be checked with EXPLAIN EXECUTE under
 * `SET plan_cache_mode = force_generic_plan` before it is moved here.
 */
export function defineStatement<Row, Params extends readonly unknown[] = unknown[]>(
  name: string,
  text: string,
  options: StatementOptions = {},
): Statement<Row, Params> {
  declareStatement(name, text);
  const statementName = `mailroom_${name}`;
  const sqlName = `mailroom_t_${name}`;
  return {
    name,
    text,
    async run(db, params) {
      const pool = pools.get(db);
      if (!pool) return db.$queryRawUnsafe<Row[]>(text, ...params);
      const result = await pool.query<Row & pg.QueryResultRow>({
        name: statementName,
        text,
        values: [...params],
        types: TYPES,
      });
      return result.rows;
    },
    async readInTenant(scope, params) {
      if (!isTenantScope(scope)) throw new Error('readInTenant needs a scope made by tenantScope');
      // plan_cache_mode LOCAL too: it ends with the implicit transaction.
      const setup = options.customPlans
        ? `${scopeSetup(scope.tenantId)}, set_config('plan_cache_mode', 'force_custom_plan', true)`
        : scopeSetup(scope.tenantId);
      const pool = pools.get(scope.db);
      if (!pool) {
        return scope.db.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(setup);
          return tx.$queryRawUnsafe<Row[]>(text, ...params);
        });
      }
      const args = params.map(sqlLiteral).join(', ');
      const client = await pool.connect();
      try {
        let prepared = preparedOn.get(client);
        if (!prepared) {
          prepared = new Set();
          preparedOn.set(client, prepared);
        }
        if (!prepared.has(sqlName)) {
          // Prepared as mailroom_api, so the plan PostgreSQL keeps is the one under RLS.
          await client.query(`${setup}; PREPARE ${sqlName} AS ${text}`);
          prepared.add(sqlName);
        }
        const result = (await client.query({
          text: `${setup}; EXECUTE ${sqlName}(${args})`,
          types: TYPES,
        })) as unknown as pg.QueryResult<Row & pg.QueryResultRow>[];
        const rows = result[result.length - 1]!.rows;
        client.release();
        return rows;
      } catch (err) {
        // An error PostgreSQL answered (it has a SQLSTATE) rolled back the implicit transaction
        // and left the connection idle; anything else (a broken connection) must not go back
        // to the pool.
        // 26000: the connection lost the statement (DEALLOCATE, DISCARD): prepare it next time.
        if (err instanceof pg.DatabaseError && err.code === '26000') preparedOn.get(client)?.delete(sqlName);
        client.release(err instanceof pg.DatabaseError ? undefined : (err as Error));
        throw err;
      }
    },
  };
}
