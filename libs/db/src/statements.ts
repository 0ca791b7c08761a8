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
): Statement<Row, Params> {
  declareStatement(name, text);
  const statementName = `mailroom_${name}`;
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
  };
}
