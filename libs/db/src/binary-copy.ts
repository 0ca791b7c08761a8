import type { Duplex } from 'node:stream';
import type pg from 'pg';
import type { Prisma, PrismaClient } from './generated/client';
import { declareStatement, poolOf, sqlLiteral } from './statements';

/**
 * Reads a query's rows in PostgreSQL's binary COPY format (`COPY (query) TO STDOUT (FORMAT
 * binary)`): a bytea column arrives as its raw bytes, with no hex or base64 text for PostgreSQL
 * to write and for Node to decode, and no UTF-8 string made of it on the way. node-postgres reads
 * every result as text (its binary mode decodes values as UTF-8 strings first, which breaks
 * bytes), so a statement that returns message bodies in bulk (IMAP FETCH, POP3 RETR) comes this
 * way: the store's read cost 0.10 ms of Node CPU and 0.11 ms of PostgreSQL CPU per 13.6 KB
 * message as base64 text, 0.055 and 0.075 through COPY (docs/performance.md).
 *
 * COPY takes no bind parameters: the values are written into the query as literals, each one
 * escaped by its type (numbers checked finite, strings with pg's escapeLiteral, arrays as array
 * literals), so the same `$1::uuid` SQL text also runs through Prisma. PostgreSQL plans each run
 * with its values (a custom plan), never a generic one.
 */

/** Turns one column's binary value into the row's field. */
export type ColumnDecoder<T> = (value: Buffer) => T;

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Decoders of the binary send formats of the types these statements return. */
export const binary = {
  /** int2, int4 or int8 as a number (int8 must stay within 2^53). */
  int: (v: Buffer): number =>
    v.length === 8 ? Number(v.readBigInt64BE(0)) : v.length === 2 ? v.readInt16BE(0) : v.readInt32BE(0),
  /** int8 (or a narrower integer) as a bigint, as Prisma's $queryRaw returns int8. */
  bigint: (v: Buffer): bigint => (v.length === 8 ? v.readBigInt64BE(0) : BigInt(binary.int(v))),
  bool: (v: Buffer): boolean => v[0] !== 0,
  /** text, varchar, name, json (not jsonb: cast it ::text) as a string. */
  text: (v: Buffer): string => v.toString('utf8'),
  /** bytea: the bytes themselves (a view into the result, not a copy). */
  bytes: (v: Buffer): Buffer => v,
  /** timestamptz: microseconds since 2000-01-01 UTC, to a Date (milliseconds, as node-postgres). */
  date: (v: Buffer): Date => new Date(PG_EPOCH_MS + Math.floor(Number(v.readBigInt64BE(0)) / 1000)),
  /** A one-dimensional text[] without NULL elements. */
  textArray: (v: Buffer): string[] => {
    const dims = v.readInt32BE(0);
    if (dims === 0) return [];
    if (dims !== 1) throw new Error(`binary COPY: a ${dims}-dimensional array is not read here`);
    const count = v.readInt32BE(12);
    const out: string[] = new Array<string>(count);
    let at = 20;
    for (let i = 0; i < count; i++) {
      const len = v.readInt32BE(at);
      at += 4;
      if (len < 0) throw new Error('binary COPY: a NULL array element is not read here');
      out[i] = v.toString('utf8', at, at + len);
      at += len;
    }
    return out;
  },
};

type Columns<Row> = { [K in keyof Row]: ColumnDecoder<Row[K]> };

/** A query read through binary COPY; see the module comment. */
export interface CopyStatement<Row, Params extends readonly unknown[]> {
  readonly name: string;
  readonly text: string;
  /**
   * On a root client made by createPrismaClient: binary COPY on a connection of its pool. In a
   * transaction (or on another client): the same text through Prisma, bytea as Buffers.
   */
  run(db: PrismaClient | Prisma.TransactionClient, params: Params): Promise<Row[]>;
}

/**
 * Defines a query read through binary COPY. `columns` decodes each selected column, in the order
 * the SELECT lists them (COPY sends no names); a row of another width is an error. Like
 * defineStatement, define at module level with a fixed text (it is listed for plan checks).
 */
export function defineCopyStatement<Row, Params extends readonly unknown[] = unknown[]>(
  name: string,
  text: string,
  columns: Columns<Row>,
): CopyStatement<Row, Params> {
  declareStatement(name, text);
  const fields = Object.entries(columns) as Field[];
  return {
    name,
    text,
    async run(db, params) {
      const pool = poolOf(db);
      if (!pool) return viaPrisma<Row>(db, text, params);
      const sql = `COPY (${inlineParams(text, params)}) TO STDOUT (FORMAT binary)`;
      return (await copyOut(pool, sql, fields)) as Row[];
    },
  };
}

async function viaPrisma<Row>(db: PrismaClient | Prisma.TransactionClient, text: string, params: readonly unknown[]) {
  const rows = await db.$queryRawUnsafe<Array<Record<string, unknown>>>(text, ...params);
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return rows as Row[];
}

/**
 * Runs a COPY ... TO STDOUT (FORMAT binary) on a connection of the pool; the rows are parsed once
 * the whole result is in. The COPY reads the connection's socket itself (CopyOut below), so the
 * result is kept as views into the chunks it arrived in and the values (bodies included) are views
 * too, never joined: in the IMAP server each copy of the bytes is external memory that drives the
 * garbage collector, and one copied buffer per CopyData message through node-postgres's own parser
 * measured worse (docs/performance.md).
 */
async function copyOut(pool: pg.Pool, sql: string, fields: Field[]): Promise<unknown[]> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    const chunks = await client.query(new CopyOut(sql)).result;
    return parseBinaryCopy(chunks, fields);
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // A connection whose COPY broke off is not given to the next query.
    client.release(failed);
  }
}

// Backend message types read while the COPY runs (PostgreSQL docs, "Message Formats").
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'

type DataListener = (chunk: Buffer) => void;

/**
 * A COPY TO STDOUT submitted to node-postgres (its Submittable interface): it sends the query,
 * takes the socket's data listener over while the COPY runs and collects each CopyData's content
 * as views into the socket's chunks (pg-copy-streams, used before, joined the pieces of every chunk
 * into a new zero-filled Buffer: a copy of every byte). At CopyDone, or at an ErrorResponse, it
 * gives the socket back to node-postgres with the bytes it has not read, and node-postgres reads
 * CommandComplete, the error and ReadyForQuery, calling the handlers below.
 */
class CopyOut implements pg.Submittable {
  readonly result: Promise<Buffer[]>;
  private readonly chunks: Buffer[] = [];
  private resolve!: (chunks: Buffer[]) => void;
  private reject!: (err: Error) => void;
  private stream: Duplex | null = null;
  private pgListener: DataListener | null = null;
  private readonly listener: DataListener = (chunk) => this.read(chunk);
  /** Bytes of a message header (type and length) cut by a chunk boundary. */
  private header: Buffer | null = null;
  /** Bytes left of the message being read, and its type. */
  private left = 0;
  private type = 0;
  private error: Error | null = null;

  constructor(private readonly text: string) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    const stream = connection.stream;
    const listeners = stream.listeners('data') as DataListener[];
    if (listeners.length !== 1) throw new Error('binary COPY: the connection should have one data listener');
    this.stream = stream;
    this.pgListener = listeners[0]!;
    stream.removeListener('data', this.pgListener);
    stream.on('data', this.listener);
    connection.query(this.text);
  }

  private read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - at);
        if (this.type === COPY_DATA) this.chunks.push(chunk.subarray(at, at + n));
        at += n;
        this.left -= n;
        continue;
      }
      // A message starts at `at`: an ErrorResponse goes to node-postgres unread.
      if (this.header === null && chunk[at] === ERROR_RESPONSE) return this.giveBack(chunk.subarray(at));
      const need = 5 - (this.header?.length ?? 0);
      if (chunk.length - at < need) {
        this.header = Buffer.concat([this.header ?? Buffer.alloc(0), chunk.subarray(at)]);
        return;
      }
      const head = this.header
        ? Buffer.concat([this.header, chunk.subarray(at, at + need)])
        : chunk.subarray(at, at + 5);
      at += need;
      this.header = null;
      this.type = head[0]!;
      if (this.type === ERROR_RESPONSE) return this.giveBack(Buffer.concat([head, chunk.subarray(at)]));
      this.left = head.readUInt32BE(1) - 4;
      if (this.type === COPY_DONE && this.left === 0) return this.giveBack(chunk.subarray(at));
      // CopyOutResponse, NoticeResponse, ParameterStatus and NotificationResponse are skipped.
    }
  }

  /** node-postgres reads the socket again, starting with `rest`. */
  private giveBack(rest: Buffer): void {
    const stream = this.stream!;
    const pgListener = this.pgListener!;
    stream.removeListener('data', this.listener);
    stream.on('data', pgListener);
    if (rest.length > 0) pgListener(rest);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    if (this.error) this.reject(this.error);
    else this.resolve(this.chunks);
  }

  handleError(err: Error): void {
    // A socket error ends the query here (no ReadyForQuery follows); an ErrorResponse too.
    if (this.stream && this.stream.listeners('data').includes(this.listener)) this.giveBack(Buffer.alloc(0));
    this.error = err;
    this.reject(err);
  }
}

type Field = [string, ColumnDecoder<unknown>];

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Reads across the chunks a COPY arrived in without joining them: a value inside one chunk is a
 * view into it, only a value that straddles two is copied.
 */
class ChunkReader {
  private i = 0;
  private at = 0;

  constructor(private readonly chunks: Buffer[]) {}

  /** `n` bytes: a view when they lie in one chunk, else a copy. Throws past the end. */
  take(n: number): Buffer {
    const chunk = this.current();
    if (this.at + n <= chunk.length) {
      const out = chunk.subarray(this.at, this.at + n);
      this.at += n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.current();
      const k = Math.min(n - filled, c.length - this.at);
      c.copy(out, filled, this.at, this.at + k);
      filled += k;
      this.at += k;
    }
    return out;
  }

  // The integers are read in place when they lie in one chunk (11 per row of fetch_messages):
  // a view made to read four bytes showed in the profile.
  int16(): number {
    const chunk = this.current();
    if (this.at + 2 > chunk.length) return this.take(2).readInt16BE(0);
    this.at += 2;
    return chunk.readInt16BE(this.at - 2);
  }

  int32(): number {
    const chunk = this.current();
    if (this.at + 4 > chunk.length) return this.take(4).readInt32BE(0);
    this.at += 4;
    return chunk.readInt32BE(this.at - 4);
  }

  private current(): Buffer {
    while (this.i < this.chunks.length && this.at >= this.chunks[this.i]!.length) {
      this.i++;
      this.at = 0;
    }
    const chunk = this.chunks[this.i];
    if (!chunk) throw new Error('binary COPY: the result ended inside a row');
    return chunk;
  }
}

/** Rows of a whole binary COPY result, in the chunks it arrived in (PostgreSQL docs, "COPY", Binary Format). */
export function parseBinaryCopy(data: Buffer | Buffer[], fields: Field[]): unknown[] {
  const r = new ChunkReader(Array.isArray(data) ? data : [data]);
  if (!r.take(11).equals(SIGNATURE)) throw new Error('binary COPY: no PGCOPY header');
  r.int32(); // flags
  r.take(r.int32()); // header extension
  const rows: unknown[] = [];
  for (;;) {
    const count = r.int16();
    if (count === -1) return rows;
    if (count !== fields.length) throw new Error(`binary COPY: a row of ${count} columns, ${fields.length} expected`);
    const row: Record<string, unknown> = {};
    for (const [name, decode] of fields) {
      const len = r.int32();
      row[name] = len < 0 ? null : decode(r.take(len));
    }
    rows.push(row);
  }
}

/** `$n` placeholders replaced by literals of the values (COPY takes no parameters). */
export function inlineParams(text: string, params: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i >= params.length) throw new Error(`binary COPY: no value for $${n}`);
    return sqlLiteral(params[i]);
  });
}
