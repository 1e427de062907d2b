// How `serve` reaches its store. ClickHouse: one store for the life of the service. DuckDB:
// the file allows one writing process (a `scan`) and takes a whole-file lock, so `serve`
// opens it read-only while requests are being answered, closes it once idle for a moment
// (and at least every maxHoldMs under constant load), lets a waiting writer go first, and
// when a scan holds the file waits for it with a bounded retry. The scan side lets readers in between its batches
// (services/store/duckdb/store.ts, "readers waiting"). See "serve and scan on one store" in the README.
import { setTimeout as sleep } from 'node:timers/promises';
import { LeakscopeError } from '../core/errors.js';
import { describeLocation, openStore, type StoreLocation } from '../cli/store-option.js';
import type { AuditTrail, DisclosureStore } from '../store/types.js';
import { NdjsonAuditTrail, auditFileFor } from '../audit/index.js';
import { existsSync } from 'node:fs';
import { signalReaderWaiting, writerWaitingFile } from '../store/duckdb/index.js';

/** How long a reader about to open the file lets a waiting writer go first. */
const WRITER_FIRST_MS = 2_000;

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
  /** Idle time after which the file is released; default 20 ms. */
  idleCloseMs?: number;
  /** Longest the file is held under constant load before it is released once; default 1000 ms. */
  maxHoldMs?: number;
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

class DuckDbAccess implements StoreAccess {
  readonly description: string;
  readonly audit: AuditTrail;
  private store: DisclosureStore | null = null;
  private opening: Promise<DisclosureStore> | null = null;
  private closing: Promise<void> | null = null;
  private inFlight = 0;
  private openedMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private shut = false;
  private readonly lockWaitMs: number;
  private readonly idleCloseMs: number;
  private readonly maxHoldMs: number;
  private readonly writerWaiting: string;

  constructor(readonly location: StoreLocation & { kind: 'duckdb' }, options: DuckDbAccessOptions) {
    this.description = describeLocation(location);
    this.audit = new NdjsonAuditTrail(auditFileFor(location.path));
    this.lockWaitMs = options.lockWaitMs ?? 15_000;
    this.idleCloseMs = options.idleCloseMs ?? 20;
    this.maxHoldMs = options.maxHoldMs ?? 1_000;
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
        if (this.inFlight > 0 && Date.now() - this.openedMs > this.maxHoldMs) {
          // Held long under load: let the current requests finish and a writer in.
          await this.drain();
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
        this.openedMs = Date.now();
      }
    }
  }

  private drainWaiters: Array<() => void> = [];

  private drain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private release(): void {
    this.inFlight -= 1;
    if (this.inFlight > 0) return;
    if (this.drainWaiters.length > 0) {
      void this.closeNow().then(() => {
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) w();
      });
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
    if (store === null) return Promise.resolve();
    this.closing = store.close().catch(() => undefined).finally(() => { this.closing = null; });
    return this.closing;
  }

  /** Opens read-only; while a scan holds the file, signals it and retries until lockWaitMs. */
  private async openWithRetry(): Promise<DisclosureStore> {
    const deadline = Date.now() + this.lockWaitMs;
    const pause = 10;
    // A writer waiting for the file goes first (bounded, in case its signal was left behind by a killed scan).
    const yieldUntil = Date.now() + WRITER_FIRST_MS;
    while (existsSync(this.writerWaiting) && Date.now() < yieldUntil) await sleep(pause);
    for (;;) {
      try {
        return await openStore(this.location);
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
