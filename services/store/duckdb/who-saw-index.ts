// The who-saw index of a read-only store: the who-saw layout's narrow rows (who-saw-layout.ts)
// held in the serving process's memory, so that `serve` answers a who-saw without a DuckDB
// query. It is valid only for the exact store content it was read from, named by the store's
// generation (a meta value every write transaction changes, store.ts) and the file's size and
// modification time: while `serve` holds the file read-only no writer can change it, and on each
// (re)open the index is used only if that stamp is the one it was read at; otherwise DuckDB
// answers and a new index is read in the background. See "Speed of the API" in the README.
import { keptPerStore } from './who-saw-layout.js';

/**
 * Rows above which no index is built, unless the caller sets another bound: about 12 bytes per
 * row (a Float64 time, an Int32 rid) plus about 0.2 KB per subscriber, so 20 M rows ≈ 0.3 GB.
 */
export const DEFAULT_WHO_SAW_INDEX_MAX_ROWS = 20_000_000;

/** One partition as read from the store: subscribers in byte order with their row counts, then their rows. */
export interface IndexPartition {
  hashes: readonly string[];
  counts: readonly number[];
  /** Writes the partition's rows (ordered by subscriber hash, then time) into the arrays from `at`; returns how many. */
  readRows(rids: Int32Array, times: Float64Array, at: number): Promise<number>;
}

/**
 * The narrow rows of every subscriber, in memory: one block of rows ordered by subscriber, then
 * time, and each subscriber's offset into it. Rows of one subscriber are sorted by time, so a
 * window [from, to) is two binary searches, exactly as `ts_ms >= from AND ts_ms < to`.
 */
export class WhoSawIndex {
  private constructor(
    readonly stamp: string,
    readonly generation: number,
    private readonly slots: Map<string, number>,
    /** Subscriber s holds rows starts[s] ≤ k < starts[s + 1]. */
    private readonly starts: Int32Array,
    private readonly rids: Int32Array,
    private readonly times: Float64Array,
    readonly buildMs: number,
  ) {}

  get rows(): number {
    return this.rids.length;
  }

  get subscribers(): number {
    return this.slots.size;
  }

  /** Bytes held by the typed arrays, and about 150 per subscriber in the map. */
  get bytes(): number {
    return this.starts.byteLength + this.rids.byteLength + this.times.byteLength + this.slots.size * 150;
  }

  /** A rid of the index for which `known` is false, or null. */
  unknownRid(known: (rid: number) => boolean): number | null {
    // Rids are small positive numbers (recipients are numbered from 1): a byte per rid marks those checked.
    let highest = 0;
    for (const rid of this.rids) {
      if (rid < 1) return rid;
      if (rid > highest) highest = rid;
    }
    const checked = new Uint8Array(highest + 1);
    for (const rid of this.rids) {
      if (checked[rid] === 1) continue;
      checked[rid] = 1;
      if (!known(rid)) return rid;
    }
    return null;
  }

  /** Calls `each(rid, ts)` for the subscriber's rows in [from, to) (null: unbounded), in time order. */
  forEachRow(subscriberHash: string, from: number | null, to: number | null, each: (rid: number, ts: number) => void): void {
    const slot = this.slots.get(subscriberHash);
    if (slot === undefined) return;
    const start = from === null ? this.starts[slot]! : this.firstAtOrAfter(from, this.starts[slot]!, this.starts[slot + 1]!);
    const end = to === null ? this.starts[slot + 1]! : this.firstAtOrAfter(to, start, this.starts[slot + 1]!);
    const rids = this.rids;
    const times = this.times;
    for (let k = start; k < end; k++) each(rids[k]!, times[k]!);
  }

  /** The first k in [low, high) with times[k] >= t, or high. */
  private firstAtOrAfter(t: number, low: number, high: number): number {
    const times = this.times;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (times[mid]! < t) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /**
   * Reads the index from the store's partitions (`rows` in all, already counted). Rows are
   * copied straight into typed arrays: no JavaScript value per row is kept.
   */
  static async read(stamp: string, generation: number, rows: number, partitions: AsyncIterable<IndexPartition>): Promise<WhoSawIndex> {
    const started = process.hrtime.bigint();
    const rids = new Int32Array(rows);
    const times = new Float64Array(rows);
    const slots = new Map<string, number>();
    const starts: number[] = [];
    let at = 0;
    for await (const partition of partitions) {
      let expected = at;
      for (let s = 0; s < partition.hashes.length; s++) {
        slots.set(partition.hashes[s]!, starts.length);
        starts.push(expected);
        expected += partition.counts[s]!;
      }
      if (expected > rows) throw new Error(`the who-saw index: the partitions hold more rows than the ${rows} counted`);
      const read = await partition.readRows(rids, times, at);
      if (at + read !== expected) throw new Error(`the who-saw index: a partition gave ${read} rows for ${expected - at} counted`);
      at = expected;
    }
    if (at !== rows) throw new Error(`the who-saw index: ${at} rows read for ${rows} counted`);
    starts.push(at);
    return new WhoSawIndex(stamp, generation, slots, Int32Array.from(starts), rids, times, Number(process.hrtime.bigint() - started) / 1e6);
  }
}

/** What an operator sees of a store's index (serve's /metrics). */
export interface WhoSawIndexStatus {
  state: 'none' | 'building' | 'ready' | 'too_large' | 'failed';
  rows: number;
  bytes: number;
  /** The store generation the ready index was read at (-1: none ready). */
  generation: number;
  buildMs: number;
  answersFromIndex: number;
  answersFromStore: number;
}

/**
 * The index of one store (by its store id) for the life of the process: it outlives the store
 * being closed and opened again (serve lets go of the file whenever a scan asks), and is used
 * only while the stamp of the open store is the one it was read at.
 */
export class WhoSawIndexSlot {
  private index: WhoSawIndex | null = null;
  /** The stamp being read, or found too large, or whose read failed: not tried again for it. */
  private triedStamp: string | null = null;
  private state: WhoSawIndexStatus['state'] = 'none';
  answersFromIndex = 0;
  answersFromStore = 0;

  /** The index for a store opened at `stamp`, or null. */
  ready(stamp: string): WhoSawIndex | null {
    return this.index !== null && this.index.stamp === stamp ? this.index : null;
  }

  /**
   * Starts reading the index for `stamp` unless it is ready or was tried: an index of another
   * stamp is dropped at once (it can never answer again for this file), then `read` runs in the
   * background; it returns null when the store has more rows than the bound.
   */
  refresh(stamp: string, read: () => Promise<WhoSawIndex | null>, onFailure: (cause: unknown) => void): void {
    if (this.ready(stamp) !== null || this.triedStamp === stamp) return;
    this.index = null;
    this.triedStamp = stamp;
    this.state = 'building';
    read().then((index) => {
      if (this.triedStamp !== stamp) return;
      this.index = index;
      this.state = index === null ? 'too_large' : 'ready';
    }, (cause: unknown) => {
      if (this.triedStamp !== stamp) return;
      this.state = 'failed';
      // A read cut short by the store being closed (a scan asked for the file) is tried again at the next open.
      this.triedStamp = null;
      onFailure(cause);
    });
  }

  status(): WhoSawIndexStatus {
    const index = this.index;
    return {
      state: this.state, rows: index?.rows ?? 0, bytes: index?.bytes ?? 0, generation: index?.generation ?? -1, buildMs: index?.buildMs ?? 0,
      answersFromIndex: this.answersFromIndex, answersFromStore: this.answersFromStore,
    };
  }
}

/** The index slot of the store with this id, for the life of the process. */
export const whoSawIndexSlotOf = keptPerStore(() => new WhoSawIndexSlot());

/** The status of the index of the store this process opened last with an index (serve opens one store), or null. */
let lastSlot: WhoSawIndexSlot | null = null;

export function noteIndexedStore(slot: WhoSawIndexSlot): void {
  lastSlot = slot;
}

export function whoSawIndexStatus(): WhoSawIndexStatus | null {
  return lastSlot?.status() ?? null;
}
