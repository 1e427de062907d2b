// Tailing a directory (`ship --follow DIR`, `watch DIR`): every plain log file of it — new
// files, files that grow, rotated (renamed) files, truncated files — each complete line
// handed once to `deliver` (ship: produce to Kafka; watch: judge and store). Positions are
// saved in the checkpoint only after `deliver` resolved for the lines before them.
// gzip files are not tailed: in a rotating log directory they are compressed copies of files
// already shipped (ship them once without --follow if they are not).
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogFormat } from '../core/types.js';
import { readLogRange, type LogBatch } from '../files/index.js';
import type { TopicNames } from '../kafka/index.js';
import type { Logger, StreamMetrics } from '../observability/index.js';
import { Checkpoint, type FilePosition } from './checkpoint.js';
import { produceBatch } from './ship.js';
import type { StreamProducer } from '../kafka/producer.js';

const HEAD_BYTES = 256;
const TAIL_SCAN_BYTES = 64 * 1024;

/** Tailing a directory, whatever is done with the lines (ship produces them, watch judges and stores them). */
export interface TailOptions {
  dir: string;
  checkpointFile: string;
  format: LogFormat | 'auto';
  /** How the writer's fields map onto leakscope's (README "Log formats"). */
  profile?: import('../core/parse/index.js').LogProfile | null;
  logger: Logger;
  /** Called with each batch of complete lines, in file order; the checkpoint moves past them only when it resolves. */
  deliver: (batch: LogBatch) => Promise<void>;
  /** How often the directory is looked at; default 500 ms. */
  pollIntervalMs?: number;
  /** Lines per produced batch; default 8192. */
  batchLines?: number;
  /** Stops following (after the batch in flight is acknowledged and checkpointed). */
  signal: AbortSignal;
}

export interface FollowOptions extends Omit<TailOptions, 'deliver'> {
  producer: StreamProducer;
  topics: TopicNames;
  metrics: StreamMetrics;
}

export interface FollowTotals {
  requests: number;
  rejects: number;
  lines: number;
}

interface Candidate {
  key: string;
  path: string;
  size: number;
}

async function headHash(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    if (bytesRead < HEAD_BYTES) return '';
    return createHash('sha256').update(buf).digest('hex').slice(0, 16);
  } finally {
    await handle.close();
  }
}

/** Offset just past the last newline in [from, size), or `from` when there is none (only a partial line). */
async function lastLineEnd(path: string, from: number, size: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(TAIL_SCAN_BYTES);
    let end = size;
    while (end > from) {
      const start = Math.max(from, end - TAIL_SCAN_BYTES);
      const { bytesRead } = await handle.read(buf, 0, end - start, start);
      const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
      if (nl >= 0) return start + nl + 1;
      end = start;
    }
    return from;
  } finally {
    await handle.close();
  }
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** `ship --follow`: every complete line produced to gateway-requests (rejects to the DLQ). */
export function followDirectory(options: FollowOptions): Promise<FollowTotals> {
  return tailDirectory({ ...options, deliver: (batch) => produceBatch(batch, options) });
}

export async function tailDirectory(options: TailOptions): Promise<FollowTotals> {
  const { logger, signal } = options;
  const dir = resolve(options.dir);
  const checkpointPath = resolve(options.checkpointFile);
  const checkpoint = await Checkpoint.load(checkpointPath);
  const totals: FollowTotals = { requests: 0, rejects: 0, lines: 0 };
  const skippedGzip = new Set<string>();
  const pollMs = options.pollIntervalMs ?? 500;
  logger.info({ dir, checkpoint: checkpointPath, files: Object.keys(checkpoint.content.files).length }, 'follow started');

  while (!signal.aborted) {
    const candidates: Candidate[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      if (name.startsWith('.') || path === checkpointPath || path === `${checkpointPath}.tmp`) continue;
      let info;
      try {
        info = await stat(path, { bigint: true });
      } catch {
        continue; // removed between readdir and stat
      }
      if (!info.isFile()) continue;
      candidates.push({ key: `${info.dev}:${info.ino}`, path, size: Number(info.size) });
    }
    if (checkpoint.retain(new Set(candidates.map((c) => c.key)))) await checkpoint.save();

    for (const file of candidates) {
      if (signal.aborted) break;
      if (skippedGzip.has(file.key)) continue;
      if (file.size >= 2 && (await isGzip(file.path).catch(() => false))) {
        skippedGzip.add(file.key);
        logger.info({ path: file.path }, 'gzip file not tailed');
        continue;
      }
      await shipNewLines(file, checkpoint, options, totals);
    }
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
  logger.info({ ...totals }, 'follow stopped');
  return totals;
}

async function shipNewLines(file: Candidate, checkpoint: Checkpoint, options: TailOptions, totals: FollowTotals): Promise<void> {
  const { logger } = options;
  let pos: FilePosition = checkpoint.get(file.key) ?? { path: file.path, offset: 0, line: 0, head: '' };
  const head = await headHash(file.path).catch(() => '');
  if (file.size < pos.offset || (pos.head !== '' && head !== pos.head)) {
    logger.warn({ path: file.path, offset: pos.offset, size: file.size }, 'file truncated or replaced; reading it from the start');
    pos = { path: file.path, offset: 0, line: 0, head: '' };
  }
  pos.path = file.path;
  if (pos.head === '') pos.head = head;
  if (file.size === pos.offset) {
    checkpoint.set(file.key, pos);
    return;
  }
  const end = await lastLineEnd(file.path, pos.offset, file.size);
  if (end <= pos.offset) return; // only a partial line so far: wait for its newline
  const start = pos.offset;
  let offset = start;
  let line = pos.line;
  for await (const batch of readLogRange(file.path, {
    format: options.format,
    profile: options.profile ?? null,
    start,
    end,
    firstLineNumber: line + 1,
    batchLines: options.batchLines ?? 8192,
  })) {
    await options.deliver(batch);
    offset += batch.bytes;
    line += batch.lines;
    totals.requests += batch.requests.length;
    totals.rejects += batch.rejects.length;
    totals.lines += batch.lines;
    // Acknowledged: only now does the checkpoint move past these lines.
    checkpoint.set(file.key, { ...pos, offset: Math.min(offset, end), line });
    await checkpoint.save();
  }
  checkpoint.set(file.key, { ...pos, offset: end, line });
  await checkpoint.save();
}
