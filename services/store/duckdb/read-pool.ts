// The connections a read-only store answers on. One DuckDB connection runs one query at a
// time, so `serve`'s concurrent lookups would queue behind each other on it; a read-only
// instance gives each of up to `size` queries its own connection, and each connection keeps
// its statements prepared (parsing and planning a who-saw cost about a fifth of its time).
// See "Speed of the API" in the README for the figures.
import type { DuckDBConnection, DuckDBInstance, DuckDBMaterializedResult, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

/**
 * The columns of a materialised result whose columns are all numbers (INTEGER, DOUBLE, BIGINT
 * within 2^53), one array per column, read from its chunks in place: no row objects, no
 * further round trip through the thread pool per chunk as `readAll` makes. who-saw reads its
 * narrow rows this way (README, "Speed of the API").
 */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_EXACT = BigInt(Number.MIN_SAFE_INTEGER);

export function numberColumnsOf(result: DuckDBMaterializedResult): number[][] {
  const columns: number[][] = Array.from({ length: result.columnCount }, () => []);
  const chunks = result.chunkCount;
  for (let c = 0; c < chunks; c++) {
    const chunk = result.getChunk(c);
    const rows = chunk.rowCount;
    for (let j = 0; j < columns.length; j++) {
      const vector = chunk.getColumnVector(j);
      const column = columns[j]!;
      for (let k = 0; k < rows; k++) {
        const value = vector.getItem(k);
        if (typeof value === 'number') column.push(value);
        else if (typeof value === 'bigint' && value <= MAX_EXACT && value >= MIN_EXACT) column.push(Number(value));
        else throw new Error(`numberColumnsOf: column ${result.columnName(j)} holds ${value === null ? 'NULL' : typeof value}, not a number`);
      }
    }
  }
  return columns;
}

/**
 * The same as numberColumnsOf, written into typed arrays from index `at` (column j into
 * targets[j]); returns the rows. The who-saw index (who-saw-index.ts) is read this way: no
 * JavaScript array per column, no value kept per row.
 */
export function numberColumnsInto(result: DuckDBMaterializedResult, targets: ReadonlyArray<Int32Array | Float64Array>, at: number): number {
  if (result.columnCount !== targets.length) throw new Error(`numberColumnsInto: ${result.columnCount} columns for ${targets.length} arrays`);
  let k = at;
  const chunks = result.chunkCount;
  for (let c = 0; c < chunks; c++) {
    const chunk = result.getChunk(c);
    const rows = chunk.rowCount;
    if (k + rows > (targets[0]?.length ?? 0)) throw new Error(`numberColumnsInto: more rows than the arrays hold`);
    for (let j = 0; j < targets.length; j++) {
      const vector = chunk.getColumnVector(j);
      const target = targets[j]!;
      for (let r = 0; r < rows; r++) {
        const value = vector.getItem(r);
        if (typeof value !== 'number') throw new Error(`numberColumnsInto: column ${result.columnName(j)} holds ${value === null ? 'NULL' : typeof value}, not a number`);
        target[k + r] = value;
      }
    }
    k += rows;
  }
  return k - at;
}

/**
 * Statements kept prepared per connection. who-saw alone has one per partition of the
 * who-saw layout and window shape (who-saw-layout.ts: 32 × 4, twice); the rest are few.
 */
const PREPARED_PER_CONNECTION = 320;

/** One connection and the statements prepared on it. */
export class PooledConnection {
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();

  constructor(readonly connection: DuckDBConnection) {}

  async rows(sql: string, params: DuckDBValue[]): Promise<Row[]> {
    const reader = await (await this.bound(sql, params)).runAndReadAll();
    return reader.getRowObjectsJS() as Row[];
  }

  /** The materialised result of a prepared statement. */
  async run(sql: string, params: DuckDBValue[]): Promise<DuckDBMaterializedResult> {
    return (await this.bound(sql, params)).run();
  }

  /** The result's columns as numbers (numberColumnsOf): one execution, no per-chunk round trip. */
  async numberColumns(sql: string, params: DuckDBValue[]): Promise<number[][]> {
    return numberColumnsOf(await (await this.bound(sql, params)).run());
  }

  /** The statement of `sql`, prepared once per connection, bound to `params`. */
  private async bound(sql: string, params: DuckDBValue[]): Promise<DuckDBPreparedStatement> {
    let statement = this.prepared.get(sql);
    if (statement === undefined) {
      statement = await this.connection.prepare(sql);
      if (this.prepared.size >= PREPARED_PER_CONNECTION) {
        const [oldest, old] = this.prepared.entries().next().value as [string, DuckDBPreparedStatement];
        this.prepared.delete(oldest);
        old.destroySync();
      }
      this.prepared.set(sql, statement);
    }
    statement.clearBindings();
    if (params.length > 0) statement.bind(params);
    return statement;
  }

  close(): void {
    for (const statement of this.prepared.values()) statement.destroySync();
    this.prepared.clear();
    this.connection.closeSync();
  }
}

/** Up to `size` connections on one instance, made when needed; a query waits only when all are busy. */
export class ReadPool {
  private readonly idle: PooledConnection[];
  private readonly waiting: Array<(connection: PooledConnection) => void> = [];
  private made: number;
  private busy = 0;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(private readonly instance: DuckDBInstance, first: DuckDBConnection, private readonly size: number) {
    this.idle = [new PooledConnection(first)];
    this.made = 1;
  }

  async run<T>(task: (connection: PooledConnection) => Promise<T>): Promise<T> {
    const connection = await this.take();
    try {
      return await task(connection);
    } finally {
      this.give(connection);
    }
  }

  /** True once close() was called: no more queries are taken. */
  get closed(): boolean {
    return this.closing !== null;
  }

  private async take(): Promise<PooledConnection> {
    if (this.closing !== null) throw new Error('the store is being closed');
    this.busy += 1;
    const ready = this.idle.pop();
    if (ready !== undefined) return ready;
    if (this.made < this.size) {
      this.made += 1;
      try {
        return new PooledConnection(await this.instance.connect());
      } catch (cause) {
        this.made -= 1;
        this.busy -= 1;
        throw cause;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private give(connection: PooledConnection): void {
    // Each query counted itself in take(); one waiting is still counted when it gets this connection.
    this.busy -= 1;
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(connection);
      return;
    }
    this.idle.push(connection);
    if (this.busy === 0) this.drained?.();
  }

  /** Waits for the queries running, then closes every connection (the instance is the caller's). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.busy > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
      for (const connection of this.idle.splice(0)) connection.close();
    })();
    return this.closing;
  }
}
