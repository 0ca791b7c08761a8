import { z } from 'zod';
import { ValidationFailed } from '@mailroom/core';

/** The query of every list: a page size and an opaque cursor from the previous page. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size, 1 to 200'),
  cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
};

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface SortSpec<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

/** `name` or `-name` (descending), restricted to the fields a list allows. */
export function parseSort<F extends string>(
  value: string | undefined,
  allowed: readonly F[],
  fallback: string,
): SortSpec<F> {
  const raw = value ?? fallback;
  const direction = raw.startsWith('-') ? 'desc' : 'asc';
  const field = raw.replace(/^-/, '') as F;
  if (!allowed.includes(field)) {
    throw new ValidationFailed('The request has invalid fields.', [
      { field: 'sort', message: `must be one of ${allowed.flatMap((f) => [f, `-${f}`]).join(', ')}` },
    ]);
  }
  return { field, direction };
}

interface CursorValue {
  v: string | number | null;
  id: string;
}

function encodeCursor(value: CursorValue): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor(cursor: string): CursorValue {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorValue;
    if (typeof parsed.id !== 'string') throw new Error('bad cursor');
    return parsed;
  } catch {
    throw new ValidationFailed('The request has invalid fields.', [
      { field: 'cursor', message: 'is not a cursor this API returned' },
    ]);
  }
}

type Row = { id: string } & Record<string, unknown>;

/** The part of a keyset page a repository applies to its query (filter, order, limit + 1). */
export interface PageWindow {
  where: Record<string, unknown>;
  orderBy: Record<string, 'asc' | 'desc'>[];
  take: number;
}

/** The same window for a repository that writes its own SQL: sort field, direction, and the cursor's row. */
export interface SqlPageWindow<F extends string> {
  sort: SortSpec<F>;
  /** The last row of the previous page (its sort value and id), or null for the first page. */
  after: { value: string | number | Date | null; id: string } | null;
  take: number;
}

/**
 * Keyset pagination: order by the sort field then id (stable even when values repeat), and
 * continue strictly after the last row of the previous page. Returns the `where` and
 * `orderBy` fragments and a function that builds the page from limit+1 fetched rows.
 */
export function keyset<F extends string>(sort: SortSpec<F>, cursor: string | undefined, limit: number) {
  const op = sort.direction === 'asc' ? 'gt' : 'lt';
  let where: Record<string, unknown> = {};
  let after: SqlPageWindow<F>['after'] = null;
  if (cursor) {
    const c = decodeCursor(cursor);
    const value = sort.field === 'createdAt' || sort.field === 'updatedAt' ? new Date(c.v as string) : c.v;
    where = { OR: [{ [sort.field]: { [op]: value } }, { [sort.field]: value, id: { [op]: c.id } }] };
    after = { value, id: c.id };
  }
  const orderBy: PageWindow['orderBy'] = [{ [sort.field]: sort.direction }, { id: sort.direction }];
  return {
    where,
    orderBy,
    take: limit + 1,
    sort,
    after,
    page<T extends Row>(rows: T[]): { rows: T[]; nextCursor: string | null } {
      const more = rows.length > limit;
      const pageRows = more ? rows.slice(0, limit) : rows;
      const last = pageRows[pageRows.length - 1];
      const raw = last?.[sort.field];
      const v = raw instanceof Date ? raw.toISOString() : (raw as string | number | null);
      return { rows: pageRows, nextCursor: more && last ? encodeCursor({ v, id: last.id }) : null };
    },
  };
}

export const ListQuerySchema = z
  .object({ ...pageQuery, sort: z.string().optional().describe('A sortable field; prefix - for descending') })
  .strict();
