// DisclosureStore on an embedded DuckDB file: the store of `leakscope scan`, `report` and
// `who-saw`. StoredDisclosures in, the aggregates of services/store/types.ts out. A writing
// store has one connection and every call is serialised on it, so a batch is never
// interleaved; a read-only store answers several queries at once (read-pool.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { open, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, listValue, type DuckDBValue } from '@duckdb/node-api';
import { LeakscopeError } from '../../core/errors.js';
import type { Channel, Registry, Verdict } from '../../core/types.js';
import { NdjsonAuditTrail, auditFileFor } from '../../audit/ndjson-trail.js';
import type {
  AffectedSubscriber, AuditTrail, EncodedBatch, RecipientAggregate, ReportAggregates, ScanOutcome, ScanRunCounts, ScanWriter, SiteAggregate, StoreMeta,
  StoredAlert, StoredDisclosure, Window,
} from '../types.js';
import {
  CREATE_MOVED, CREATE_SCHEMA, CREATE_STAGING, DROP_REJUDGED, FIND_REJUDGED, MOVE_PICKED, MOVE_STAGED, PICK_NEW, SCHEMA_VERSION, STAGED_KEYS, stageFromNdjson,
} from './schema.js';
import {
  CREATE_LAYOUT, CREATE_LAYOUT_INDEXES, CREATE_LAYOUT_STAGING, DROP_LAYOUT_INDEXES, DROP_REJUDGED_NARROW, LAYOUT_META_KEY, LAYOUT_VERSION,
  NEWER_RECIPIENTS, SET_STORE_ID, recipientGroupKey, SPREAD_NARROW_ROWS, STORE_ID_META_KEY, recipientCacheOf, RecipientCache, WHO_SAW_PARTITIONS, addRecipients, narrowGroupsOf, narrowRows, narrowRowsOf, partitionTable, type Recipient,
} from './who-saw-layout.js';
import { STAGING_ENCODING, encodeStaging } from './staging-format.js';
import { metaEntries, metaFrom } from '../meta.js';
import { ReadPool, numberColumnsInto, numberColumnsOf, type PooledConnection, type Row } from './read-pool.js';
import { WhoSawIndex, noteIndexedStore, whoSawIndexSlotOf, type IndexPartition, type WhoSawIndexSlot } from './who-saw-index.js';

export interface DuckDbStoreOptions {
  /** Open for queries only: several readers may share the file; a missing file is refused. Default false. */
  readOnly?: boolean;
  /**
   * Read-only only: keep the who-saw layout in memory and answer who-saw from it
   * (who-saw-index.ts) when the store holds at most this many narrow rows; 0 (the default)
   * never does. `serve` sets it; a CLI lookup, which asks once, does not.
   */
  whoSawIndexMaxRows?: number;
}

/** One row of the scan log; counts are null while a run is going on or after it was killed. */
export interface ScanRecord {
  id: number;
  inputs: string[];
  startedMs: number;
  finishedMs: number | null;
  outcome: ScanOutcome | 'running';
  lines: number | null;
  requests: number | null;
  disclosures: number | null;
  violations: number | null;
  rejected: number | null;
}

const HOUR_MS = 3_600_000;

/**
 * The folder a batch is staged in on its way into DuckDB: next to the store, owner-only
 * (mkdtemp makes it 0700), so it sits with the data it copies and not in a shared /tmp. A
 * folder left by a killed scan is removed here: the caller holds the store's write lock, so
 * no other scan is using one.
 */
function makeStagingDir(storePath: string): string {
  if (storePath === ':memory:') return mkdtempSync(join(tmpdir(), 'leakscope-staging-'));
  const prefix = `${basename(storePath)}.staging-`;
  const folder = dirname(storePath);
  for (const name of readdirSync(folder)) {
    if (name.startsWith(prefix)) rmSync(join(folder, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(folder, prefix));
}

/**
 * A reader (`serve`) that finds the file held by a writer (`scan`) creates this file next to
 * the store; the writer lets go of the file between two batches when it sees it, so queries
 * keep being answered during a long scan. See "serve and scan on one store" in the README.
 */
export function readersWaitingFile(path: string): string {
  return `${path}.readers-waiting`;
}

/**
 * A writer waiting for readers to let go of the file creates this one, holding its process
 * id; readers then release it promptly, and ignore it once that process is gone.
 */
export function writerWaitingFile(path: string): string {
  return `${path}.writer-waiting`;
}

async function touch(file: string, content = ''): Promise<void> {
  const handle = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW | fsConstants.O_TRUNC, 0o600).catch(() => null);
  if (content !== '') await handle?.write(content).catch(() => undefined);
  await handle?.close();
}

/** Asks the process writing `path` to let readers in (idempotent, owner-only, never follows a link). */
export async function signalReaderWaiting(path: string): Promise<void> {
  await touch(readersWaitingFile(path));
}

/** Opens (creating when needed, unless read-only) the store in a DuckDB file. */
export async function openDuckDbStore(path: string, options: DuckDbStoreOptions = {}): Promise<DuckDbStore> {
  const readOnly = options.readOnly ?? false;
  if (readOnly) {
    try {
      await stat(path);
    } catch (cause) {
      throw new LeakscopeError('INPUT_UNREADABLE',
        `no leakscope store at ${path} (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}); run \`leakscope scan\` first or pass --db`, { cause });
    }
  }
  // A writer waits a bounded time for readers (`serve` holds the file only while answering).
  const instance = await createInstance(path, readOnly, readOnly ? 0 : WRITER_LOCK_WAIT_MS);
  // The store holds keyed hashes and ciphertexts of subscribers' numbers: owner-only, like the key file.
  if (!readOnly && path !== ':memory:' && existsSync(path)) chmodSync(path, 0o600);
  let connection: DuckDBConnection | null = null;
  try {
    connection = await instance.connect();
    if (readOnly) {
      const tables = await connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'disclosures'`);
      if ((tables.getRowObjectsJS()[0]?.['n'] as number) !== 1) {
        throw new LeakscopeError('INPUT_UNREADABLE', `${path} is a DuckDB file but not a leakscope store (no disclosures table)`);
      }
    } else {
      // DuckDB checkpoints when the WAL passes 16 MB by default: every ~27k stored rows, and
      // each checkpoint compresses the last, partly filled row group again. At 128 MB a scan
      // of 1.26M lines took 15.5 CPU-s instead of 19.2 (peak RSS 513 MB instead of 554). The
      // WAL stays the durable record in between: what was committed survives a kill as before.
      await connection.run(`SET checkpoint_threshold = '128MB'`);
      for (const statement of CREATE_SCHEMA) await connection.run(statement);
      await createWriteTemps(connection);
      await fillLayout(connection);
    }
    const version = await connection.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`);
    const found = version.getRowObjectsJS()[0]?.['value'];
    if (found !== SCHEMA_VERSION) {
      throw new LeakscopeError('INPUT_UNREADABLE',
        `${path}: store schema version ${String(found ?? 'unknown')}, this leakscope reads version ${SCHEMA_VERSION}; scan the logs into a new --db`);
    }
  } catch (cause) {
    connection?.closeSync();
    instance.closeSync();
    if (cause instanceof LeakscopeError) throw cause;
    throw storeFailed(`could not prepare the store ${path}`, cause);
  }
  let recipients: RecipientCache | null = null;
  let indexed: IndexedStore | null = null;
  if (await hasLayout(connection)) {
    const id = (await connection.runAndReadAll(`SELECT value FROM meta WHERE key = '${STORE_ID_META_KEY}'`)).getRowObjectsJS()[0]?.['value'];
    // A store given the layout before it had an id keeps its recipients for this opening only.
    recipients = typeof id === 'string' ? recipientCacheOf(id) : new RecipientCache();
    const maxRows = options.whoSawIndexMaxRows ?? 0;
    if (readOnly && maxRows > 0 && typeof id === 'string' && path !== ':memory:') {
      const found = (await connection.runAndReadAll(`SELECT value FROM meta WHERE key = '${GENERATION_META_KEY}'`)).getRowObjectsJS()[0]?.['value'];
      const generation = typeof found === 'string' ? Number(found) : 0;
      indexed = { slot: whoSawIndexSlotOf(id), stamp: contentStamp(path, generation), generation, maxRows };
      noteIndexedStore(indexed.slot);
    }
  }
  const store = new DuckDbStore(path, instance, connection, readOnly, recipients, indexed);
  store.refreshWhoSawIndex();
  return store;
}

/** A read-only store's who-saw index: its slot, and the stamp of the content this opening sees. */
interface IndexedStore {
  slot: WhoSawIndexSlot;
  stamp: string;
  generation: number;
  maxRows: number;
}

/**
 * What names the content of a store opened read-only: its generation (changed by every write
 * transaction of this code), and the size and modification time of the file and of its WAL,
 * which any writer changes, one that does not know the generation included. Taken while the
 * read-only instance holds the file, so no writer can change it until it is closed.
 */
function contentStamp(path: string, generation: number): string {
  const of = (file: string) => {
    const info = statSync(file, { bigint: true, throwIfNoEntry: false });
    return info === undefined ? '-' : `${info.size}@${info.mtimeNs}`;
  };
  return `${generation}|${of(path)}|${of(`${path}.wal`)}`;
}

/** The per-connection tables a batch passes through on its way in. */
async function createWriteTemps(connection: DuckDBConnection): Promise<void> {
  for (const statement of [CREATE_STAGING, CREATE_MOVED, ...CREATE_LAYOUT_STAGING]) await connection.run(statement);
}

async function hasLayout(connection: DuckDBConnection): Promise<boolean> {
  const rows = await connection.runAndReadAll(`SELECT value FROM meta WHERE key = '${LAYOUT_META_KEY}'`);
  if (rows.getRowObjectsJS()[0]?.['value'] !== LAYOUT_VERSION) return false;
  const tables = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = 'main' AND (table_name = 'recipients' OR table_name LIKE 'who_saw_%')`);
  return (tables.getRowObjectsJS()[0]?.['n'] as number) === WHO_SAW_PARTITIONS + 1;
}

/**
 * Makes the who-saw layout (who-saw-layout.ts) hold every stored row: at once for a new
 * store; for one written before the layout existed, by copying its rows in their stored order
 * (the order the scans appended them, so lookups find the layout as later writes will leave
 * it), in one transaction, once. The old index on disclosures (subscriber_hash) is then dropped.
 */
async function fillLayout(connection: DuckDBConnection): Promise<void> {
  await connection.run(SET_STORE_ID);
  if (await hasLayout(connection)) return;
  await connection.run('BEGIN TRANSACTION');
  try {
    for (const statement of CREATE_LAYOUT) await connection.run(statement);
    for (const statement of DROP_LAYOUT_INDEXES) await connection.run(statement);
    await connection.run('DELETE FROM recipients');
    for (let i = 0; i < WHO_SAW_PARTITIONS; i++) await connection.run(`DELETE FROM ${partitionTable(i)}`);
    await connection.run(addRecipients('disclosures'));
    await connection.run(narrowRows('disclosures'));
    for (const statement of SPREAD_NARROW_ROWS) await connection.run(statement);
    for (const statement of CREATE_LAYOUT_INDEXES) await connection.run(statement);
    await connection.run('DROP INDEX IF EXISTS disclosures_subscriber');
    await nextGeneration(connection);
    await connection.run(`INSERT OR REPLACE INTO meta VALUES ('${LAYOUT_META_KEY}', '${LAYOUT_VERSION}')`);
    await connection.run('COMMIT');
  } catch (cause) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw cause;
  }
}

/** Meta key of the store's generation: a number changed by every transaction that changes what who-saw answers. */
export const GENERATION_META_KEY = 'generation';

/**
 * Changes the store's generation; called inside every write transaction that changes stored
 * disclosures or the who-saw layout (a batch's new or re-judged rows, the layout's fill), so
 * that a reader's in-memory who-saw index (who-saw-index.ts) read at another generation is never
 * used for this content.
 */
async function nextGeneration(connection: DuckDBConnection): Promise<void> {
  await connection.run(`INSERT INTO meta VALUES ('${GENERATION_META_KEY}', '1')
    ON CONFLICT (key) DO UPDATE SET value = (CAST(meta.value AS BIGINT) + 1)::VARCHAR`);
}

/** How long a writer waits for readers to let go of the file: at open, and after letting them in. */
const WRITER_LOCK_WAIT_MS = 30_000;
/** After letting readers in, the writer stays away this long before trying to take the file back. */
const READER_WINDOW_MS = 50;

/** Opens the DuckDB instance; while another process holds the file, retries for up to `lockWaitMs`. */
async function createInstance(path: string, readOnly: boolean, lockWaitMs: number): Promise<DuckDBInstance> {
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      const instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
      if (!readOnly) rmSync(writerWaitingFile(path), { force: true });
      return instance;
    } catch (cause) {
      const error = translateOpenError(path, cause);
      if (!error.retryable || Date.now() >= deadline) {
        if (!readOnly) rmSync(writerWaitingFile(path), { force: true });
        throw error;
      }
      // Tells a reader under constant load to let go (see store-access.ts in services/serve).
      if (!readOnly) await touch(writerWaitingFile(path), String(process.pid));
      await sleep(10);
    }
  }
}

function translateOpenError(path: string, cause: unknown): LeakscopeError {
  const message = (cause as Error)?.message ?? String(cause);
  if (/lock/i.test(message)) {
    return new LeakscopeError('STORE_FAILED',
      `${path} is in use by another process (a scan still running?); wait for it to finish, then try again`, { cause, retryable: true });
  }
  if (/not a valid DuckDB database|database file .* is not|Invalid Input Error/i.test(message)) {
    return new LeakscopeError('INPUT_UNREADABLE', `${path} is not a DuckDB store: ${firstLine(message)}`, { cause });
  }
  if (/No such file|cannot open|Permission denied|IO Error/i.test(message)) {
    return new LeakscopeError('INPUT_UNREADABLE', `cannot open the store ${path}: ${firstLine(message)}`, { cause });
  }
  return storeFailed(`cannot open the store ${path}`, cause);
}

function storeFailed(what: string, cause: unknown): LeakscopeError {
  return new LeakscopeError('STORE_FAILED', `${what}: ${firstLine((cause as Error)?.message ?? String(cause))}`, { cause });
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Queries a read-only store runs at the same time, each on its own connection (serve's concurrent lookups). */
const READ_CONNECTIONS = 4;

function num(value: unknown): number {
  return typeof value === 'bigint' ? Number(value) : (value as number);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A subscriber with at most this many rows in the window has them grouped in JavaScript (DuckDbStore.whoSaw). */
export const WHO_SAW_ROWS_GROUPED_HERE = 2_000;

/** Some of a subscriber's requests to one recipient: how many, first and last seen. */
interface RecipientPart extends Recipient {
  requests: number;
  firstSeen: number;
  lastSeen: number;
  /** recipientGroupKey of the part, when the cache holds it already made. */
  groupKey?: string;
}

/** Parts of one subscriber's requests grouped by (site, host, verdict, partner), as the who-saw query groups them. */
function groupRecipients(parts: Iterable<RecipientPart>): RecipientAggregate[] {
  const groups = new Map<string, RecipientAggregate & { identifiers: Channel[] }>();
  for (const p of parts) {
    const key = p.groupKey ?? recipientGroupKey(p);
    let group = groups.get(key);
    if (group === undefined) {
      group = { site: p.site, host: p.host, verdict: p.verdict, partnerId: p.partnerId, requests: 0, identifiers: [], firstSeen: p.firstSeen, lastSeen: p.lastSeen };
      groups.set(key, group);
    }
    group.requests += p.requests;
    for (const channel of p.channels) if (!group.identifiers.includes(channel)) group.identifiers.push(channel);
    if (p.firstSeen < group.firstSeen) group.firstSeen = p.firstSeen;
    if (p.lastSeen > group.lastSeen) group.lastSeen = p.lastSeen;
  }
  return [...groups.values()];
}

/** The recipient columns (site, host, verdict, partner_id, channels) of a row. */
function recipientOf(r: Row): Recipient {
  return {
    site: r['site'] as string, host: r['host'] as string, verdict: r['verdict'] as Verdict,
    partnerId: (r['partner_id'] as string | null) ?? null, channels: strings(r['channels']) as Channel[],
  };
}

function* rawParts(rows: readonly Row[]): Iterable<RecipientPart> {
  for (const r of rows) {
    const ts = num(r['ts_ms']);
    yield { ...recipientOf(r), requests: 1, firstSeen: ts, lastSeen: ts };
  }
}

/**
 * A subscriber's rows counted per rid, first and last seen: its rows name few recipients, so few
 * parts are made before grouping.
 */
class RidCounts {
  private readonly byRid = new Map<number, { requests: number; firstSeen: number; lastSeen: number }>();

  add(rid: number, ts: number): void {
    const seen = this.byRid.get(rid);
    if (seen === undefined) this.byRid.set(rid, { requests: 1, firstSeen: ts, lastSeen: ts });
    else {
      seen.requests += 1;
      if (ts < seen.firstSeen) seen.firstSeen = ts;
      if (ts > seen.lastSeen) seen.lastSeen = ts;
    }
  }

  /** The parts, with the cached recipient of each rid (every rid must be known). */
  parts(recipients: RecipientCache): RecipientPart[] {
    // Fields copied one by one: spreading the cached recipient cost several times more (measured in the README).
    const parts: RecipientPart[] = [];
    for (const [rid, seen] of this.byRid) {
      const r = recipients.get(rid)!;
      parts.push({
        site: r.site, host: r.host, verdict: r.verdict, partnerId: r.partnerId, channels: r.channels, requests: seen.requests, firstSeen: seen.firstSeen, lastSeen: seen.lastSeen,
        groupKey: recipients.groupKeyOf(rid),
      });
    }
    return parts;
  }
}

/** `ts_ms` conditions of a window [from, to); null bounds add nothing. */
function windowSql(window: Window, params: DuckDBValue[]): string {
  let sql = '';
  if (window.from !== null) {
    params.push(BigInt(window.from));
    sql += ` AND ts_ms >= $${params.length}`;
  }
  if (window.to !== null) {
    params.push(BigInt(window.to));
    sql += ` AND ts_ms < $${params.length}`;
  }
  return sql;
}

export class DuckDbStore implements ScanWriter {
  readonly batchEncoding = STAGING_ENCODING;
  /** Serialises every call on the one connection. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Owner-only directory of the batch file read_json stages from; made on the first write. */
  private stagingDir: string | null = null;
  /** Read-only: the connections calls run on concurrently, and the one the current call has. */
  private readonly pool: ReadPool | null;
  private readonly current = new AsyncLocalStorage<PooledConnection>();
  /**
   * True from beginScan to finishScan (or close) of a scan into an empty store: its batches
   * go into `disclosures` only, and the who-saw layout is filled from it once, at the end
   * (beginScan says why and how the answers stay exact meanwhile).
   */
  private layoutDeferred = false;

  constructor(
    readonly path: string,
    private instance: DuckDBInstance,
    private connection: DuckDBConnection,
    readonly readOnly: boolean,
    /**
     * The recipients of the who-saw layout (who-saw-layout.ts); null only for a store written
     * before the layout, opened read-only: who-saw then reads `disclosures`.
     */
    private readonly recipients: RecipientCache | null,
    /** The in-memory who-saw index of a read-only store, when asked for (DuckDbStoreOptions.whoSawIndexMaxRows). */
    private readonly indexed: IndexedStore | null = null,
  ) {
    this.pool = readOnly ? new ReadPool(instance, connection, READ_CONNECTIONS) : null;
  }

  /** Starts reading the who-saw index in the background unless one for this content is ready or being read. */
  refreshWhoSawIndex(): void {
    const indexed = this.indexed;
    if (indexed === null) return;
    indexed.slot.refresh(indexed.stamp, () => this.readWhoSawIndex(indexed), () => undefined);
  }

  /**
   * Reads every partition of the who-saw layout into a WhoSawIndex, one query at a time on the
   * pool (lookups keep the other connections); null when the store holds more rows than the
   * bound. Closing the store (a scan asks for the file) makes the next query fail, which ends it.
   */
  private async readWhoSawIndex(indexed: IndexedStore): Promise<WhoSawIndex | null> {
    const recipients = this.recipients!;
    const what = 'reading the who-saw index';
    const counted = await this.exclusive(what, () => this.rows(`SELECT ${Array.from({ length: WHO_SAW_PARTITIONS }, (_, i) =>
      `(SELECT count(*) FROM ${partitionTable(i)})`).join(' + ')} AS n`));
    const rows = num(counted[0]?.['n'] ?? 0);
    if (rows > indexed.maxRows) return null;
    const partitions = async function* (store: DuckDbStore): AsyncGenerator<IndexPartition> {
      for (let i = 0; i < WHO_SAW_PARTITIONS; i++) {
        const table = partitionTable(i);
        // Both orders are by the hash alone, then time: the counts and the rows line up.
        const subscribers = await store.exclusive(what, () => store.rows(`SELECT subscriber_hash, count(*)::INTEGER AS n FROM ${table}
            GROUP BY subscriber_hash ORDER BY subscriber_hash`));
        yield {
          hashes: subscribers.map((r) => r['subscriber_hash'] as string),
          counts: subscribers.map((r) => num(r['n'])),
          readRows: (rids, times, at) => store.exclusive(what, () => store.numberColumnsInto(
            `SELECT rid, ts_ms::DOUBLE AS ts_ms FROM ${table} ORDER BY subscriber_hash, ts_ms`, [rids, times], at)),
        };
      }
    };
    const index = await WhoSawIndex.read(indexed.stamp, indexed.generation, rows, partitions(this));
    // Every rid the index holds was committed with its recipient: one read of the newer ones covers them all.
    await this.exclusive(what, () => this.knowRecipientsOnce(recipients));
    const missing = index.unknownRid((rid) => recipients.get(rid) !== undefined);
    if (missing !== null) throw new LeakscopeError('STORE_FAILED', `${this.path}: a who-saw row names recipient ${missing}, which the store does not hold; the store is damaged`);
    return index;
  }

  /** Runs `task` alone on the connection (writing store) or on a free pooled connection (read-only). */
  private exclusive<T>(what: string, task: () => Promise<T>): Promise<T> {
    const closed = () => new LeakscopeError('STORE_FAILED', `${what}: the store ${this.path} is closed`, { retryable: false });
    const run = async (): Promise<T> => {
      if (this.closed) throw closed();
      try {
        return await task();
      } catch (cause) {
        if (cause instanceof LeakscopeError) throw cause;
        throw storeFailed(`${what} failed on ${this.path}`, cause);
      }
    };
    const pool = this.pool;
    if (pool !== null) return pool.closed ? Promise.reject(closed()) : pool.run((connection) => this.current.run(connection, run));
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async rows(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    const pooled = this.current.getStore();
    if (pooled !== undefined) return pooled.rows(sql, params);
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as Row[];
  }

  /** A result of number columns only, written into typed arrays from `at` (read-pool.ts, numberColumnsInto); returns the rows. */
  private async numberColumnsInto(sql: string, targets: ReadonlyArray<Int32Array | Float64Array>, at: number): Promise<number> {
    const pooled = this.current.getStore();
    const result = pooled !== undefined ? await pooled.run(sql, []) : await this.connection.run(sql);
    return numberColumnsInto(result, targets, at);
  }

  /** A result of number columns only, as arrays (read-pool.ts, numberColumnsOf). */
  private async numberColumns(sql: string, params: DuckDBValue[]): Promise<number[][]> {
    const pooled = this.current.getStore();
    if (pooled !== undefined) return pooled.numberColumns(sql, params);
    return numberColumnsOf(await this.connection.run(sql, params));
  }

  /** Fills the who-saw layout that beginScan deferred, if it did. */
  private async endDeferredLayout(): Promise<void> {
    if (!this.layoutDeferred) return;
    await fillLayout(this.connection);
    this.layoutDeferred = false;
  }

  private refuseReadOnly(what: string): void {
    if (this.readOnly) throw new LeakscopeError('INTERNAL', `${what}: the store ${this.path} was opened read-only`);
  }

  /** Idempotent by id; see writeEncoded. */
  write(batch: readonly StoredDisclosure[]): Promise<void> {
    return this.writeEncoded(encodeStaging(batch));
  }

  /**
   * One transaction per batch: the batch (NDJSON, see staging-format.ts; scan workers encode
   * it) is read into the temporary staging table by read_json on DuckDB's own threads, moved
   * without the rows already stored (as it is when it holds new rows only, STAGED_KEYS; else
   * through PICK_NEW), copied into the who-saw layout
   * (who-saw-layout.ts) unless a first scan deferred it (beginScan), and staging is emptied.
   * A failure or a kill before COMMIT leaves nothing of the batch; a batch written twice is stored once.
   */
  writeEncoded(batch: EncodedBatch): Promise<void> {
    return this.exclusive('writing a batch', async () => {
      this.refuseReadOnly('write');
      if (batch.encoding !== STAGING_ENCODING) throw new LeakscopeError('INTERNAL', `write: a batch encoded as ${batch.encoding}, this store takes ${STAGING_ENCODING}`);
      if (batch.rows === 0) return;
      await this.letReadersIn();
      if (this.stagingDir === null) this.stagingDir = makeStagingDir(this.path);
      const file = join(this.stagingDir, 'batch.ndjson');
      await writeFile(file, batch.text, { encoding: 'utf8', mode: 0o600 });
      await this.connection.run('BEGIN TRANSACTION');
      try {
        await this.connection.run(stageFromNdjson(file));
        await this.connection.run(FIND_REJUDGED);
        const [rejudged] = await this.rows(`SELECT count(*) AS n FROM temp.rejudged`);
        if (num(rejudged?.['n'] ?? 0) > 0) {
          await this.connection.run(DROP_REJUDGED);
          if (!this.layoutDeferred) for (const statement of DROP_REJUDGED_NARROW) await this.connection.run(statement);
          await this.connection.run('DELETE FROM temp.rejudged');
        }
        const [keys] = await this.rows(STAGED_KEYS);
        const staged = num(keys?.['staged'] ?? 0);
        const stored = num(keys?.['stored'] ?? 0);
        if (stored < staged) {
          // All new and each once: the staged rows are the new rows. Else PICK_NEW picks them.
          const asStaged = stored === 0 && num(keys?.['keys'] ?? 0) === staged;
          if (!asStaged) await this.connection.run(PICK_NEW);
          const source = asStaged ? 'temp.staging' : 'temp.moved';
          await this.connection.run(asStaged ? MOVE_STAGED : MOVE_PICKED);
          if (!this.layoutDeferred) {
            await this.connection.run(addRecipients(source));
            await this.connection.run(narrowRows(source));
            for (const statement of SPREAD_NARROW_ROWS) await this.connection.run(statement);
          }
          if (!asStaged) await this.connection.run('DELETE FROM temp.moved');
        }
        await this.connection.run('DELETE FROM temp.staging');
        await nextGeneration(this.connection);
        await this.connection.run('COMMIT');
      } catch (cause) {
        await this.connection.run('ROLLBACK').catch(() => undefined);
        throw cause;
      }
    });
  }

  /**
   * Between two batches: when a reader has asked (readersWaitingFile), checkpoints, releases
   * the file for READER_WINDOW_MS, then takes it back as soon as the readers let go. What was
   * committed is in the file; the staging table is made again on the new connection.
   */
  private async letReadersIn(): Promise<void> {
    if (this.path === ':memory:') return;
    const signal = readersWaitingFile(this.path);
    if (!existsSync(signal)) return;
    rmSync(signal, { force: true });
    await this.connection.run('CHECKPOINT');
    this.connection.closeSync();
    this.instance.closeSync();
    await sleep(READER_WINDOW_MS);
    this.instance = await createInstance(this.path, false, WRITER_LOCK_WAIT_MS);
    this.connection = await this.instance.connect();
    await this.connection.run(`SET checkpoint_threshold = '128MB'`);
    await createWriteTemps(this.connection);
  }

  report(window: Window & { from: number; to: number }, site?: string): Promise<ReportAggregates> {
    return this.exclusive('the report query', async () => {
      const params: DuckDBValue[] = [];
      let where = `verdict <> 'authorized'${windowSql(window, params)}`;
      if (site !== undefined) {
        params.push(site);
        where += ` AND site = $${params.length}`;
      }
      const [totals] = await this.rows(`SELECT count(*) AS violations, count(DISTINCT subscriber_hash) AS subscribers,
          count(DISTINCT site) AS sites FROM disclosures WHERE ${where}`, params);
      const siteRows = await this.rows(`SELECT site, count(*) AS violations, count(DISTINCT subscriber_hash) AS subscribers,
          min(ts_ms) AS first_seen, max(ts_ms) AS last_seen, list(DISTINCT host) AS hosts
          FROM disclosures WHERE ${where} GROUP BY site`, params);
      const channelRows = await this.rows(`SELECT DISTINCT site, channel FROM
          (SELECT site, unnest(channels) AS channel FROM disclosures WHERE ${where})`, params);
      const verdictRows = await this.rows(`SELECT site, verdict, count(*) AS n FROM disclosures WHERE ${where}
          GROUP BY site, verdict`, params);
      const timeline = await this.rows(`SELECT (ts_ms // ${HOUR_MS}) * ${HOUR_MS} AS bucket, count(*) AS violations
          FROM disclosures WHERE ${where} GROUP BY bucket ORDER BY bucket`, params);

      const sites = new Map<string, SiteAggregate & { identifiers: string[]; verdicts: Partial<Record<Verdict, number>> }>();
      for (const r of siteRows) {
        sites.set(r['site'] as string, {
          site: r['site'] as string,
          hosts: strings(r['hosts']),
          violations: num(r['violations']),
          subscribers: num(r['subscribers']),
          firstSeen: num(r['first_seen']),
          lastSeen: num(r['last_seen']),
          identifiers: [],
          verdicts: {},
        });
      }
      for (const r of channelRows) sites.get(r['site'] as string)?.identifiers.push(r['channel'] as string);
      for (const r of verdictRows) {
        const entry = sites.get(r['site'] as string);
        if (entry) entry.verdicts[r['verdict'] as Verdict] = num(r['n']);
      }
      return {
        totals: { violations: num(totals?.['violations'] ?? 0), subscribers: num(totals?.['subscribers'] ?? 0), sites: num(totals?.['sites'] ?? 0) },
        sites: [...sites.values()],
        timeline: timeline.map((r) => ({ bucket: num(r['bucket']), violations: num(r['violations']) })),
      };
    });
  }

  /**
   * One subscriber's recipients, from the who-saw layout (who-saw-layout.ts): the subscriber's
   * narrow rows (rid, ts_ms) from its partition, grouped here with the cached recipients. Most
   * subscribers have a few hundred rows at most: those are read as they are, which costs a
   * fraction of DuckDB's hash aggregate (measured in the README, "Speed of the API"); a
   * subscriber with more has them counted per rid by DuckDB.
   */
  whoSaw(subscriberHash: string, window: Window): Promise<RecipientAggregate[]> {
    const indexed = this.indexed;
    if (indexed !== null) {
      const index = indexed.slot.ready(indexed.stamp);
      if (index !== null && !this.closed && this.pool?.closed === false) {
        indexed.slot.answersFromIndex += 1;
        return Promise.resolve(this.whoSawFromIndex(index, subscriberHash, window));
      }
      indexed.slot.answersFromStore += 1;
    }
    return this.exclusive('the who-saw query', async () => {
      const recipients = this.layoutDeferred ? null : this.recipients;
      if (recipients === null) return this.whoSawFromDisclosures(subscriberHash, window);
      const params: DuckDBValue[] = [subscriberHash];
      const where = windowSql(window, params);
      const [rids = [], times = []] = await this.numberColumns(`${narrowRowsOf(subscriberHash)}${where} LIMIT ${WHO_SAW_ROWS_GROUPED_HERE + 1}`, params);
      if (rids.length <= WHO_SAW_ROWS_GROUPED_HERE) {
        await this.knowRecipients(recipients, rids);
        const counts = new RidCounts();
        for (let k = 0; k < rids.length; k++) counts.add(rids[k]!, times[k]!);
        return groupRecipients(counts.parts(recipients));
      }
      const counted = await this.rows(`${narrowGroupsOf(subscriberHash)}${where} GROUP BY rid`, params);
      await this.knowRecipients(recipients, counted.map((r) => num(r['rid'])));
      return groupRecipients(counted.map((r) => ({
        ...recipients.get(num(r['rid']))!, requests: num(r['requests']), firstSeen: num(r['first_seen']), lastSeen: num(r['last_seen']),
      })));
    });
  }

  /**
   * who-saw from the in-memory index: the same rows DuckDB would give for this content (the
   * index is used only at the stamp it was read at), grouped as the DuckDB path groups them.
   */
  private whoSawFromIndex(index: WhoSawIndex, subscriberHash: string, window: Window): RecipientAggregate[] {
    const counts = new RidCounts();
    index.forEachRow(subscriberHash, window.from, window.to, (rid, ts) => counts.add(rid, ts));
    // The index was checked at read time to name only cached recipients.
    return groupRecipients(counts.parts(this.recipients!));
  }

  /** Reads the recipients added since the cache was last filled when `rids` name one it does not hold. */
  private async knowRecipients(recipients: RecipientCache, rids: readonly number[]): Promise<void> {
    const unknown = () => rids.find((rid) => recipients.get(rid) === undefined);
    if (unknown() === undefined) return;
    await this.knowRecipientsOnce(recipients);
    // Another caller's read may have started before this one's rids were committed: read again once.
    if (unknown() !== undefined) await this.knowRecipientsOnce(recipients);
    const missing = unknown();
    if (missing !== undefined) throw new LeakscopeError('STORE_FAILED', `${this.path}: a who-saw row names recipient ${missing}, which the store does not hold; the store is damaged`);
  }

  /** One read of the recipients above the highest rid the cache holds (shared with concurrent callers). */
  private knowRecipientsOnce(recipients: RecipientCache): Promise<void> {
    return recipients.fill(async (above) => (await this.rows(NEWER_RECIPIENTS, [above])).map((r) => [num(r['rid']), recipientOf(r)]));
  }

  /** who-saw on a store written before the who-saw layout, opened read-only (its writer has not filled the layout yet). */
  private async whoSawFromDisclosures(subscriberHash: string, window: Window): Promise<RecipientAggregate[]> {
    const params: DuckDBValue[] = [subscriberHash];
    const where = `subscriber_hash = $1${windowSql(window, params)}`;
    const raw = await this.rows(`SELECT site, host, verdict, partner_id, channels, ts_ms FROM disclosures
        WHERE ${where} LIMIT ${WHO_SAW_ROWS_GROUPED_HERE + 1}`, params);
    if (raw.length <= WHO_SAW_ROWS_GROUPED_HERE) return groupRecipients(rawParts(raw));
    const rows = await this.rows(`SELECT site, host, verdict, partner_id, count(*) AS requests,
        list_distinct(flatten(list(channels))) AS identifiers, min(ts_ms) AS first_seen, max(ts_ms) AS last_seen
        FROM disclosures WHERE ${where}
        GROUP BY site, host, verdict, partner_id`, params);
    return rows.map((r) => ({
      site: r['site'] as string,
      host: r['host'] as string,
      verdict: r['verdict'] as Verdict,
      partnerId: (r['partner_id'] as string | null) ?? null,
      requests: num(r['requests']),
      identifiers: strings(r['identifiers']),
      firstSeen: num(r['first_seen']),
      lastSeen: num(r['last_seen']),
    }));
  }

  /**
   * Subscribers with a violation in the window. The ciphertext differs between scans (random
   * IV), so any one of a subscriber's is returned; '' when none was stored (no encryption key).
   */
  affected(window: Window & { from: number; to: number }): Promise<AffectedSubscriber[]> {
    return this.exclusive('the affected-subscribers query', async () => {
      const params: DuckDBValue[] = [];
      const rows = await this.rows(`SELECT subscriber_hash, coalesce(max(subscriber_enc), '') AS subscriber_enc,
          list(DISTINCT site) AS sites, min(ts_ms) AS first_seen, max(ts_ms) AS last_seen, count(*) AS violations
          FROM disclosures WHERE verdict <> 'authorized' AND subscriber_hash IS NOT NULL${windowSql(window, params)}
          GROUP BY subscriber_hash ORDER BY subscriber_hash`, params);
      return rows.map((r) => ({
        subscriberHash: r['subscriber_hash'] as string,
        subscriberEnc: r['subscriber_enc'] as string,
        sites: strings(r['sites']),
        firstSeen: num(r['first_seen']),
        lastSeen: num(r['last_seen']),
        violations: num(r['violations']),
      }));
    });
  }

  readMeta(): Promise<StoreMeta> {
    return this.exclusive('reading meta data', async () => {
      const rows = await this.rows(`SELECT key, value FROM meta WHERE key NOT LIKE 'registry_digest:%'`);
      return metaFrom((key) => (rows.find((r) => r['key'] === key)?.['value'] as string | null | undefined) ?? null);
    });
  }

  writeMeta(meta: StoreMeta): Promise<void> {
    return this.exclusive('writing meta data', async () => {
      this.refuseReadOnly('writeMeta');
      for (const [key, value] of metaEntries(meta)) await this.connection.run(`INSERT OR REPLACE INTO meta VALUES ($1, $2)`, [key, value]);
    });
  }

  maskedSubscribers(subscriberHashes: readonly string[]): Promise<Map<string, string>> {
    return this.exclusive('the masked-subscriber query', async () => {
      const out = new Map<string, string>();
      if (subscriberHashes.length === 0) return out;
      const marks = subscriberHashes.map((_, i) => `$${i + 1}`).join(', ');
      const rows = await this.rows(`SELECT subscriber_hash, max(subscriber_masked) AS masked FROM disclosures
          WHERE subscriber_hash IN (${marks}) AND subscriber_masked IS NOT NULL GROUP BY subscriber_hash`, [...subscriberHashes]);
      for (const r of rows) out.set(r['subscriber_hash'] as string, r['masked'] as string);
      return out;
    });
  }

  writeAlerts(alerts: readonly StoredAlert[]): Promise<void> {
    return this.exclusive('writing alerts', async () => {
      this.refuseReadOnly('writeAlerts');
      if (alerts.length === 0) return;
      await this.connection.run('BEGIN TRANSACTION');
      try {
        for (const a of alerts) {
          await this.connection.run('INSERT INTO alerts VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
            [a.id, a.kind, a.status, a.detected_at, a.first_seen, JSON.stringify(a)]);
        }
        await this.connection.run('COMMIT');
      } catch (cause) {
        await this.connection.run('ROLLBACK').catch(() => undefined);
        throw cause;
      }
    });
  }

  recentAlerts(options: { since?: number; limit?: number } = {}): Promise<StoredAlert[]> {
    return this.exclusive('reading alerts', async () => {
      // A store written before alerts were kept, opened read-only, has no table: no alerts.
      const exists = await this.rows(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'alerts'`);
      if (Number(exists[0]?.['n'] ?? 0) === 0) return [];
      const rows = await this.rows(`SELECT record FROM alerts WHERE detected_ms >= $1 ORDER BY detected_ms DESC, id LIMIT $2`,
        [options.since ?? 0, options.limit ?? 100]);
      return rows.map((r) => JSON.parse(String(r['record'])) as StoredAlert);
    });
  }

  alertedSites(): Promise<string[]> {
    return this.exclusive('reading alerted sites', async () => {
      // One pass over the verdict and site columns (columnar: neither the rest of the row nor the index).
      const rows = await this.rows(`SELECT DISTINCT site FROM disclosures WHERE verdict <> 'authorized' ORDER BY site`);
      return rows.map((r) => String(r['site']));
    });
  }

  /** The digest of the registry content first scanned under version label `version`, or null. */
  registryDigest(version: string): Promise<string | null> {
    return this.exclusive('reading meta data', async () => {
      const rows = await this.rows(`SELECT value FROM meta WHERE key = $1`, [`registry_digest:${version}`]);
      return (rows[0]?.['value'] as string | undefined) ?? null;
    });
  }

  recordRegistryDigest(version: string, digest: string): Promise<void> {
    return this.exclusive('writing meta data', async () => {
      this.refuseReadOnly('recordRegistryDigest');
      await this.connection.run(`INSERT OR REPLACE INTO meta VALUES ($1, $2)`, [`registry_digest:${version}`, digest]);
    });
  }

  /** Keeps the registry last scanned with, for `GET /api/v1/registry` (the registry the data was judged with). */
  recordRegistry(registry: Registry): Promise<void> {
    return this.exclusive('writing meta data', async () => {
      this.refuseReadOnly('recordRegistry');
      await this.connection.run(`INSERT OR REPLACE INTO meta VALUES ('registry', $1)`, [JSON.stringify(registry)]);
    });
  }

  /** The registry last scanned with, or null (a store scanned before it was recorded). */
  readRegistry(): Promise<Registry | null> {
    return this.exclusive('reading meta data', async () => {
      const rows = await this.rows(`SELECT value FROM meta WHERE key = 'registry'`);
      const text = rows[0]?.['value'];
      return typeof text === 'string' ? (JSON.parse(text) as Registry) : null;
    });
  }

  /**
   * Records the start of a scan run; returns its id for finishScan. Runs still marked
   * `running` were killed: this store holds the file's only write lock, so none is alive.
   */
  beginScan(inputs: readonly string[], startedMs: number): Promise<number> {
    return this.exclusive('recording a scan', async () => {
      this.refuseReadOnly('beginScan');
      await this.connection.run(`UPDATE scans SET outcome = 'interrupted' WHERE outcome = 'running'`);
      // Writing the who-saw layout batch by batch (recipients, narrow rows, 32 partition inserts
      // and their ART indexes) cost about a third of the store's write; filled once from a first
      // scan's rows it costs a fraction of that (docs/benchmarks.md, "Embedded scan", fifth
      // session). Until then the store is marked as one written before the layout: who-saw
      // reads `disclosures` (here and in readers), and a scan killed before finishScan has its
      // layout filled on the next writable open, as any such store. A store with rows keeps
      // its layout written per batch: refilling it over all its rows could cost more.
      // (Recipients too: a reader's cache of them must never see a rid renumbered.)
      const [held] = await this.rows(`SELECT (SELECT count(*) FROM disclosures) + (SELECT count(*) FROM recipients) AS n`);
      if (num(held?.['n'] ?? 0) === 0) {
        await this.connection.run(`DELETE FROM meta WHERE key = '${LAYOUT_META_KEY}'`);
        this.layoutDeferred = true;
      }
      const [row] = await this.rows(`INSERT INTO scans (inputs, started_ms, outcome) VALUES ($1, $2, 'running') RETURNING id`,
        [listValue([...inputs]), BigInt(startedMs)]);
      return num(row?.['id']);
    });
  }

  finishScan(id: number, finishedMs: number, outcome: ScanOutcome, counts: ScanRunCounts): Promise<void> {
    return this.exclusive('recording a scan', async () => {
      this.refuseReadOnly('finishScan');
      await this.endDeferredLayout();
      await this.connection.run(`UPDATE scans SET finished_ms = $1, outcome = $2, lines = $3, requests = $4, disclosures = $5,
          violations = $6, rejected = $7 WHERE id = $8`, [
        BigInt(finishedMs), outcome, BigInt(counts.lines), BigInt(counts.requests), BigInt(counts.disclosures),
        BigInt(counts.violations), BigInt(counts.rejected), BigInt(id),
      ]);
    });
  }

  /** The scan log, oldest first. */
  scans(): Promise<ScanRecord[]> {
    return this.exclusive('reading the scan log', async () => {
      const rows = await this.rows(`SELECT * FROM scans ORDER BY id`);
      const orNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
      return rows.map((r) => ({
        id: num(r['id']), inputs: strings(r['inputs']), startedMs: num(r['started_ms']), finishedMs: orNull(r['finished_ms']),
        outcome: r['outcome'] as ScanRecord['outcome'], lines: orNull(r['lines']), requests: orNull(r['requests']),
        disclosures: orNull(r['disclosures']), violations: orNull(r['violations']), rejected: orNull(r['rejected']),
      }));
    });
  }

  /** Rows in `disclosures` (and violations among them): what a scan summary is checked against. */
  count(): Promise<{ disclosures: number; violations: number }> {
    return this.exclusive('counting', async () => {
      const [row] = await this.rows(`SELECT count(*) AS disclosures, count(*) FILTER (WHERE verdict <> 'authorized') AS violations FROM disclosures`);
      return { disclosures: num(row?.['disclosures'] ?? 0), violations: num(row?.['violations'] ?? 0) };
    });
  }

  /** The audit of lookups on this store: `<db>.audit.ndjson` next to it (services/audit). */
  auditTrail(): AuditTrail {
    return new NdjsonAuditTrail(auditFileFor(this.path));
  }

  /** Checkpoints (unless read-only) and releases the file. Safe to call twice. */
  close(): Promise<void> {
    if (this.pool !== null) {
      return this.pool.close().then(() => {
        if (this.closed) return;
        this.closed = true;
        this.instance.closeSync();
      });
    }
    return this.exclusive('closing', async () => {
      if (!this.readOnly) await this.endDeferredLayout().catch(() => undefined);
      if (!this.readOnly) await this.connection.run('CHECKPOINT').catch(() => undefined);
      this.connection.closeSync();
      this.instance.closeSync();
      this.closed = true;
      if (this.stagingDir !== null) rmSync(this.stagingDir, { recursive: true, force: true });
    }).catch((err: unknown) => {
      if (this.closed && err instanceof LeakscopeError && err.code === 'STORE_FAILED') return;
      throw err;
    });
  }
}
