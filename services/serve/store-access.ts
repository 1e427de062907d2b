// How `serve` reaches its store. ClickHouse: one store for the life of the service. DuckDB:
// the file allows one writing process (a `scan`) and takes a whole-file lock, so `serve`
// opens it read-only and keeps it while it is being asked (so its caches stay warm and
// lookups run concurrently, read-pool.ts); it lets go of it as soon as a writer asks
// (`<db>.writer-waiting`, watched every WATCH_MS), once idle for a while, and when a scan
// holds the file it waits for it with a bounded retry. The scan side lets readers in between
// its batches (services/store/duckdb/store.ts, "readers waiting"). See "serve and scan on one
// store" in the README.
import { setTimeout as sleep } from 'node:timers/promises';
import { LeakscopeError } from '../core/errors.js';
import { describeLocation, openStore, type StoreLocation } from '../cli/store-option.js';
import type { AuditTrail, DisclosureStore } from '../store/types.js';
import { NdjsonAuditTrail, auditFileFor } from '../audit/index.js';
import { closeSync, constants as fsConstants, openSync, readFileSync, statSync } from 'node:fs';
import { signalReaderWaiting, writerWaitingFile } from '../store/duckdb/index.js';

/** How long a reader about to open the file lets a waiting writer go first. */
const WRITER_FIRST_MS = 2_000;
/** How often the open file is checked for a writer waiting. */
const WATCH_MS = 20;

export interface StoreAccess {
  readonly location: StoreLocation;
  /** For messages and the HTML report's footer: what `describeLocation` says, as the CLI does. */
  readonly description: string;
  /** Runs `task` with the store open. */
  use<T>(task: (store: DisclosureStore) => Promise<T>): Promise<T>;
  readonly audit: AuditTrail;
  close(): Promise<void>;
}

export interface DuckDbAccessOptions {
  /** How long a request waits for a scan to let go of the file; default 15000 ms. */
  lockWaitMs?: number;
  /** Idle time after which the file is released; default 30000 ms. */
  idleCloseMs?: number;
  /**
   * Answer who-saw from an in-memory index of the store while it holds at most this many rows
   * (services/store/duckdb/who-saw-index.ts); 0 turns it off. Default 0; `serve` passes its
   * --who-saw-index-rows.
   */
  whoSawIndexMaxRows?: number;
}

export async function openStoreAccess(location: StoreLocation, options: DuckDbAccessOptions = {}): Promise<StoreAccess> {
  if (location.kind === 'clickhouse') {
    const store = await openStore(location);
    return {
      location,
      description: describeLocation(location),
      use: (task) => task(store),
      audit: store.auditTrail(),
      close: () => store.close(),
    };
  }
  const access = new DuckDbAccess(location, options);
  // Refuse a missing or foreign file at start, as the CLI does.
  await access.use(async () => undefined);
  return access;
}

/**
 * True when a writer is waiting for the file: the signal exists and names a live process. A
 * scan that was killed leaves its signal behind; one without a process id is not a
 * leakscope writer's and is ignored too.
 */
export function writerWaits(file: string): boolean {
  let text: string;
  try {
    const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class DuckDbAccess implements StoreAccess {
  readonly description: string;
  readonly audit: AuditTrail;
  private store: DisclosureStore | null = null;
  private opening: Promise<DisclosureStore> | null = null;
  private closing: Promise<void> | null = null;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  /** A writer asked for the file: no new request gets the open store; it is closed once the running ones end. */
  private yielding = false;
  private drainWaiters: Array<() => void> = [];
  /** The file opened (device and inode): a store moved away or replaced is let go, not answered from. */
  private openedIdentity: string | null = null;
  private shut = false;
  private readonly lockWaitMs: number;
  private readonly idleCloseMs: number;
  private readonly whoSawIndexMaxRows: number;
  private readonly writerWaiting: string;

  constructor(readonly location: StoreLocation & { kind: 'duckdb' }, options: DuckDbAccessOptions) {
    this.description = describeLocation(location);
    this.audit = new NdjsonAuditTrail(auditFileFor(location.path));
    this.lockWaitMs = options.lockWaitMs ?? 15_000;
    this.idleCloseMs = options.idleCloseMs ?? 30_000;
    this.whoSawIndexMaxRows = options.whoSawIndexMaxRows ?? 0;
    this.writerWaiting = writerWaitingFile(location.path);
  }

  async use<T>(task: (store: DisclosureStore) => Promise<T>): Promise<T> {
    const store = await this.acquire();
    try {
      return await task(store);
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<DisclosureStore> {
    for (;;) {
      if (this.shut) throw new LeakscopeError('STORE_FAILED', 'the service is shutting down', { retryable: true });
      if (this.closing !== null) {
        await this.closing;
        continue;
      }
      if (this.store !== null) {
        if (!this.yielding && this.fileIdentity() !== this.openedIdentity) this.yielding = true;
        if (this.yielding) {
          await (this.inFlight === 0 ? this.closeNow() : this.drain());
          continue;
        }
        this.cancelIdle();
        this.inFlight += 1;
        return this.store;
      }
      if (this.opening === null) {
        this.opening = this.openWithRetry().finally(() => { this.opening = null; });
      }
      const store = await this.opening;
      if (this.store === null) {
        this.store = store;
        this.openedIdentity = this.fileIdentity();
        this.yielding = false;
        this.watch();
      }
    }
  }

  private fileIdentity(): string | null {
    const info = statSync(this.location.path, { throwIfNoEntry: false });
    return info === undefined ? null : `${info.dev}:${info.ino}`;
  }

  /** While the file is open: a writer's signal, or the file moved or replaced, makes the service let go of it. */
  private watch(): void {
    this.watchTimer = setInterval(() => {
      if (this.yielding || (!writerWaits(this.writerWaiting) && this.fileIdentity() === this.openedIdentity)) return;
      this.yielding = true;
      if (this.inFlight === 0) void this.closeNow();
    }, WATCH_MS);
    this.watchTimer.unref();
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private release(): void {
    this.inFlight -= 1;
    if (this.inFlight > 0) return;
    if (this.yielding) {
      void this.closeNow();
      return;
    }
    this.cancelIdle();
    this.idleTimer = setTimeout(() => { if (this.inFlight === 0) void this.closeNow(); }, this.idleCloseMs);
    this.idleTimer.unref();
  }

  private cancelIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private closeNow(): Promise<void> {
    if (this.closing !== null) return this.closing;
    const store = this.store;
    this.store = null;
    this.cancelIdle();
    if (this.watchTimer !== null) clearInterval(this.watchTimer);
    this.watchTimer = null;
    if (store === null) return Promise.resolve();
    this.closing = store.close().catch(() => undefined).finally(() => {
      this.closing = null;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    });
    return this.closing;
  }

  /** Opens read-only; while a scan holds the file, signals it and retries until lockWaitMs. */
  private async openWithRetry(): Promise<DisclosureStore> {
    const deadline = Date.now() + this.lockWaitMs;
    const pause = 10;
    // A writer waiting for the file goes first (bounded: another reader may be keeping it out).
    const yieldUntil = Date.now() + WRITER_FIRST_MS;
    while (writerWaits(this.writerWaiting) && Date.now() < yieldUntil) await sleep(pause);
    for (;;) {
      try {
        return await openStore(this.location, { whoSawIndexMaxRows: this.whoSawIndexMaxRows });
      } catch (error) {
        if (!(error instanceof LeakscopeError) || !error.retryable || Date.now() > deadline) throw error;
        await signalReaderWaiting(this.location.path);
        await sleep(pause);
      }
    }
  }

  async close(): Promise<void> {
    this.shut = true;
    this.cancelIdle();
    while (this.inFlight > 0) await sleep(10);
    await this.closeNow();
  }
}
