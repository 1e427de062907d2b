// The scan pipeline of `leakscope scan`: log files → parse → detect → protect → store.
// The registry snapshot is built once; every batch is one store transaction, so an
// interrupted scan leaves whole batches only and a rerun completes the store (ids are
// deterministic, writes idempotent). Big plain-file inputs are parsed and judged by worker
// threads while the main thread stays the store's single writer.
import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeakscopeError } from '../core/errors.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import { buildSnapshot } from '../core/registry/index.js';
import type { LogProfile } from '../core/parse/index.js';
import type { LogFormat, Registry } from '../core/types.js';
import { readLogs } from '../files/index.js';
import { Protector } from '../store/index.js';
import type { DisclosureStore, RegistryLedger, ScanRunCounts, ScanWriter } from '../store/types.js';
import { ENC_KEY_MISMATCH, encKeyCheckToRecord, encKeyDiffers, keyCheckOf } from '../keys/index.js';
import { runPool } from './pool.js';
import { BatchAssembler, readBatchLines, type ProcessedBatch } from './process-batch.js';
import { RejectsFile } from './rejects-file.js';
import { inspectInputs, planTasks, type InputFile } from './tasks.js';

/** The counts of a scan (those of ScanRunCounts, services/store/types.ts, and faults). Counts are of this run's inputs. */
export interface ScanCounts extends ScanRunCounts {
  /**
   * Inputs refused in part: reading stopped at a fault (a gzip cut short or corrupt, a read
   * error, a format that cannot be told). What was read before it is stored, and the fault is
   * a reject of that input at the line where reading stopped.
   */
  faulted: number;
}

/** The summary of a scan: what `leakscope scan` prints. */
export interface ScanSummary extends ScanCounts {
  /** Requests the gateway did not forward (ProxySG TCP_DENIED, Squid TCP_DENIED/403, a profile's rule): counted, never stored. */
  notForwarded: number;
  /** Per input, the declared fields nobody reads (README "Log formats"), in the order met; inputs with none are left out. */
  unreadFields: Array<{ source: string; fields: string[] }>;
}

export interface ScanProgress extends ScanCounts {
  notForwarded?: number;
  /** Bytes read so far (compressed bytes for gzip). */
  bytes: number;
  /** Total bytes of the file inputs; null when stdin is read (unknown length). */
  totalBytes: number | null;
  elapsedMs: number;
}

export interface ScanOptions {
  /** Log files (plain or gzip), `-` for stdin. */
  inputs: readonly string[];
  /** `auto` detects each file's format from its first line. */
  format: LogFormat | 'auto';
  /** How the writer's fields map onto leakscope's (README "Log formats"); its syntax decides the format. */
  profile?: LogProfile | null;
  registry: Registry;
  keys: PrivacyKeys;
  /** The store: what the scan needs of it is ScanWriter (services/store/types.ts), nothing of any one store. */
  store: ScanWriter;
  /** NDJSON file the rejects are appended to; default `<store path>.rejects.ndjson`, else `leakscope.rejects.ndjson`. */
  rejectsPath?: string;
  /** Stream read for the input `-`; default process.stdin. */
  stdin?: NodeJS.ReadableStream;
  /** Called after every batch is stored. */
  onProgress?: (progress: ScanProgress) => void;
  /**
   * Worker threads for large inputs; 0 = none. Default: one per CPU. The main thread, the
   * store's writer, only hands encoded text to DuckDB, and DuckDB's own threads take about a
   * tenth of the scan's CPU (profile of a 400k-line incident mix: the main thread 90 % idle
   * with one worker), so a worker per CPU keeps every core busy; see docs/benchmarks.md.
   */
  workers?: number;
  /** Total size of the file inputs from which workers are used; default 64 MiB. */
  parallelMinBytes?: number;
  /** Size of the byte ranges a big plain file is cut into for workers; default 64 MiB. */
  rangeBytes?: number;
  /**
   * Lines per batch (= per store transaction); default 32768. DuckDB's cost per batch
   * (staging, the anti-join, the commit) is the reason: on 1.26M lines, 8192-line batches
   * took 15.5 CPU-s, 32768-line ones 13.8 s (65536: 14.2 s) for a peak RSS of 513, 709
   * (778) MB.
   */
  batchLines?: number;
  /** The worker script; default dist/scan/worker.js next to this module, when it exists (not under vitest from sources). */
  workerScript?: URL | null;
  /** Aborting stops reading; batches being written finish, and scanFiles throws an INTERRUPTED-kind error. */
  signal?: AbortSignal;
  /** Clock for the scan log; default Date.now. */
  now?: () => number;
}

const MIB = 1024 * 1024;
const DEFAULT_PARALLEL_MIN_BYTES = 64 * MIB;
const DEFAULT_RANGE_BYTES = 64 * MIB;
const DEFAULT_BATCH_LINES = 32768;
/** Batches a worker may be ahead of the writer: enough to keep it busy while one is written. */
const WORKER_MAX_IN_FLIGHT = 2;

/** Thrown by scanFiles when its signal aborted it; `summary` holds what was stored. */
export class ScanInterrupted extends Error {
  constructor(readonly summary: ScanSummary) {
    super('scan interrupted');
    this.name = 'ScanInterrupted';
  }
}

function defaultWorkerScript(): URL | null {
  const url = new URL('./worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

function defaultRejectsPath(store: DisclosureStore): string {
  const path = (store as { path?: unknown }).path;
  return typeof path === 'string' && path !== ':memory:' ? `${path}.rejects.ndjson` : 'leakscope.rejects.ndjson';
}

/** Refuses a store written with another key or region: mixing them would make lookups silently miss. */
export async function checkAndRecordMeta(store: DisclosureStore & RegistryLedger, registry: Registry, keys: PrivacyKeys): Promise<void> {
  const keyCheck = keyCheckOf(keys);
  const meta = await store.readMeta();
  if (meta.keyCheck !== null && meta.keyCheck !== keyCheck) {
    throw new LeakscopeError('KEY_INVALID',
      'the store was written with another privacy key, so its subscriber hashes would not match this scan\'s: ' +
      'use the key it was created with (its key file, or LEAKSCOPE_HASH_KEY), or scan into a new --db');
  }
  if (encKeyDiffers(meta, keys)) throw new LeakscopeError('KEY_INVALID', `${ENC_KEY_MISMATCH}, or scan into a new --db`);
  if (meta.region !== null && meta.region !== registry.region) {
    throw new LeakscopeError('REGISTRY_INVALID',
      `the store holds numbers normalised with region ${meta.region}, and this registry says region ${registry.region}: ` +
      'the same subscriber would be stored under two numbers; use a registry with the same region, or scan into a new --db');
  }
  const encKeyCheck = encKeyCheckToRecord(meta, keys);
  if (meta.keyCheck === null || meta.region === null || encKeyCheck !== undefined) {
    await store.writeMeta({ region: registry.region, keyCheck, ...(encKeyCheck === undefined ? {} : { encKeyCheck }) });
  }
  await checkRegistryVersion(store, registry);
}

/**
 * A rescan with another registry version judges stored requests again (the store replaces
 * them); a changed registry under the same version label would keep the old verdicts beside
 * new ones, so it is refused: the label is what every stored verdict names.
 */
export async function checkRegistryVersion(store: RegistryLedger, registry: Registry): Promise<void> {
  // Only what decides verdicts: names, purposes and the order of entries may change freely.
  const decisive = {
    region: registry.region,
    identityHeaders: [...registry.identityHeaders].sort(),
    partners: registry.partners
      .map((p) => [p.id, [...p.domains].sort(), [...p.identifiers].sort(), p.validFrom, p.validTo])
      .map((e) => JSON.stringify(e)).sort(),
  };
  const digest = createHash('sha256').update(JSON.stringify(decisive)).digest('hex');
  // Which requests disclose at all depends on the identity headers: a rescan under another
  // list could leave requests stored that no longer disclose, so the list may not change.
  const headers = JSON.stringify(decisive.identityHeaders);
  const knownHeaders = await store.registryDigest('\u0000identity_headers');
  if (knownHeaders === null) await store.recordRegistryDigest('\u0000identity_headers', headers);
  else if (knownHeaders !== headers) {
    throw new LeakscopeError('REGISTRY_INVALID',
      `this store was scanned with identity_headers ${knownHeaders}, and this registry has ${headers}: ` +
      'which requests disclose depends on that list, so scan into a new --db');
  }
  const known = await store.registryDigest(registry.version);
  if (known === null) await store.recordRegistryDigest(registry.version, digest);
  else if (known !== digest) {
    throw new LeakscopeError('REGISTRY_INVALID',
      `this store was scanned with a different registry labelled version "${registry.version}": ` +
      'give the changed registry a new version label (every stored verdict names its version), then scan again');
  }
  // What `serve` shows as the registry the data was judged with (GET /api/v1/registry).
  await store.recordRegistry(registry);
}

/** Should the scan use worker threads? Only for big file inputs, never with stdin. */
function workerCount(options: ScanOptions, files: readonly InputFile[], script: URL | null): number {
  // Stdin and other streams (FIFOs, `<(zcat x)`) are read once, in this thread.
  if (script === null || options.inputs.includes('-') || files.some((f) => f.stream)) return 0;
  const wanted = options.workers ?? Math.max(1, availableParallelism());
  if (wanted < 1) return 0;
  const total = files.reduce((sum, f) => sum + f.sizeBytes, 0);
  return total >= (options.parallelMinBytes ?? DEFAULT_PARALLEL_MIN_BYTES) ? wanted : 0;
}

/** Refuses an input list that cannot be scanned; the CLI calls it before it creates anything. */
export function checkInputList(inputs: readonly string[]): void {
  if (inputs.length === 0) throw new LeakscopeError('USAGE', 'no log files given (a path, or - for stdin)');
  if (inputs.filter((i) => i === '-').length > 1) throw new LeakscopeError('USAGE', 'stdin (-) can be given only once');
}

export async function scanFiles(options: ScanOptions): Promise<ScanSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const { store, registry, keys } = options;
  checkInputList(options.inputs);

  const files = await inspectInputs(options.inputs, options.profile ? options.profile.syntax : options.format);
  const rejects = new RejectsFile(options.rejectsPath ?? defaultRejectsPath(store));
  try {
    await access(dirname(rejects.path), fsConstants.W_OK);
  } catch (cause) {
    throw new LeakscopeError('INPUT_UNREADABLE', `cannot write the rejects file ${rejects.path}: its directory is missing or not writable`, { cause });
  }
  const snapshot = buildSnapshot(registry);
  await checkAndRecordMeta(store, registry, keys);

  const summary: ScanSummary = { lines: 0, requests: 0, disclosures: 0, violations: 0, rejected: 0, faulted: 0, notForwarded: 0, unreadFields: [] };
  const unreadOf = new Map<string, string[]>();
  const totalBytes = options.inputs.includes('-') || files.some((f) => f.stream) ? null : files.reduce((sum, f) => sum + f.sizeBytes, 0);
  let bytes = 0;
  const scanId = await store.beginScan(options.inputs, started);

  // Rejects first: a kill between the two leaves a reject twice in the file (harmless), never a stored batch without its rejects.
  const commit = async (batch: ProcessedBatch): Promise<void> => {
    await rejects.append(batch.rejects);
    if (batch.encoded !== null) await store.writeEncoded(batch.encoded);
    else await store.write(batch.stored ?? []);
    summary.lines += batch.lines;
    summary.requests += batch.requests;
    summary.disclosures += batch.disclosures;
    summary.violations += batch.violations;
    summary.rejected += batch.rejects.length;
    summary.faulted += batch.faults;
    summary.notForwarded += batch.notForwarded;
    if (batch.unreadFields.length > 0) {
      let fields = unreadOf.get(batch.source);
      if (fields === undefined) {
        unreadOf.set(batch.source, (fields = []));
        summary.unreadFields.push({ source: batch.source, fields });
      }
      // Byte ranges of one file each report its fields: keep each name once.
      for (const f of batch.unreadFields) if (!fields.includes(f)) fields.push(f);
    }
    bytes += batch.bytes;
    const { unreadFields: _unread, ...counts } = summary;
    options.onProgress?.({ ...counts, bytes, totalBytes, elapsedMs: now() - started });
  };

  let outcome: 'done' | 'interrupted' | 'failed' = 'failed';
  const encoding = store.batchEncoding;
  try {
    const batchLines = options.batchLines ?? DEFAULT_BATCH_LINES;
    const script = options.workerScript === undefined ? defaultWorkerScript() : options.workerScript;
    const workers = workerCount(options, files, script);
    if (workers > 0) {
      await runPool({
        script: script!,
        workers,
        init: {
          registry, hashKey: keys.hashKey, encKey: keys.encKey, format: options.format, profile: options.profile ?? null, batchLines, maxInFlight: WORKER_MAX_IN_FLIGHT, encoding,
        },
        tasks: await planTasks(files, workers, options.rangeBytes ?? DEFAULT_RANGE_BYTES),
        write: commit,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } else {
      await scanInThread(options, batchLines, new BatchAssembler(snapshot, protectorOf(keys), encoding, batchLines), commit);
    }
    outcome = options.signal?.aborted ? 'interrupted' : 'done';
  } finally {
    await rejects.close().catch(() => undefined);
    await store.finishScan(scanId, now(), outcome, summary).catch(() => undefined);
  }
  if (outcome === 'interrupted') throw new ScanInterrupted(summary);
  return summary;
}

const protectors = new WeakMap<PrivacyKeys, Protector>();
function protectorOf(keys: PrivacyKeys): Protector {
  let protector = protectors.get(keys);
  if (!protector) protectors.set(keys, (protector = new Protector(keys)));
  return protector;
}

/**
 * One thread: reads and processes the next batch while the store writes the previous one
 * (DuckDB works on its own threads), so even here both cores are used.
 */
async function scanInThread(
  options: ScanOptions,
  batchLines: number,
  assembler: BatchAssembler,
  commit: (batch: ProcessedBatch) => Promise<void>,
): Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  const write = async (processed: ProcessedBatch): Promise<void> => {
    await writing;
    writing = commit(processed);
    writing.catch(() => undefined); // handled at the next await; this only keeps Node from calling it unhandled meanwhile
  };
  try {
    const readOptions = { format: options.format, profile: options.profile ?? null, batchLines: readBatchLines(batchLines), ...(options.stdin ? { stdin: options.stdin } : {}) };
    for await (const batch of readLogs(options.inputs, readOptions)) {
      for (const processed of assembler.add(batch)) await write(processed);
      if (options.signal?.aborted) break;
    }
    // Lines read so far were judged whole: they make a complete batch, stored even when
    // interrupted (stdin cannot be read again).
    const last = assembler.flush();
    if (last !== null) await write(last);
  } finally {
    await writing;
  }
}
